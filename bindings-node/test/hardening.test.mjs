// Findings of the hardening review (issue 11), Node side: each test is named
// after its finding and failed before the fix.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createTcpServer } from 'node:net'
import {
  startMock, runNode, assertSame, ENTRY, VERSION, Client, AdminClient, ParsecError, APIError, ValidationError, InternalError,
  APIConnectionError,
} from './helpers.mjs'

test('hosts_without_real_libuv_take_the_threaded_path (Bun exports libuv stubs)', async () => {
  const r = await runNode(`
    Object.defineProperty(process.versions, 'bun', { value: '1.1.0', enumerable: true })
    const { MockServer } = await import(${JSON.stringify(ENTRY)})
    const mock = await MockServer.start()
    const client = mock.client()
    const sym = Object.getOwnPropertySymbols(client).find((s) => s.description === 'parsec-teams.native')
    const m = await client.members.get({ userId: 4 })
    console.log(JSON.stringify([client[sym].onNodeThread, m.user_id]))
  `)
  assert.equal(r.signal, null, r.stderr)
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), [false, 4])
})

test('absurd_numbers_throw_clear_errors_and_never_abort (quotaWindowSeconds: 1e300, NaN, -1, Infinity)', async () => {
  // In a child process: a panic across the N-API boundary would abort it.
  const r = await runNode(`
    import { MockServer, Client, AdminClient, ValidationError } from ${JSON.stringify(ENTRY)}
    const out = []
    const outcome = async (f) => {
      try { await f(); return 'ok' } catch (e) { return [e.name, e instanceof ValidationError ? e.field : e.message] }
    }
    const mock = await MockServer.start()
    const base = { apiKey: mock.apiKey, baseUrl: mock.baseUrl }
    for (const n of [1e300, NaN, -1, Infinity, -Infinity, 0]) {
      out.push(await outcome(() => MockServer.start({ quotaWindowSeconds: n })))
      out.push(await outcome(() => new Client({ ...base, quotaWindowSeconds: n })))
      out.push(await outcome(() => new Client({ ...base, timeoutMs: n })))
      out.push(await outcome(() => new Client({ ...base, maxRetryWaitMs: n })))
      out.push(await outcome(() => new AdminClient({ token: mock.adminToken, baseUrl: mock.baseUrl, timeoutMs: n })))
      out.push(await outcome(() => mock.client().members.get({ userId: 1 }, { timeoutMs: n })))
    }
    console.log(JSON.stringify(out))
  `)
  assert.equal(r.signal, null, r.stderr)
  assert.equal(r.code, 0, r.stderr)
  assert.ok(!/panicked|abort/i.test(r.stderr), r.stderr)
  const out = JSON.parse(r.stdout)
  const rows = []
  for (let i = 0; i < out.length; i += 6) rows.push(out.slice(i, i + 6))
  const mockBad = ['Error', 'quotaWindowSeconds: must be a positive number of seconds, at most 1e9']
  const bad = [mockBad, ['ValidationError', 'quotaWindowSeconds'], ['ValidationError', 'timeoutMs'], ['ValidationError', 'maxRetryWaitMs'], ['ValidationError', 'timeoutMs'], ['ValidationError', 'timeoutMs']]
  // 1e300, NaN, -1, Infinity, -Infinity: every one refused with the option's name.
  for (const row of rows.slice(0, 5)) assert.deepEqual(row, bad)
  // 0: a zero window and a zero timeout are refused (the core's ranges: more than 0); a zero wait is accepted.
  assert.deepEqual(rows[5], [mockBad, ['ValidationError', 'quotaWindowSeconds'], ['ValidationError', 'timeoutMs'], 'ok', ['ValidationError', 'timeoutMs'], ['ValidationError', 'timeoutMs']])
})

test('a_panic_never_reaches_js: an entry point or a task that panics gives an InternalError, on either path', async () => {
  for (const threads of ['', '1']) {
    const r = await runNode(`
      import { MockServer, InternalError, ParsecError, APIError } from ${JSON.stringify(ENTRY)}
      const mock = await MockServer.start()
      const client = mock.client()
      const out = []
      for (const where of ['sync', 'task']) {
        try {
          await client._panicForTests(where)
          out.push('no error')
        } catch (e) {
          out.push([e.constructor.name, e instanceof InternalError, e instanceof ParsecError, e instanceof APIError, e.code, e.message])
        }
      }
      // The client (and the thread's runtime) still works afterwards.
      out.push((await client.members.get({ userId: 2 })).user_id)
      console.log(JSON.stringify(out))
    `, { env: { PARSEC_TEAMS_NODE_THREADS: threads } })
    assert.equal(r.signal, null, r.stderr)
    assert.equal(r.code, 0, r.stderr)
    const [sync, task, after] = JSON.parse(r.stdout)
    for (const [e, where] of [[sync, 'sync'], [task, 'task']]) {
      assert.deepEqual(e.slice(0, 5), ['InternalError', true, true, false, 'internal_error'], `${where}: ${JSON.stringify(e)}`)
      assert.match(e[5], new RegExp(`internal error in parsec-teams \\(please report it\\): test panic \\(${where}\\)`))
    }
    assert.equal(after, 2)
  }
})

test('InternalError is a ParsecError and not an APIError', () => {
  const e = new InternalError('x')
  assert.ok(e instanceof ParsecError && e instanceof Error)
  assert.ok(!(e instanceof APIError))
  assert.equal(e.name, 'InternalError')
})

/** A proxy that records what it is asked and answers every CONNECT with 502. */
async function recordingProxy(t) {
  const seen = []
  const server = createTcpServer((socket) => {
    let head = ''
    socket.on('data', (d) => {
      head += d
      if (head.includes('\r\n\r\n')) {
        seen.push(head)
        socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n')
      }
    })
    socket.on('error', () => assert.fail('the proxy socket failed'))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  return { url: `http://127.0.0.1:${server.address().port}`, seen }
}

test('proxy_option_is_passed_through (Client and AdminClient; loopback never proxied; a bad value is a ValidationError)', async (t) => {
  const mock = await startMock(t)
  const proxy = await recordingProxy(t)
  const remote = 'https://api.parsec-teams.invalid'
  const clients = [
    new Client({ apiKey: mock.apiKey, baseUrl: remote, proxy: proxy.url, maxRetries: 0 }),
    new AdminClient({ token: mock.adminToken, baseUrl: remote, proxy: proxy.url, maxRetries: 0 }),
  ]
  await assert.rejects(clients[0].members.get({ userId: 1 }), APIConnectionError)
  await assert.rejects(clients[1].teams.list(), APIConnectionError)
  assert.equal(proxy.seen.length, 2, JSON.stringify(proxy.seen))
  for (const head of proxy.seen) {
    assert.match(head, /^CONNECT api\.parsec-teams\.invalid:443 HTTP\/1\.1\r\n/)
    assert.ok(!/authorization/i.test(head) && !head.includes(mock.apiKey.split('.')[1]), `the key went to the proxy: ${head}`)
  }
  // A loopback base URL never goes through the proxy.
  const local = mock.client({ proxy: proxy.url })
  assert.equal((await local.members.get({ userId: 3 })).user_id, 3)
  assert.equal((await mock.adminClient({ proxy: proxy.url }).teams.list()).length > 0, true)
  assert.equal(proxy.seen.length, 2)
  for (const make of [(p) => new Client({ apiKey: mock.apiKey, baseUrl: remote, proxy: p }), (p) => new AdminClient({ token: 't', baseUrl: remote, proxy: p })]) {
    assert.throws(() => make('ftp://proxy.example:21'), (e) => e instanceof ValidationError && e.field === 'proxy')
    assert.throws(() => make(42), (e) => e instanceof ValidationError && e.field === 'proxy')
  }
})

test('user_agent_as_the_mock_recorded_it', async (t) => {
  const mock = await startMock(t)
  await mock.client().members.get({ userId: 1 })
  await mock.adminClient().teams.list()
  const reqs = await mock.requests()
  assert.equal(reqs.length, 2)
  const expected = `parsec-teams/${VERSION} (node ${process.versions.node})`
  assert.deepEqual(reqs.map((r) => r.user_agent), [expected, expected])
})

test('Client_and_AdminClient_read_their_environment_variables', async (t) => {
  const mock = await startMock(t)
  const script = `
    import { Client, AdminClient } from ${JSON.stringify(ENTRY)}
    const client = new Client()
    const member = await client.members.get({ userId: 5 }).then((m) => m.user_id, (e) => e.name + ' ' + e.status)
    const admin = new AdminClient()
    const teams = await admin.teams.list().then((l) => l.length, (e) => e.name)
    console.log(JSON.stringify({ baseUrl: client.baseUrl, teamId: client.teamId, member, adminBase: admin.baseUrl, teams }))
  `
  const env = { PARSEC_API_KEY: mock.apiKey, PARSEC_BASE_URL: mock.baseUrl, PARSEC_TEAM_ID: mock.teamId, PARSEC_ADMIN_BASE_URL: mock.baseUrl, PARSEC_ADMIN_TOKEN: mock.adminToken }
  const ok = await runNode(script, { env })
  assert.equal(ok.code, 0, ok.stderr)
  const teams = (await mock.adminClient().teams.list()).length
  assert.deepEqual(JSON.parse(ok.stdout), { baseUrl: mock.baseUrl, teamId: mock.teamId, member: 5, adminBase: mock.baseUrl, teams })
  // PARSEC_TEAM_ID is the path segment actually sent; a wrong admin token is refused.
  await mock.reset()
  const other = await runNode(script, { env: { ...env, PARSEC_TEAM_ID: 'otherteam42', PARSEC_ADMIN_TOKEN: 'wrong-token' } })
  assert.equal(other.code, 0, other.stderr)
  const o = JSON.parse(other.stdout)
  assert.equal(o.teamId, 'otherteam42')
  assert.equal(o.teams, 'AuthenticationError')
  const reqs = await mock.requests()
  assert.equal(reqs[0].path, '/v1/teams/otherteam42/members/5')
  assert.ok(!other.stdout.includes(mock.apiKey.split('.')[1]))
})

test('quota_pacing_through_the_node_binding: the 51st call in a window waits for it to refill, never a 429', async (t) => {
  const WINDOW = 2
  const mock = await startMock(t, { quotaWindowSeconds: WINDOW })
  const client = mock.client({ quotaWindowSeconds: WINDOW })
  assert.equal(client.quotaStatus().find((q) => q.name === 'audit_log').windowMs, WINDOW * 1000)
  const started = Date.now()
  const pages = []
  for (let i = 0; i < 53; i++) pages.push(await client.auditLog.listEvents({ limit: 1 }))
  const ms = Date.now() - started
  assert.equal(pages.length, 53)
  assert.ok(pages.every((p) => p.data.length === 1))
  const reqs = await mock.requests()
  assert.equal(reqs.length, 53)
  assert.deepEqual([...new Set(reqs.map((r) => r.status))], [200])
  // The 51st waited for the first to leave the window, as the mock's clock saw it.
  assert.ok(reqs[50].elapsed_ms - reqs[0].elapsed_ms >= WINDOW * 1000 - 50, `gap ${reqs[50].elapsed_ms - reqs[0].elapsed_ms} ms`)
  assert.ok(ms >= WINDOW * 1000 - 50 && ms < WINDOW * 1000 + 8000, `${ms} ms`)
})

/** A seeded PRNG (mulberry32), so a failing document can be reproduced. */
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** Random JSON text (not JSON.stringify's: escapes, whitespace, number spellings vary). */
function randomJson(rand, { surrogates }) {
  const pick = (a) => a[Math.floor(rand() * a.length)]
  const ws = () => (rand() < 0.1 ? pick([' ', '\n', '\t ', '\r\n  ']) : '')
  const CHARS = ['a', 'b', 'z', 'Q', '0', ' ', 'é', '中', '😀', '"', '\\', '/', '\n', '\u0001', '\u2028', '𝄞']
  const ESC = ['\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t', '\\u00e9', '\\u0000', '\\ud83d\\ude00', '\\u4e2d']
  const str = () => {
    const n = pick([0, 1, 3, 12, 13, 14, 40])
    let s = '"'
    for (let i = 0; i < n; i++) {
      const r = rand()
      if (r < 0.2) s += pick(ESC)
      else if (surrogates && r < 0.22) s += pick(['\\ud800', '\\udfff'])
      else s += JSON.stringify(pick(CHARS)).slice(1, -1)
    }
    return s + '"'
  }
  const KEYS = ['id', 'name', 'data', 'count', '__proto__', 'constructor', '1', '0', '', 'é', 'a b', 'toString']
  const num = () =>
    pick([
      () => String(Math.floor(rand() * 2000) - 1000),
      () => String((rand() - 0.5) * 1e6),
      () => pick(['-0', '0.0', '-0.0', '1e2', '1E-2', '2147483647', '2147483648', '-2147483649', '9007199254740993', '18446744073709551616', '1e308', '5e-324', '1e-400', '0.30000000000000004', '123456789012345678901234567890']),
    ])()
  const value = (depth) => {
    const r = rand()
    if (depth > 5 || r < 0.35) return pick([str, num, () => 'true', () => 'false', () => 'null', str])()
    if (r < 0.65) {
      const n = Math.floor(rand() * 6)
      return '[' + ws() + Array.from({ length: n }, () => ws() + value(depth + 1) + ws()).join(',') + ']'
    }
    const n = Math.floor(rand() * 6)
    const parts = []
    for (let i = 0; i < n; i++) {
      // Mostly one key set (shapes repeat, as in real pages), sometimes duplicates.
      const key = rand() < 0.7 ? KEYS[i] : pick(KEYS)
      parts.push(ws() + JSON.stringify(key) + ws() + ':' + ws() + value(depth + 1) + ws())
    }
    return '{' + parts.join(',') + '}'
  }
  // A page: large enough, often, to cross as a tape (2 KiB and more).
  const items = Array.from({ length: pick([0, 1, 5, 40, 120]) }, () => value(1))
  return ws() + '{"data":[' + items.join(',') + '],' + ws() + '"count":' + num() + '}' + ws()
}

test('random_documents_decode_as_JSON_parse_of_the_raw_bytes (differential, over HTTP, text and tape paths)', async (t) => {
  let body = ''
  const server = createHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req_random' })
    res.end(body)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const client = new Client({ apiKey: 'tapi_randomteam.secret', baseUrl: `http://127.0.0.1:${server.address().port}`, maxRetries: 0 })
  const seed = 0x5eed0011
  const rand = prng(seed)
  let tapes = 0
  for (let i = 0; i < 300; i++) {
    // Lone surrogates only where the core's decoding is not involved (pages cross as raw bytes).
    body = randomJson(rand, { surrogates: i % 2 === 0 })
    const expected = JSON.parse(body)
    if (Buffer.byteLength(body) >= 2048 && !/\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/i.test(body)) tapes++
    const page = await client.members.list({ limit: 5 })
    assertSame(page, expected, `seed ${seed} document ${i}: members.list`)
    if (i % 2 === 1) {
      const raw = await client.request('GET', '/v1/teams/{team_id}/members')
      assertSame(raw.data, expected, `seed ${seed} document ${i}: request()`)
    }
  }
  assert.ok(tapes > 50, `only ${tapes} documents large enough for a tape`)
})

test('deep_or_cyclic_input_is_a_ValidationError (rule depth, 128 levels accepted), nothing sent', async (t) => {
  const mock = await startMock(t)
  const client = mock.client()
  const nested = (n) => {
    let v = 1
    for (let i = 0; i < n; i++) v = [v]
    return v
  }
  const depthError = (field) => (e) => e instanceof ValidationError && e.field === field && e.rule === 'depth' && /nested deeper than 128 levels/.test(e.message)
  const cyclic = [1]
  cyclic.push(cyclic)
  await assert.rejects(client.groups.addMembers({ groupId: 1, userIds: cyclic }), depthError('userIds'))
  await assert.rejects(client.groups.addMembers({ groupId: 1, userIds: nested(129) }), depthError('userIds'))
  const selfish = { group_name: 'x' }
  selfish.self = selfish
  await assert.rejects(client.request('POST', '/v1/teams/{team_id}/groups', { body: selfish }), depthError('body'))
  await assert.rejects(client.request('POST', '/v1/teams/{team_id}/groups', { body: { extra: nested(128) } }), depthError('body'))
  assert.equal((await mock.requests()).length, 0)
  // 128 levels in all are accepted and sent (whatever the server then says).
  const body = { group_name: 'Deep', allow_connections_within_group: true, show_user_assigned_managed_hosts: false, show_personal_hosts: false, extra: nested(127) }
  // The SDK sends it and the mock (which parses bodies up to 512 levels) creates the group.
  const outcome = await client.request('POST', '/v1/teams/{team_id}/groups', { body }).then((r) => r.data.data.name, (e) => (e instanceof APIError ? e.status : String(e)))
  assert.equal(outcome, 'Deep')
  const reqs = await mock.requests()
  assert.deepEqual(reqs.map((r) => [r.method, r.path]), [['POST', `/v1/teams/${mock.teamId}/groups`]])
})
