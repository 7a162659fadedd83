// Shared by the tests: the package under test (as a user imports it) and the mock.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

export * from '../index.mjs'
import { MockServer } from '../index.mjs'

const require = createRequire(import.meta.url)
const native = require('../native.js')
/** The core's operation table, as the generator reads it. */
export const TABLE = JSON.parse(native.operationTable())

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
