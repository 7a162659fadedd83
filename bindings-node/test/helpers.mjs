// Shared by the tests: the package under test (as a user imports it) and the mock.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export * from '../index.mjs'
import { MockServer } from '../index.mjs'

import { readFileSync } from 'node:fs'

/** The SDK's description (docs/description.json), which the generator reads: counts come from it. */
export const DESCRIPTION = JSON.parse(readFileSync(new URL('../../docs/description.json', import.meta.url), 'utf8'))
/** The operations of the description, in the core's order (the names the tests use). */
export const TABLE = DESCRIPTION.operations.map((op) => ({ ...op, http_method: op.method }))

/** Starts a mock for a test file; `after` stops it. */
export async function startMock(t, options) {
  const mock = await MockServer.start(options)
  t.after(() => mock.stop())
  return mock
}

/** A regular expression matching a path template (`/v1/teams/{team_id}/members/{user_id}`). */
export function pathPattern(template) {
  return new RegExp('^' + template.replace(/\{[a-z_]+\}/g, '[^/]+') + '$')
}

/** Asserts the mock saw exactly `n` requests (optionally filtered) and returns them. */
export async function seen(mock, n, filter) {
  const reqs = await mock.requests(filter)
  assert.equal(reqs.length, n, `expected ${n} requests, the mock saw ${JSON.stringify(reqs)}`)
  return reqs
}

/** The package directory, and its ES module entry point. */
export const PKG = join(dirname(fileURLToPath(import.meta.url)), '..')
export const ENTRY = join(PKG, 'index.mjs')

/** Runs `node` on `source`; resolves with { code, signal, stdout, stderr, ms }, killing it after `limitMs`. */
export function runNode(source, { env = {}, limitMs = 10000, cwd = PKG, file } = {}) {
  return new Promise((resolve) => {
    const started = Date.now()
    const args = file ? [file] : ['--input-type=module', '-e', source]
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, PARSEC_TEAMS_LOG: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started })
    })
  })
}

/** The default fixture with `n` members in all, the added ones made by `member(id)`. */
export async function bigFixture(n, member) {
  const base = await MockServer.start()
  const state = await base.state()
  await base.stop()
  for (let id = state.members.length + 1; id <= n; id++) state.members.push(member(id))
  delete state.quotas
  return state
}

/** Whether this run takes the default path (calls on the Node thread); `make test` runs the suite again with PARSEC_TEAMS_NODE_THREADS=1. */
export const NODE_THREAD_PATH = process.env.PARSEC_TEAMS_NODE_THREADS !== '1'

/** The native client behind a Client (the package keeps it under a symbol). */
export function nativeOf(client) {
  const sym = Object.getOwnPropertySymbols(client).find((s) => s.description === 'parsec-teams.native')
  return client[sym]
}

/** Fails unless `actual` is indistinguishable from `expected`, a JSON.parse result (keys in order, -0, prototypes). */
export function assertSame(actual, expected, at = '$') {
  if (expected === null || typeof expected !== 'object') {
    assert.ok(Object.is(actual, expected), `${at}: ${String(actual)} is not ${String(expected)}`)
    return
  }
  assert.ok(actual !== null && typeof actual === 'object', at)
  assert.equal(Array.isArray(actual), Array.isArray(expected), `${at}: array-ness`)
  assert.equal(Object.getPrototypeOf(actual), Object.getPrototypeOf(expected), `${at}: prototype`)
  const keys = Reflect.ownKeys(actual)
  assert.deepEqual(keys, Reflect.ownKeys(expected), `${at}: own keys in order`)
  for (const k of keys) {
    if (k === 'length' && Array.isArray(expected)) continue
    const a = Object.getOwnPropertyDescriptor(actual, k)
    const e = Object.getOwnPropertyDescriptor(expected, k)
    assert.deepEqual([a.writable, a.enumerable, a.configurable], [e.writable, e.enumerable, e.configurable], `${at}[${String(k)}]: attributes`)
    assertSame(a.value, e.value, `${at}[${JSON.stringify(k)}]`)
  }
}
