// Issue 10, Node side: the error tree, the options and the escape hatch come
// from the core and the description, so Node behaves as every other language.
// Each test is named after the difference it pins down.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as sdk from './helpers.mjs'
import { DESCRIPTION, startMock, seen } from './helpers.mjs'

const { Client, AdminClient, ParsecError, ValidationError, APIError, APIStatusError, NotFoundError, APIConnectionError, APIResponseError, RateLimitError } = sdk

const refusal = (field, rule) => (e) => {
  assert.ok(e instanceof ValidationError, `${e && e.name}: ${e && e.message}`)
  assert.deepEqual([e.field, e.rule], [field, rule])
  return true
}

test('error_tree_is_the_description_tree', () => {
  for (const e of DESCRIPTION.errors) {
    const Class = sdk[e.name]
    assert.equal(typeof Class, 'function', `${e.name} is exported`)
    const parent = Object.getPrototypeOf(Class)
    assert.equal(parent, e.parent === null ? Error : sdk[e.parent], `${e.name} extends ${e.parent}`)
  }
  assert.equal(Object.keys(sdk).filter((k) => typeof sdk[k] === 'function' && sdk[k].prototype instanceof Error).length, DESCRIPTION.errors.length)
})

test('status_errors_are_api_status_errors_and_connection_errors_api_errors', async (t) => {
  const mock = await startMock(t)
  const client = mock.client({ maxRetries: 0 })
  const notFound = await client.members.get({ userId: 99999 }).catch((e) => e)
  assert.ok(notFound instanceof NotFoundError && notFound instanceof APIStatusError && notFound instanceof APIError, notFound.stack)
  await mock.addFault({ method: 'GET', path: '/v1/teams/*/members/*', times: 1, status: 200, body: 'not json' })
  const undecodable = await client.members.get({ userId: 1 }).catch((e) => e)
  assert.ok(undecodable instanceof APIResponseError && undecodable instanceof APIError && !(undecodable instanceof APIStatusError), undecodable.stack)
  await seen(mock, 2)
  const refused = await new Client({ apiKey: mock.apiKey, baseUrl: 'http://127.0.0.1:1', maxRetries: 0 }).members.get({ userId: 1 }).catch((e) => e)
  assert.ok(refused instanceof APIConnectionError && refused instanceof APIError && !(refused instanceof APIStatusError), refused.stack)
})

test('error_attributes_are_pythons_in_camel_case', async (t) => {
  const mock = await startMock(t)
  const err = await mock.client({ maxRetries: 0 }).members.get({ userId: 99999 }).catch((e) => e)
  const [req] = await seen(mock, 1)
  // `message` is the service's message, as in Python; the description (status, request id) is toString().
  assert.equal(err.message, JSON.parse(err.body).message)
  assert.deepEqual(
    [err.status, err.requestId, err.retryable, err.retriesTaken, err.mayHaveBeenApplied, err.retryAfter, err.field, err.rule],
    [404, req.request_id, false, 0, false, undefined, undefined, undefined],
  )
  assert.ok(String(err).startsWith('NotFoundError: 404 ') && String(err).includes(req.request_id), String(err))
  const bad = await mock.client().members.get({ userId: 0 }).catch((e) => e)
  assert.deepEqual([bad.field, bad.rule, bad.status, bad.requestId], ['userId', 'range', undefined, undefined])
})

test('client_options_are_checked_by_the_core', async (t) => {
  const mock = await startMock(t)
  const teams = (o) => () => new Client({ apiKey: mock.apiKey, baseUrl: mock.baseUrl, ...o })
  // Node accepted both before (Python and the core refuse them).
  assert.throws(teams({ maxRetries: 101 }), refusal('maxRetries', 'range'))
  assert.throws(teams({ timeoutMs: 0 }), refusal('timeoutMs', 'range'))
  assert.throws(teams({ maxRetries: 1.5 }), refusal('maxRetries', 'type'))
  assert.throws(teams({ quotaLimit: 0 }), refusal('quotaLimit', 'range'))
  assert.throws(teams({ poolIdleTimeoutMs: 0 }), refusal('poolIdleTimeoutMs', 'range'))
  assert.throws(teams({ quotaWindowSeconds: 86401 }), refusal('quotaWindowSeconds', 'range'))
  assert.throws(teams({ quotaPacing: 'no' }), refusal('quotaPacing', 'type'))
  assert.throws(() => new AdminClient({ token: 't', baseUrl: mock.baseUrl, maxRetries: 101 }), refusal('maxRetries', 'range'))
  await assert.rejects(mock.client().members.get({ userId: 1 }, { maxRetries: 101 }), refusal('maxRetries', 'range'))
  await assert.rejects(mock.client().members.get({ userId: 1 }, { timeoutMs: 0 }), refusal('timeoutMs', 'range'))
  await seen(mock, 0)
  // The bounds themselves are taken.
  const edge = teams({ maxRetries: 100, timeoutMs: 86_400_000, quotaLimit: 1_000_000, poolIdleTimeoutMs: 1, quotaPacing: true })()
  assert.equal((await edge.members.get({ userId: 1 })).user_id, 1)
})

test('quota_pacing_off_lets_the_service_answer_429', async (t) => {
  const mock = await startMock(t, { quotaWindowSeconds: 60 })
  const client = mock.client({ quotaPacing: false, quotaWindowSeconds: 60, maxRetries: 0 })
  const limit = DESCRIPTION.options.find((o) => o.name === 'quota_limit').default
  for (let i = 0; i < limit; i++) await client.auditLog.listEvents({ limit: 1 })
  // Unpaced, call limit + 1 reaches the service and earns its 429 (paced, it would wait 60 s).
  const err = await client.auditLog.listEvents({ limit: 1 }).catch((e) => e)
  assert.ok(err instanceof RateLimitError && err.status === 429, err.stack)
  await seen(mock, limit + 1)
})

test('quota_limit_option_paces_after_that_many_calls', async (t) => {
  const WINDOW = 2
  const mock = await startMock(t, { quotaWindowSeconds: WINDOW })
  const client = mock.client({ quotaLimit: 2, quotaWindowSeconds: WINDOW })
  const started = Date.now()
  await client.auditLog.listEvents({ limit: 1 })
  await client.auditLog.listEvents({ limit: 1 })
  assert.equal(client.quotaStatus().find((q) => q.name === 'audit_log').remaining, 0)
  // The third waits for the first call's slot to free up, a window after it: the wait the SDK must take
  // (the mock's own limit is 50).
  await client.auditLog.listEvents({ limit: 1 })
  const ms = Date.now() - started
  assert.ok(ms >= WINDOW * 1000 - 50 && ms < WINDOW * 1000 + 8000, `${ms} ms`)
  await seen(mock, 3)
  assert.equal(client.quotaStatus().find((q) => q.name === 'audit_log').limit, 2)
})

test('escape_hatch_query_and_method_are_the_cores', async (t) => {
  const mock = await startMock(t)
  const client = mock.client()
  const r = await client.request('get', '/v1/teams/{team_id}/events', { query: { limit: 2, event_names: ['member.joined', 'a,b'], skipped: null, flag: false } })
  assert.equal(r.status, 200)
  const [req] = await seen(mock, 1)
  // One key, items joined by a literal comma (a comma inside an item encoded), as the typed operations send lists.
  assert.equal(req.query, 'limit=2&event_names=member.joined,a%2Cb&flag=false')
  await assert.rejects(client.request('PATCH', '/v1/teams/{team_id}/events'), refusal('method', 'enum'))
  await assert.rejects(client.request('GET', '/v1/teams/{team_id}/events', { query: { nested: { a: 1 } } }), refusal('query.nested', 'type'))
  await seen(mock, 1)
})
