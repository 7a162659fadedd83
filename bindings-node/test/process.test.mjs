// The package as a process sees it: exiting on its own, logging from the
// environment, the generated files being current, the TypeScript types, and
// the packed tarball installed into an empty directory.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, rmSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PKG, ENTRY, runNode } from './helpers.mjs'

const ROOT = join(PKG, '..')

test('a script that used a client exits by itself', async () => {
  const r = await runNode(`
    import { MockServer } from ${JSON.stringify(ENTRY)}
    const mock = await MockServer.start()
    const client = mock.client()
    await client.members.list({ limit: 5 })
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.members.get({ userId: (i % 50) + 1 })))
    for await (const m of client.members.iter({ limit: 10 })) { if (m.user_id > 15) break }
    const ac = new AbortController(); ac.abort()
    const aborted = await client.members.get({ userId: 1 }, { signal: ac.signal }).then(() => 'resolved', (e) => e.name)
    if (aborted !== 'AbortError') throw new Error('an aborted call gave ' + aborted)
    console.log('done')
    // neither the mock nor the client is closed: nothing may keep Node alive
  `)
  assert.equal(r.signal, null, `killed after ${r.ms} ms: the event loop was kept alive\n${r.stderr}`)
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'done')
  assert.ok(r.ms < 8000, `${r.ms} ms`)
})

test('a pending request keeps the process alive until it settles', async () => {
  const r = await runNode(`
    import { MockServer } from ${JSON.stringify(ENTRY)}
    const mock = await MockServer.start()
    await mock.addFault({ method: 'GET', path: '/v1/teams/*/members/*', times: 1, delayMs: 700 })
    mock.client().members.get({ userId: 3 }).then((m) => console.log('got', m.user_id))
  `)
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'got 3')
})

test('PARSEC_TEAMS_LOG turns logging on without code, never with the key', async () => {
  const script = `
    import { MockServer } from ${JSON.stringify(ENTRY)}
    const mock = await MockServer.start()
    await mock.addFault({ method: 'GET', path: '/v1/teams/*/members/*', times: 1, status: 503 })
    await mock.client().members.get({ userId: 1 })
    console.log(mock.apiKey.split('.')[1])
  `
  const on = await runNode(script, { env: { PARSEC_TEAMS_LOG: 'debug' } })
  assert.equal(on.code, 0, on.stderr)
  const secret = on.stdout.trim()
  assert.ok(secret.length > 10)
  assert.match(on.stderr, /parsec_teams/)
  assert.match(on.stderr, /status=503/)
  assert.match(on.stderr, /retrying/)
  assert.ok(!on.stderr.includes(secret), 'the key is never logged')
  const off = await runNode(script)
  assert.equal(off.code, 0)
  assert.equal(off.stderr, '')
})

test('generated files are current (codegen/generate.mjs --check)', () => {
  const r = spawnSync(process.execPath, [join(PKG, 'codegen', 'generate.mjs'), '--check'], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr + r.stdout)
})

test('tsc --strict --noEmit passes on the examples and rejects wrong calls', () => {
  const tsc = join(PKG, 'node_modules', 'typescript', 'bin', 'tsc')
  for (const project of [join(ROOT, 'examples', 'node', 'tsconfig.json'), join(PKG, 'test', 'types', 'tsconfig.json')]) {
    const r = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' })
    assert.equal(r.status, 0, `${project}\n${r.stdout}${r.stderr}`)
  }
})

test('npm pack, then npm install into an empty directory: require and import both work', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parsec-teams-pack-'))
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
    const pack = spawnSync(npm, ['pack', '--pack-destination', dir], { cwd: PKG, encoding: 'utf8' })
    assert.equal(pack.status, 0, pack.stderr)
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'))
    assert.match(tgz, /^parsec-teams-\d+\.\d+\.\d+\.tgz$/)
    const app = join(dir, 'app')
    spawnSync('mkdir', [app])
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
    const install = spawnSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tgz)], { cwd: app, encoding: 'utf8' })
    assert.equal(install.status, 0, install.stderr)
    writeFileSync(join(app, 'use.cjs'), `
      const { MockServer, Client, NotFoundError } = require('parsec-teams')
      ;(async () => {
        const mock = await MockServer.start()
        const client = new Client({ apiKey: mock.apiKey, baseUrl: mock.baseUrl })
        const page = await client.members.list({ limit: 2 })
        const err = await client.members.get({ userId: 424242 }).catch((e) => e)
        console.log('cjs', page.data.length, err instanceof NotFoundError, require.resolve('parsec-teams').includes('node_modules'))
        await mock.stop()
      })()
    `)
    writeFileSync(join(app, 'use.mjs'), `
      import { MockServer, AdminClient, ValidationError } from 'parsec-teams'
      import sdk from 'parsec-teams'
      const mock = await MockServer.start()
      const admin = new AdminClient({ token: mock.adminToken, baseUrl: mock.baseUrl })
      const teams = await admin.teams.list()
      const err = await mock.client().members.list({ limit: 0 }).catch((e) => e)
      console.log('esm', teams.length > 0, err instanceof ValidationError, err instanceof sdk.ValidationError)
      await mock.stop()
    `)
    const cjs = await runNode(null, { cwd: app, file: join(app, 'use.cjs') })
    assert.equal(cjs.code, 0, cjs.stderr)
    assert.equal(cjs.stdout.trim(), 'cjs 2 true true')
    const esm = await runNode(null, { cwd: app, file: join(app, 'use.mjs') })
    assert.equal(esm.code, 0, esm.stderr)
    assert.equal(esm.stdout.trim(), 'esm true true true')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
