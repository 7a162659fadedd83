// Every error class of the contract, raised by real server answers where the
// mock gives them and by injected faults otherwise; validation before sending.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import * as sdk from './helpers.mjs'
import { startMock, seen } from './helpers.mjs'

const {
  Client, AdminClient, ParsecError, ValidationError, APIError, APIStatusError, BadRequestError, AuthenticationError,
  PermissionDeniedError, NotFoundError, ConflictError, UnprocessableEntityError, RateLimitError, InternalServerError,
  APIConnectionError, APITimeoutError, APIResponseError,
} = sdk
const THIS_FILE = fileURLToPath(import.meta.url)
const snake = (s) => s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())
const MEMBER = '/v1/teams/*/members/*'
const LIMITED_KEY = 'tapi_1or58Uz1O6ObcpGCN9.limitedsecret'

test('error classes', async (t) => {
  const mock = await startMock(t, { keys: { [LIMITED_KEY]: ['View Groups'] } })
  const client = mock.client({ maxRetries: 0 })
  t.beforeEach(() => mock.reset())

  const expectError = async (promise, Class, check) => {
    const err = await promise.then(() => assert.fail('no error'), (e) => e)
    assert.ok(err instanceof Class, `${err && err.name} is not a ${Class.name}: ${err && err.message}`)
    assert.ok(err instanceof ParsecError && err instanceof Error)
    assert.equal(err.name, Class.name)
    if (check) check(err)
    return err
  }
  const fault = (f) => mock.addFault({ method: 'GET', path: MEMBER, times: 1, ...f })

  await t.test('NotFoundError (404 from the server) carries status, message, body, requestId, code', async () => {
    const err = await expectError(client.members.get({ userId: 99999 }), NotFoundError)
    const [req] = await seen(mock, 1)
    assert.ok(err instanceof APIError)
    assert.equal(err.status, 404)
    assert.equal(err.code, 'not_found')
    assert.equal(err.requestId, req.request_id)
    assert.ok(String(err).includes(req.request_id), 'the request id is in the description')
    assert.ok(err.stack.split('\n')[0].includes(req.request_id), 'and in the stack')
    assert.match(err.message, /no team member/)
    assert.equal(JSON.parse(err.body).message, err.message)
    assert.equal(err.method, 'GET')
    assert.equal(err.retryable, false)
  })

  await t.test('the stack trace points at the caller', async () => {
    const err = await client.members.get({ userId: 99999 }).catch((e) => e)
    assert.ok(err.stack.includes(import.meta.url) || err.stack.includes(THIS_FILE), err.stack)
    assert.ok(!err.stack.includes('errors.js'), err.stack)
  })

  await t.test('ConflictError (409 from the server)', async () => {
    await expectError(client.members.remove({ userId: 1 }), ConflictError, (e) => assert.equal(e.status, 409))
    await seen(mock, 1)
  })

  await t.test('PermissionDeniedError (key without the permission)', async () => {
    const limited = mock.client({ apiKey: LIMITED_KEY })
    await expectError(limited.members.get({ userId: 1 }), PermissionDeniedError, (e) => assert.equal(e.status, 403))
    await limited.groups.get({ groupId: 1 })
  })

  await t.test('AuthenticationError (unknown key, and unknown admin token)', async () => {
    await expectError(mock.client({ apiKey: 'tapi_1or58Uz1O6ObcpGCN9.wrong' }).members.get({ userId: 1 }), AuthenticationError, (e) => {
      assert.equal(e.status, 401)
      assert.ok(!e.message.includes('wrong') && !String(e.body).includes('wrong'), 'the key never appears in an error')
    })
    await expectError(mock.adminClient({ token: 'nope' }).teams.list(), AuthenticationError)
  })

  const statusCases = [
    [400, BadRequestError, 'bad_request'],
    [422, UnprocessableEntityError, 'unprocessable_entity'],
    [405, APIStatusError, 'api_status_error'],
    [500, InternalServerError, 'internal_server_error'],
    [409, ConflictError, 'conflict'],
  ]
  for (const [status, Class, code] of statusCases) {
    await t.test(`${Class.name} (injected ${status})`, async () => {
      await fault({ status, body: JSON.stringify({ message: `injected ${status}` }) })
      await expectError(client.members.get({ userId: 1 }), Class, (e) => {
        assert.ok(e instanceof APIError)
        assert.equal(e.status, status)
        assert.equal(e.code, code)
        assert.equal(e.message, `injected ${status}`)
      })
      await seen(mock, 1)
    })
  }

  await t.test('RateLimitError with retryAfter; a long Retry-After is not slept through', async () => {
    await fault({ status: 429, retryAfter: 120 })
    const started = Date.now()
    await expectError(mock.client().members.get({ userId: 1 }), RateLimitError, (e) => {
      assert.equal(e.status, 429)
      assert.equal(e.retryAfter, 120)
      assert.equal(e.code, 'rate_limited')
    })
    assert.ok(Date.now() - started < 5000)
    await seen(mock, 1)
  })

  await t.test('APIConnectionError (nothing listening)', async () => {
    const dead = new Client({ apiKey: mock.apiKey, baseUrl: 'http://127.0.0.1:1', maxRetries: 0 })
    await expectError(dead.members.get({ userId: 1 }), APIConnectionError, (e) => {
      assert.ok(!(e instanceof APITimeoutError))
      assert.ok(e instanceof APIError && !(e instanceof APIStatusError))
      assert.equal(e.status, undefined)
    })
  })

  await t.test('APITimeoutError is an APIConnectionError', async () => {
    await fault({ delayMs: 3000 })
    await expectError(client.members.get({ userId: 1 }, { timeoutMs: 200 }), APITimeoutError, (e) => {
      assert.ok(e instanceof APIConnectionError)
      assert.equal(e.code, 'timeout')
    })
  })

  await t.test('APIResponseError (undecodable body)', async () => {
    await fault({ status: 200, body: 'this is not json' })
    await expectError(client.members.get({ userId: 1 }), APIResponseError, (e) => assert.equal(e.status, 200))
  })

  await t.test('APIResponseError for a page (whole-body result kinds), with the request id', async () => {
    await mock.addFault({ method: 'GET', path: '/v1/teams/*/members', times: 1, status: 200, body: '{"data": [1, 2' })
    const err = await expectError(client.members.list(), APIResponseError)
    const [req] = await seen(mock, 1)
    assert.equal(err.requestId, req.request_id)
    assert.match(err.body, /data/)
  })

  await t.test('an empty page body decodes as the core says (an empty object)', async () => {
    await mock.addFault({ method: 'GET', path: '/v1/teams/*/guest-access-invite-credits', times: 1, status: 200, body: '  ' })
    assert.deepEqual(await client.guestAccess.credits(), {})
  })

  await t.test('ValidationError before anything is sent, naming the camelCase field', async () => {
    const cases = [
      [() => client.members.list({ limit: 500 }), 'limit'],
      [() => client.members.get({}), 'userId'],
      [() => client.members.get({ userId: 0 }), 'userId'],
      [() => client.groups.create({ groupName: 'x', allowConnectionsWithinGroup: true, showUserAssignedManagedHosts: true, showPersonalHosts: false }), 'groupName'],
      [() => client.invites.create({ emails: ['not-an-email'] }), 'emails'],
      [() => client.members.get({ userId: 1, bogusThing: 2 }), 'bogusThing'],
      [() => client.auditLog.listEvents({ limit: 10, cursor: 'a'.repeat(27), after: 'b'.repeat(27) }), null],
      [() => client.guestAccess.create({ hostPeerId: 'p', guestEmail: 'g@x.com', eventName: 'e', keyboard: true, mouse: true, gamepad: true, timeZone: 'UTC', startsAt: new Date(Date.now() - 3600e3), expiresAt: new Date(), message: 'm' }), 'startsAt'],
      [() => client.machines.setAssignment({ machineId: 'tm_001', userId: 3, teamGroupIds: [1] }), null],
      [() => client.members.list('not an object'), 'params'],
      [() => client.members.list({}, { maxRetries: -1 }), 'maxRetries'],
      [() => client.members.list({}, { timeoutMs: 'soon' }), 'timeoutMs'],
    ]
    for (const [call, field] of cases) {
      await expectError(call(), ValidationError, (e) => {
        assert.equal(e.code, 'validation_error')
        if (field) {
          assert.ok(e.field === field || e.field.startsWith(field + '['), `${e.field} ${e.message}`)
          // The core's message, naming the wire field (or, for JavaScript's own type checks, the Node name).
          assert.ok([e.field, snake(e.field)].some((f) => e.message.startsWith(f + ':')), e.message)
        }
      })
    }
    await seen(mock, 0)
  })

  await t.test('ValidationError from client options', () => {
    assert.throws(() => new Client({ apiKey: 'tapi_a.b', baseUrl: 'http://example.com' }), (e) => e instanceof ValidationError && e.field === 'baseUrl')
    assert.throws(() => new Client({ apiKey: 'tapi_a.b', timeoutMs: -5 }), (e) => e instanceof ValidationError && e.field === 'timeoutMs')
    assert.throws(() => new AdminClient({ token: 't', baseUrl: 'ftp://x' }), ValidationError)
    const saved = process.env.PARSEC_API_KEY
    delete process.env.PARSEC_API_KEY
    try {
      assert.throws(() => new Client({ baseUrl: mock.baseUrl }), (e) => e instanceof ValidationError && e.field === 'apiKey')
    } finally {
      if (saved !== undefined) process.env.PARSEC_API_KEY = saved
    }
  })

  await t.test('the API key never appears in inspect output, JSON or errors', async () => {
    const { inspect } = await import('node:util')
    const secret = mock.apiKey.split('.')[1]
    assert.ok(!inspect(client).includes(secret))
    assert.ok(!JSON.stringify(client).includes(secret))
    assert.ok(!inspect(mock).includes(secret))
  })
})
