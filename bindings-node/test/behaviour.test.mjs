// Pagination, retries, per-call options, cancellation, concurrency,
// `.withResponse()`, the escape hatch and the MockServer helpers.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startMock, seen, bigFixture, InternalServerError, APITimeoutError, ValidationError } from './helpers.mjs'

const MEMBERS = '/v1/teams/*/members'
const MEMBER = '/v1/teams/*/members/*'

/** A member of the big fixture. */
const member = (id) => ({ user_id: id, email: `member${id}@example.com`, name: `Member ${id}`, is_admin: false, is_owner: false, has_api_key: false, group_ids: [], team_app_rule_id: null, created_at: '2024-01-01T00:00:00Z' })

test('pagination', async (t) => {
  const mock = await startMock(t, { fixture: await bigFixture(1234, member) })
  const client = mock.client()

  await t.test('for await over more than 1,000 members, 200 a page', async () => {
    const ids = []
    for await (const m of client.members.iter()) ids.push(m.user_id)
    assert.equal(ids.length, 1234)
    assert.equal(new Set(ids).size, 1234)
    const reqs = await seen(mock, 7)
    assert.deepEqual(reqs.map((r) => r.query), [0, 200, 400, 600, 800, 1000, 1200].map((o) => `offset=${o}&limit=200`))
  })

  await t.test('iter keeps filters and a smaller page size', async () => {
    await mock.reset()
    const expected = (await mock.state()).members.filter((m) => !m.is_admin).map((m) => m.user_id)
    const ids = []
    for await (const m of client.members.iter({ isAdmin: false, limit: 150 })) {
      assert.equal(m.is_admin, false)
      ids.push(m.user_id)
    }
    assert.equal(expected.length, 1229)
    assert.deepEqual(ids, expected)
    const reqs = await seen(mock, Math.ceil(1229 / 150))
    assert.ok(reqs.every((r) => r.query.includes('is_admin=false') && r.query.includes('limit=150')), JSON.stringify(reqs[0]))
  })

  await t.test('audit log: iterEvents follows next_cursor', async () => {
    await mock.reset()
    const ids = []
    for await (const e of client.auditLog.iterEvents({ limit: 100 })) ids.push(e.id)
    assert.equal(ids.length, 320)
    assert.equal(new Set(ids).size, 320)
    const reqs = await seen(mock, 4)
    assert.ok(!reqs[0].query.includes('cursor'))
    assert.ok(reqs.slice(1).every((r) => /cursor=[0-9A-Za-z]{27}/.test(r.query)))
  })

  await t.test('breaking out of the loop stops fetching', async () => {
    await mock.reset()
    for await (const m of client.members.iter({ limit: 10 })) if (m.user_id >= 5) break
    await seen(mock, 1)
  })

  await t.test('an invalid iter argument raises in the loop, before any request', async () => {
    await mock.reset()
    await assert.rejects(async () => {
      for await (const m of client.members.iter({ limit: 0 })) assert.fail(String(m))
    }, ValidationError)
    await seen(mock, 0)
  })
})

test('retries', async (t) => {
  const mock = await startMock(t)
  const client = mock.client()
  t.beforeEach(() => mock.reset())

  await t.test('GET is retried on 503 and succeeds', async () => {
    await mock.addFault({ method: 'GET', path: MEMBER, times: 2, status: 503 })
    const r = await client.members.get({ userId: 1 }).withResponse()
    assert.equal(r.data.user_id, 1)
    assert.equal(r.retriesTaken, 2)
    assert.deepEqual((await seen(mock, 3)).map((q) => q.status), [503, 503, 200])
  })

  await t.test('GET is retried after a dropped connection and a timeout', async () => {
    await mock.addFault({ method: 'GET', path: MEMBER, times: 1, dropConnection: true })
    await mock.addFault({ method: 'GET', path: MEMBER, times: 1, delayMs: 1500 })
    const r = await client.members.get({ userId: 2 }, { timeoutMs: 500, maxRetries: 3 }).withResponse()
    assert.equal(r.data.user_id, 2)
    assert.equal(r.retriesTaken, 2)
    // Dropped (logged with status 0), answered too late (the mock logs its 200), answered.
    const reqs = await seen(mock, 3)
    assert.deepEqual(reqs.map((q) => q.status), [0, 200, 200])
    // The retry after the timeout came no sooner than the 500 ms timeout (then a jittered back-off of up to 1 s).
    const gap = reqs[2].elapsed_ms - reqs[1].elapsed_ms
    assert.ok(gap >= 490 && gap < 3000, `gap ${gap} ms`)
  })

  await t.test('a short Retry-After is waited for', async () => {
    await mock.addFault({ method: 'GET', path: MEMBER, times: 1, status: 503, retryAfter: 1 })
    const started = Date.now()
    const r = await client.members.get({ userId: 3 }).withResponse()
    const ms = Date.now() - started
    assert.equal(r.retriesTaken, 1)
    const reqs = await seen(mock, 2)
    assert.deepEqual(reqs.map((q) => q.status), [503, 200])
    const gap = reqs[1].elapsed_ms - reqs[0].elapsed_ms
    assert.ok(gap >= 990 && gap < 4000, `gap ${gap} ms`)
    assert.ok(ms >= 990 && ms < 5000, `${ms} ms`)
  })

  await t.test('POST is not retried after a 5xx; the error says it may have been applied', async () => {
    await mock.addFault({ method: 'POST', path: '/v1/teams/*/groups', times: 1, status: 503 })
    const err = await client.groups.create({ groupName: 'Retry me', allowConnectionsWithinGroup: true, showUserAssignedManagedHosts: false, showPersonalHosts: false }).catch((e) => e)
    assert.ok(err instanceof InternalServerError)
    assert.equal(err.mayHaveBeenApplied, true)
    assert.equal(err.retriesTaken, 0)
    await seen(mock, 1)
  })

  await t.test('POST is retried after a 429 (the server surely did not act)', async () => {
    await mock.addFault({ method: 'POST', path: '/v1/teams/*/groups', times: 1, status: 429, retryAfter: 0 })
    const g = await client.groups.create({ groupName: 'After 429', allowConnectionsWithinGroup: false, showUserAssignedManagedHosts: false, showPersonalHosts: false })
    assert.equal(g.name, 'After 429')
    const reqs = await seen(mock, 2)
    assert.equal(reqs[0].status, 429)
    assert.ok(reqs[1].status >= 200 && reqs[1].status < 300)
  })

  await t.test('maxRetries: 0 per call turns retries off', async () => {
    await mock.addFault({ method: 'GET', path: MEMBERS, times: 1, status: 503 })
    await assert.rejects(client.members.list({}, { maxRetries: 0 }), InternalServerError)
    await seen(mock, 1)
  })

  await t.test('maxRetries on the client', async () => {
    await mock.addFault({ method: 'GET', path: MEMBERS, times: 5, status: 500 })
    const err = await mock.client({ maxRetries: 1 }).members.list().catch((e) => e)
    assert.ok(err instanceof InternalServerError)
    assert.equal(err.retriesTaken, 1)
    await seen(mock, 2)
  })

  await t.test('timeoutMs per call', async () => {
    await mock.addFault({ method: 'GET', path: MEMBER, times: 1, delayMs: 2000 })
    await assert.rejects(client.members.get({ userId: 1 }, { timeoutMs: 200, maxRetries: 0 }), APITimeoutError)
  })
})

test('cancellation with AbortSignal', async (t) => {
  const mock = await startMock(t)
  const client = mock.client()
  t.beforeEach(() => mock.reset())

  await t.test('abort mid-request rejects at once with the signal reason', async () => {
    await mock.addFault({ method: 'GET', path: MEMBER, times: 1, delayMs: 5000 })
    const ac = new AbortController()
    const started = Date.now()
    setTimeout(() => ac.abort(), 100)
    const err = await client.members.get({ userId: 1 }, { signal: ac.signal }).catch((e) => e)
    assert.equal(err.name, 'AbortError')
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`)
    // The client is still usable and the fault was consumed by the aborted request.
    assert.equal((await client.members.get({ userId: 1 })).user_id, 1)
  })

  await t.test('a custom reason and AbortSignal.timeout', async () => {
    await mock.addFault({ method: 'GET', path: MEMBER, times: 2, delayMs: 5000 })
    const ac = new AbortController()
    setTimeout(() => ac.abort(new Error('user gave up')), 50)
    await assert.rejects(client.members.get({ userId: 1 }, { signal: ac.signal }), /user gave up/)
    await assert.rejects(client.members.get({ userId: 1 }, { signal: AbortSignal.timeout(100) }), (e) => e.name === 'TimeoutError')
  })

  await t.test('an already aborted signal sends nothing', async () => {
    const ac = new AbortController()
    ac.abort()
    await assert.rejects(client.members.list({}, { signal: ac.signal }), (e) => e.name === 'AbortError')
    await seen(mock, 0)
  })

  await t.test('abort stops an iteration', async () => {
    await mock.addFault({ method: 'GET', path: MEMBERS, times: 1, delayMs: 5000 })
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 100)
    await assert.rejects(async () => {
      for await (const m of client.members.iter({}, { signal: ac.signal })) assert.fail(String(m))
    }, (e) => e.name === 'AbortError')
  })
})

test('1,000 concurrent calls on one client', async (t) => {
  const mock = await startMock(t)
  const client = mock.client()
  const ids = Array.from({ length: 1000 }, (_, i) => (i % 50) + 1)
  const results = await Promise.all(ids.map((userId) => client.members.get({ userId }).withResponse()))
  assert.deepEqual(results.map((r) => r.data.user_id), ids)
  const reqs = await seen(mock, 1000)
  assert.equal(new Set(reqs.map((r) => r.request_id)).size, 1000)
  assert.deepEqual(new Set(results.map((r) => r.requestId)), new Set(reqs.map((r) => r.request_id)))
})

test('withResponse, escape hatch, quotas, mock helpers', async (t) => {
  const mock = await startMock(t)
  const client = mock.client()
  t.beforeEach(() => mock.reset())

  await t.test('withResponse gives status, headers, request id and the result', async () => {
    const p = client.groups.get({ groupId: 1 })
    const r = await p.withResponse()
    assert.equal(r.status, 200)
    assert.equal(r.headers.get('x-request-id'), r.requestId)
    assert.match(r.headers.get('content-type'), /json/)
    assert.deepEqual(r.data, await p)
    const [req] = await seen(mock, 1)
    assert.equal(req.request_id, r.requestId)
  })

  await t.test('a 204 resolves with null', async () => {
    const r = await client.groups.delete({ groupId: 6 }).withResponse()
    assert.ok(r.status >= 200 && r.status < 300)
    assert.equal(r.data, null)
  })

  await t.test('request(): the escape hatch', async () => {
    const r = await client.request('GET', '/v1/teams/{team_id}/members', { query: { offset: 0, limit: 2, is_admin: true } })
    assert.equal(r.status, 200)
    assert.equal(r.data.data.length, 2)
    const [req] = await seen(mock, 1)
    assert.equal(req.path, `/v1/teams/${mock.teamId}/members`)
    assert.match(req.query, /limit=2/)
  })

  await t.test('quotaStatus counts paced calls', async () => {
    const before = client.quotaStatus().find((q) => q.name === 'invites_create')
    assert.equal(before.remaining, before.limit)
    await client.invites.create({ emails: ['quota1@example.com'] })
    await client.invites.create({ emails: ['quota2@example.com'] })
    const after = client.quotaStatus().find((q) => q.name === 'invites_create')
    assert.equal(after.remaining, before.limit - 2)
    assert.ok(after.refillsInMs > 0)
  })

  await t.test('mock helpers: credits, join, clock', async () => {
    await mock.setCredits(3)
    assert.equal((await client.guestAccess.credits()).balance, 3)
    await mock.join('new.hire1@example.com')
    const page = await client.members.list({ email: 'new.hire1@example.com' })
    assert.equal(page.data.length, 1)
    const { now } = await mock.advanceClock(3600)
    assert.ok(Date.parse(now) > Date.now() + 3000e3)
  })
})
