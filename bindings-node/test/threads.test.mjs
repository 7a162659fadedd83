// Where calls run and how results cross: on the Node thread's own runtime by
// default (src/local.rs), on the shared worker threads with
// PARSEC_TEAMS_NODE_THREADS=1, in worker_threads; and large results as tapes
// (src/tape.rs + tape.js) that must equal JSON.parse of the same text.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { join } from 'node:path'
import { startMock, bigFixture, runNode, nativeOf, assertSame, NODE_THREAD_PATH, PKG, ENTRY, ValidationError } from './helpers.mjs'

const require = createRequire(import.meta.url)
const native = require('../native.js')
const { decodeTape } = require('../tape.js')

/** A member of the big fixture, with non-ASCII text, an emoji and quotes in its strings. */
const member = (id) => ({ user_id: id, email: `mémber${id}@example.com`, name: `Member ${id} \u{1F600} "q"`, is_admin: id % 3 === 0, is_owner: false, has_api_key: false, group_ids: [1 + (id % 6)], team_app_rule_id: null, created_at: '2024-01-01T00:00:00Z' })

// One scenario, run in a child process under each execution path: it prints
// what every call gave, so the two paths can be compared line by line.
const SCENARIO = `
  import { MockServer, NotFoundError, ValidationError, APITimeoutError } from ${JSON.stringify(ENTRY)}
  const mock = await MockServer.start()
  const client = mock.client({ maxRetries: 1 })
  const sym = Object.getOwnPropertySymbols(client).find((s) => s.description === 'parsec-teams.native')
  const out = { onNodeThread: client[sym].onNodeThread }
  out.get = await client.members.get({ userId: 7 })
  out.page = await client.members.list({ limit: 40 })
  out.iter = []
  for await (const m of client.members.iter({ limit: 7 })) out.iter.push(m.user_id)
  out.notFound = await client.members.get({ userId: 999 }).catch((e) => [e instanceof NotFoundError, e.status])
  out.invalid = await client.members.get({ userId: -1 }).catch((e) => [e instanceof ValidationError, e.field])
  await mock.addFault({ method: 'GET', path: '/v1/teams/*/members/*', times: 1, status: 503 })
  out.retried = await client.members.get({ userId: 2 }).withResponse().then((r) => [r.data.user_id, r.retriesTaken])
  await mock.addFault({ method: 'GET', path: '/v1/teams/*/members/*', times: 2, delayMs: 3000 })
  const t0 = Date.now()
  out.timeout = await client.members.get({ userId: 3 }, { timeoutMs: 150, maxRetries: 0 }).catch((e) => [e instanceof APITimeoutError, Date.now() - t0 < 2500])
  const ac = new AbortController()
  const pending = client.members.get({ userId: 4 }, { signal: ac.signal })
  setTimeout(() => ac.abort(), 30)
  out.aborted = await pending.catch((e) => e.name)
  out.concurrent = (await Promise.all(Array.from({ length: 200 }, (_, i) => client.members.get({ userId: (i % 50) + 1 })))).every((m, i) => m.user_id === (i % 50) + 1)
  console.log(JSON.stringify(out))
`

const runScenario = (env) => runNode(SCENARIO, { env, limitMs: 20000 })

test('calls run on the Node thread by default, offloaded to worker threads when many are in flight, and all on worker threads with PARSEC_TEAMS_NODE_THREADS=1, with the same results', async () => {
  const runs = await Promise.all([
    runScenario({ PARSEC_TEAMS_NODE_THREADS: '' }),
    // Every call offloaded: the copy of the client with its own connection pool.
    runScenario({ PARSEC_TEAMS_NODE_THREADS: '', PARSEC_TEAMS_NODE_LOCAL_MAX: '0' }),
    runScenario({ PARSEC_TEAMS_NODE_THREADS: '1' }),
  ])
  for (const r of runs) {
    assert.equal(r.signal, null, `killed: the process did not end by itself\n${r.stderr}`)
    assert.equal(r.code, 0, r.stderr)
  }
  const [a, offloaded, b] = runs.map((r) => JSON.parse(r.stdout))
  assert.equal(a.onNodeThread, true)
  assert.equal(offloaded.onNodeThread, true)
  assert.equal(b.onNodeThread, false)
  for (const o of [a, offloaded, b]) delete o.onNodeThread
  assert.deepEqual(offloaded, a)
  assert.deepEqual(a, b)
  assert.equal(a.get.user_id, 7)
  assert.equal(a.page.data.length, 40)
  assert.deepEqual(a.iter, Array.from({ length: 50 }, (_, i) => i + 1))
  assert.deepEqual(a.notFound, [true, 404])
  assert.deepEqual(a.invalid, [true, 'userId'])
  assert.deepEqual(a.retried, [2, 1])
  assert.deepEqual(a.timeout, [true, true])
  assert.equal(a.aborted, 'AbortError')
  assert.equal(a.concurrent, true)
})

test('a client works inside a worker_thread, which then ends by itself; terminating one mid-call is safe', async (t) => {
  const mock = await startMock(t)
  const source = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { Client } = require(${JSON.stringify(join(PKG, 'index.js'))})
    const client = new Client(workerData)
    ;(async () => {
      const ids = await Promise.all([1, 2, 3].map((userId) => client.members.get({ userId }).then((m) => m.user_id)))
      const page = await client.members.list({ limit: 50 })
      parentPort.postMessage({ ids, n: page.data.length })
      if (workerData.hang) client.members.get({ userId: 5 })
    })()
  `
  const config = { apiKey: mock.apiKey, teamId: mock.teamId, baseUrl: mock.baseUrl }
  const run = (hang) =>
    new Promise((resolve, reject) => {
      const w = new Worker(source, { eval: true, workerData: { ...config, hang } })
      let message
      w.on('message', (m) => {
        message = m
        if (hang) w.terminate()
      })
      w.on('error', reject)
      w.on('exit', (code) => resolve({ code, message }))
    })
  const ended = await run(false)
  assert.equal(ended.code, 0)
  assert.deepEqual(ended.message, { ids: [1, 2, 3], n: 50 })
  await mock.addFault({ method: 'GET', path: '/v1/teams/*/members/5', times: 1, delayMs: 2000 })
  const terminated = await run(true)
  assert.equal(terminated.code, 1)
  assert.deepEqual(terminated.message, { ids: [1, 2, 3], n: 50 })
  // The main thread's clients are unaffected.
  assert.equal((await mock.client().members.get({ userId: 9 })).user_id, 9)
})

test('tape_path_equals_JSON_parse_of_the_raw_bytes: large results cross as tapes (the scenario above covers the worker-thread path)', async (t) => {
  const mock = await startMock(t, { fixture: await bigFixture(600, member) })
  const client = mock.client()
  assert.equal(nativeOf(client).onNodeThread, NODE_THREAD_PATH)
  // The body as the server sent it, read without the SDK.
  const rawPage = async (offset, limit) => {
    const res = await fetch(`${mock.baseUrl}/v1/teams/${mock.teamId}/members?offset=${offset}&limit=${limit}`, { headers: { authorization: `Bearer ${mock.apiKey}` } })
    assert.equal(res.status, 200)
    return JSON.parse(Buffer.from(await res.arrayBuffer()).toString('utf8'))
  }
  const expected = await rawPage(100, 200)
  const page = await client.members.list({ offset: 100, limit: 200 })
  assertSame(page, expected)
  assert.equal(page.data.length, 200)
  assert.equal(page.data[0].name, 'Member 101 \u{1F600} "q"')
  assert.equal(page.data[0].email, 'mémber101@example.com')
  // The escape hatch, and iter's pages of items, take the same road.
  assertSame((await client.request('GET', '/v1/teams/{team_id}/members', { query: { offset: 100, limit: 200 } })).data, expected)
  const items = []
  for await (const m of client.members.iter({ limit: 200 })) items.push(m)
  const all = [...(await rawPage(0, 200)).data, ...(await rawPage(200, 200)).data, ...(await rawPage(400, 200)).data]
  assert.equal(all.length, 600)
  assertSame(items, all)
})

test('the native encoder and tape.js agree with JSON.parse, and fall back to text where they could not', () => {
  const docs = [
    '{"a":1,"b":[1,2.5,-0,1e21,12345678901234567890],"c":{"__proto__":{"x":1},"1":"one","0":"zero"}}',
    '[{"k":"v"},{"k":"w"},{"k":"x","extra":null},{"k":true}]',
    '"\\u00e9\\ud83d\\ude00 \\" \\\\ \\/ \\b\\f\\n\\r\\t"',
    '[[],{},[[[]]],{"":""}]',
    ' 3.141592653589793 ',
    '{"num":0.1,"n2":1.7976931348623157e308,"n3":5e-324,"n4":-2147483648,"n5":2147483648}',
  ]
  for (const text of docs) {
    const body = native.tapeEncode(text, 0)
    assert.ok(Array.isArray(body), `not encoded: ${text}`)
    const value = decodeTape(body[0], body[1], body[2], native.tapeShape)
    assert.deepEqual(value, JSON.parse(text))
    assert.equal(JSON.stringify(value), JSON.stringify(JSON.parse(text)))
  }
  const negZero = native.tapeEncode('[-0]', 0)
  assert.ok(Object.is(decodeTape(negZero[0], negZero[1], negZero[2], native.tapeShape)[0], -0))
  const proto = native.tapeEncode('{"__proto__":{"polluted":true}}', 0)
  const o = decodeTape(proto[0], proto[1], proto[2], native.tapeShape)
  assert.equal(Object.getPrototypeOf(o), Object.prototype)
  assert.deepEqual(Object.keys(o), ['__proto__'])
  assert.equal({}.polluted, undefined)
  // Where a tape could differ from JSON.parse, the text goes instead.
  for (const text of ['{"a":1,"a":2}', '["\\ud800"]', '[1e400]', '[1,]', '{"a":1} x']) {
    assert.equal(native.tapeEncode(text, 0), text)
  }
  // Below the size threshold, always text.
  assert.equal(native.tapeEncode('{"a":1}'), '{"a":1}')
})

test('a script on the worker-thread path also exits by itself', async () => {
  const r = await runNode(`import { MockServer } from ${JSON.stringify(ENTRY)}; const m = await MockServer.start(); await m.client().members.get({ userId: 1 }); console.log('done')`, {
    env: { PARSEC_TEAMS_NODE_THREADS: '1' },
  })
  assert.equal(r.signal, null)
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'done')
})


test('calls that fail at once settle in later turns of the event loop, so a chain of them cannot starve it', async (t) => {
  const mock = await startMock(t)
  const client = mock.client()
  let steps = 0
  let timerSawStep = -1
  setTimeout(() => (timerSawStep = steps), 0)
  for (let i = 0; i < 300; i++) {
    await assert.rejects(client.members.get({ userId: -1 }), (e) => e instanceof ValidationError && e.field === 'userId')
    steps++
  }
  assert.ok(timerSawStep >= 0 && timerSawStep < 300, `the timer ran at step ${timerSawStep}`)
})
