'use strict'
// parsec-teams for Node.js: a thin layer over the Rust core.
//
// Everything per operation (resources, methods, docs, types) is generated into
// resources.js and index.d.ts by codegen/generate.mjs from the core's operation
// table. This file holds the ONE generic call path, pagination, AbortSignal
// handling, `.withResponse()` and the MockServer; the core does HTTP,
// validation, retries, quota pacing, pagination and decoding.

const native = require('./native.js')
const errors = require('./errors.js')
const { decodeTape } = require('./tape.js')
const { OPERATIONS, TEAMS_RESOURCES, ADMIN_RESOURCES } = require('./resources.js')

const VERSION = native.version()
const LANGUAGE = `node ${process.versions.node}`

// The generated surface must match the addon it calls into.
{
  const table = JSON.parse(native.operationTable())
  const names = table.map((op) => `${op.api}:${op.resource}.${op.name}`)
  if (names.length !== OPERATIONS.length || names.some((n, i) => n !== OPERATIONS[i])) {
    throw new Error('parsec-teams: resources.js does not match the native addon; run `make -C bindings-node generate`')
  }
}

const snakeCache = new Map()
function snake(key) {
  let s = snakeCache.get(key)
  if (s === undefined) {
    s = key.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())
    snakeCache.set(key, s)
  }
  return s
}

/** camelCase parameters -> JSON text keyed by wire names (undefined = left out). */
function encodeParams(params) {
  if (params === undefined || params === null) return ''
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw errors.validation('params', 'must be an object of named parameters')
  }
  const out = {}
  for (const key of Object.keys(params)) {
    const v = params[key]
    if (v === undefined) continue
    if (typeof v === 'object' && v !== null) errors.checkDepth(key, v)
    out[snake(key)] = v
  }
  return JSON.stringify(out)
}

function callOptions(options) {
  if (options === undefined || options === null) return undefined
  if (typeof options !== 'object') throw errors.validation('options', 'must be an object')
  const { timeoutMs, maxRetries, signal } = options
  if (timeoutMs !== undefined && timeoutMs !== null && !(typeof timeoutMs === 'number' && timeoutMs >= 0 && Number.isFinite(timeoutMs))) {
    throw errors.validation('timeoutMs', 'must be a finite number of milliseconds >= 0')
  }
  if (maxRetries !== undefined && maxRetries !== null && !(Number.isInteger(maxRetries) && maxRetries >= 0 && maxRetries <= 1000)) {
    throw errors.validation('maxRetries', 'must be an integer from 0 to 1000')
  }
  if (signal !== undefined && signal !== null && !(typeof signal === 'object' && typeof signal.addEventListener === 'function' && 'aborted' in signal)) {
    throw errors.validation('signal', 'must be an AbortSignal')
  }
  return { timeoutMs: timeoutMs ?? undefined, maxRetries: maxRetries ?? undefined, signal: signal ?? undefined }
}

function abortError(signal) {
  if (signal.reason !== undefined) return signal.reason
  const e = new Error('This operation was aborted')
  e.name = 'AbortError'
  e.code = 'ABORT_ERR'
  return e
}

// Every native call finishes through ONE completion callback, called from the
// event loop (src/local.rs) or through a threadsafe function on the threaded
// path; neither keeps Node alive by itself, so while calls are in flight an
// otherwise idle timer is ref'd and the process waits for them.
const pending = new Map()
let nextId = 0
let inflight = 0
const keepAlive = setInterval(() => {}, 1 << 30)
keepAlive.unref()

/** What one native call finished with. */
class Outcome {
  constructor(status, body, headers, requestId, retriesTaken, flags, error) {
    this.status = status
    this.body = body
    this.headers = headers
    this.requestId = requestId ?? undefined
    this.retriesTaken = retriesTaken
    this.aborted = (flags & 1) !== 0
    this.done = (flags & 2) !== 0
    this.unchecked = (flags & 4) !== 0
    this.error = error
  }
}

function onComplete(id, status, body, headers, requestId, retriesTaken, flags, error) {
  const resolve = pending.get(id)
  if (resolve === undefined) return
  pending.delete(id)
  if (--inflight === 0) keepAlive.unref()
  resolve(new Outcome(status, body, headers, requestId, retriesTaken, flags, error))
}

/** `f()`, with anything a native entry point throws turned into an InternalError. */
function guard(f) {
  try {
    return f()
  } catch (e) {
    throw errors.internal(e)
  }
}

/** A Promise of the Outcome of `start(id)`. */
function nativeCall(start) {
  return new Promise((resolve) => {
    const id = (nextId = (nextId + 1) >>> 0)
    guard(() => start(id))
    pending.set(id, resolve)
    if (inflight++ === 0) keepAlive.ref()
  })
}

/** Runs one native call with the signal wired to a cancel token. */
async function withSignal(signal, start) {
  if (signal === undefined) return start(undefined)
  if (signal.aborted) throw abortError(signal)
  const token = new native.CancelToken()
  const onAbort = () => token.cancel()
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await start(token)
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

function parseHeaders(text) {
  const headers = new Headers()
  if (text) {
    for (const line of text.split('\n')) {
      const i = line.indexOf(': ')
      if (i > 0) headers.append(line.slice(0, i), line.slice(i + 2))
    }
  }
  return headers
}

async function execute(nc, op, params, options, state) {
  const args = encodeParams(params)
  const opts = callOptions(options)
  let r
  if (opts === undefined) {
    r = await nativeCall((id) => nc.call(id, op, args))
  } else {
    r = await withSignal(opts.signal, (token) => nativeCall((id) => nc.call(id, op, args, opts.timeoutMs, opts.maxRetries, token)))
  }
  if (r.error) throw errors.fromRecord(r.error)
  if (r.aborted) throw abortError(opts.signal)
  state.response = r
  return r.unchecked ? parseUnchecked(nc, op, r) : parseBody(r.body)
}

/** A result as the core sent it: JSON text, or (large results) a tape `[ops, nums, strs]` (tape.js). */
function parseBody(body) {
  return typeof body === 'string' ? JSON.parse(body) : decodeTape(body[0], body[1], body[2], native.tapeShape)
}

/** A body the core left for V8 to check; the core decodes what JSON.parse refuses. */
function parseUnchecked(nc, op, r) {
  try {
    return JSON.parse(r.body)
  } catch {
    const checked = guard(() => nc.checkResult(op, r.status, r.requestId, r.body))
    if (checked.error) throw errors.fromRecord(checked.error)
    return JSON.parse(checked.body)
  }
}

async function executeRequest(nc, method, path, init) {
  const { query, body, ...options } = init || {}
  const opts = callOptions(options)
  let pairs = ''
  if (query !== undefined && query !== null) {
    pairs = JSON.stringify(Object.entries(query).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]))
  }
  if (typeof body === 'object' && body !== null) errors.checkDepth('body', body)
  const payload = body === undefined ? undefined : JSON.stringify(body)
  const r = await withSignal(opts && opts.signal, (token) =>
    nativeCall((id) => nc.request(id, String(method), String(path), pairs, payload, opts && opts.timeoutMs, opts && opts.maxRetries, token)),
  )
  if (r.error) throw errors.fromRecord(r.error)
  if (r.aborted) throw abortError(opts.signal)
  return { data: parseBody(r.body), status: r.status, headers: parseHeaders(r.headers), requestId: r.requestId ?? undefined, retriesTaken: r.retriesTaken }
}

/**
 * Starts a call; returns its Promise with `.withResponse()` attached.
 * The Promise is the async function's own, so an error's stack runs through
 * the caller's `await`.
 */
function startCall(nc, op, params, options) {
  const state = { response: undefined }
  const promise = execute(nc, op, params, options, state)
  promise.withResponse = async function withResponse() {
    const data = await promise
    const r = state.response
    return { data, status: r.status, headers: parseHeaders(r.headers), requestId: r.requestId ?? undefined, retriesTaken: r.retriesTaken }
  }
  return promise
}

async function* iterate(nc, op, params, options) {
  const args = encodeParams(params)
  const opts = callOptions(options) || {}
  const pager = guard(() => nc.paginate(op, args, opts.timeoutMs, opts.maxRetries))
  for (;;) {
    const r = await withSignal(opts.signal, (token) => nativeCall((id) => pager.nextPage(id, token)))
    if (r.error) throw errors.fromRecord(r.error)
    if (r.aborted) throw abortError(opts.signal)
    if (r.done) return
    yield* parseBody(r.body)
  }
}

const kNative = Symbol('parsec-teams.native')

function config(options, keys) {
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object') throw errors.validation('options', 'must be an object')
  const cfg = { language: LANGUAGE }
  for (const key of keys) {
    const v = options[key]
    if (v !== undefined && v !== null) cfg[key] = v
  }
  for (const key of ['timeoutMs', 'maxRetryWaitMs']) {
    if (cfg[key] !== undefined && !(typeof cfg[key] === 'number' && cfg[key] >= 0 && Number.isFinite(cfg[key]))) {
      throw errors.validation(key, 'must be a finite number of milliseconds >= 0')
    }
  }
  if (cfg.maxRetries !== undefined && !(Number.isInteger(cfg.maxRetries) && cfg.maxRetries >= 0 && cfg.maxRetries <= 1000)) {
    throw errors.validation('maxRetries', 'must be an integer from 0 to 1000')
  }
  if (cfg.quotaWindowSeconds !== undefined && !(typeof cfg.quotaWindowSeconds === 'number' && cfg.quotaWindowSeconds > 0 && cfg.quotaWindowSeconds <= 1e9)) {
    throw errors.validation('quotaWindowSeconds', 'must be a positive number of seconds, at most 1e9')
  }
  for (const key of ['apiKey', 'teamId', 'baseUrl', 'token', 'proxy']) {
    if (cfg[key] !== undefined && typeof cfg[key] !== 'string') throw errors.validation(key, 'must be a string')
  }
  return cfg
}

function createNative(api, cfg) {
  const made = guard(() => native.createClient(api, cfg, onComplete))
  if (made instanceof native.NativeClient) return made
  const err = errors.fromRecord(made)
  Error.captureStackTrace(err, createNative)
  throw err
}

class BaseClient {
  constructor(api, cfg, resources) {
    Object.defineProperty(this, kNative, { value: createNative(api, cfg), enumerable: false })
    for (const [name, Resource] of Object.entries(resources)) {
      Object.defineProperty(this, name, { value: new Resource(this), enumerable: true })
    }
  }

  /** @internal The generic call path of every generated method. */
  _call(op, params, options) {
    return startCall(this[kNative], op, params, options)
  }

  /** @internal The generic auto-pagination of every generated `iter`. */
  _iter(op, params, options) {
    return iterate(this[kNative], op, params, options)
  }

  /** @internal For the package's tests: a panic in a native entry point (`'sync'`) or call task (`'task'`). */
  async _panicForTests(where) {
    const nc = this[kNative]
    const r = await nativeCall((id) => nc.__panicForTests(id, where))
    if (r.error) throw errors.fromRecord(r.error)
    return null
  }

  /** The base URL, without a trailing slash. */
  get baseUrl() {
    return this[kNative].baseUrl
  }

  /**
   * The escape hatch for endpoints this SDK does not cover yet: same auth,
   * retries, errors and logging; `{team_id}` in `path` is filled in.
   */
  request(method, path, init) {
    return executeRequest(this[kNative], method, path, init)
  }

  toJSON() {
    return { baseUrl: this.baseUrl }
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `${this.constructor.name} { baseUrl: '${this.baseUrl}' }`
  }
}

/** The client of the Parsec for Teams API. */
class Client extends BaseClient {
  constructor(options) {
    super('teams', config(options, ['apiKey', 'teamId', 'baseUrl', 'timeoutMs', 'maxRetries', 'maxRetryWaitMs', 'quotaWindowSeconds', 'proxy']), TEAMS_RESOURCES)
  }

  /** The team this client works on. */
  get teamId() {
    return this[kNative].teamId
  }

  /** How many calls each paced quota has left in its window, and when it refills. */
  quotaStatus() {
    return JSON.parse(guard(() => this[kNative].quotaStatus())).map((q) => ({
      name: q.name,
      limit: q.limit,
      remaining: q.remaining,
      windowMs: q.window_ms,
      refillsInMs: q.refills_in_ms ?? undefined,
      blockedForMs: q.blocked_for_ms ?? undefined,
    }))
  }

  toJSON() {
    return { baseUrl: this.baseUrl, teamId: this.teamId }
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `Client { baseUrl: '${this.baseUrl}', teamId: '${this.teamId}', apiKey: '<redacted>' }`
  }
}

/** The client of the team-administration API. */
class AdminClient extends BaseClient {
  constructor(options) {
    super('admin', config(options, ['token', 'baseUrl', 'timeoutMs', 'maxRetries', 'maxRetryWaitMs', 'proxy']), ADMIN_RESOURCES)
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `AdminClient { baseUrl: '${this.baseUrl}', token: '<redacted>' }`
  }
}

const FAULT_KEYS = { retryAfter: 'retry_after', delayMs: 'delay_ms', dropConnection: 'drop_connection' }

/**
 * The stateful mock of both APIs, in-process, for testing tools offline.
 * `await MockServer.start()`, then `new Client({ apiKey: mock.apiKey, baseUrl: mock.baseUrl })`
 * or `mock.client()`; `await mock.stop()` when done.
 */
class MockServer {
  constructor(handle) {
    Object.defineProperty(this, kNative, { value: handle, enumerable: false })
    this.baseUrl = handle.baseUrl
    this.teamId = handle.teamId
    this.apiKey = handle.apiKey
    this.adminToken = handle.adminToken
    Object.defineProperty(this, 'apiKey', { enumerable: false })
    Object.defineProperty(this, 'adminToken', { enumerable: false })
  }

  /** Starts a mock on a free loopback port (options: fixture, quotaWindowSeconds, keys, host, port). */
  static async start(options) {
    const o = options || {}
    const handle = await native.startMock({
      host: o.host,
      port: o.port,
      fixture: o.fixture === undefined ? undefined : typeof o.fixture === 'string' ? o.fixture : JSON.stringify(o.fixture),
      quotaWindowSeconds: o.quotaWindowSeconds,
      keys: o.keys === undefined ? undefined : JSON.stringify(o.keys),
    })
    return new MockServer(handle)
  }

  /** A Client for this mock (key with every permission); options override. */
  client(options) {
    return new Client({ apiKey: this.apiKey, teamId: this.teamId, baseUrl: this.baseUrl, ...options })
  }

  /** An AdminClient for this mock; options override. */
  adminClient(options) {
    return new AdminClient({ token: this.adminToken, baseUrl: this.baseUrl, ...options })
  }

  async _control(method, path, body) {
    const text = await this[kNative].control(method, path, body === undefined ? undefined : JSON.stringify(body))
    return text ? JSON.parse(text) : null
  }

  /** Back to the fixture state; quotas, faults and the request log cleared. */
  async reset() {
    await this._control('POST', '/_mock/reset')
  }

  /**
   * The next `times` requests matching `method` and `path` (a glob with `*`) get this answer instead:
   * `{ method, path, times, status, retryAfter, delayMs, dropConnection, body }`.
   */
  async addFault(fault) {
    const wire = {}
    for (const [k, v] of Object.entries(fault)) if (v !== undefined) wire[FAULT_KEYS[k] || k] = v
    await this._control('POST', '/_mock/faults', wire)
  }

  /** Every request received since the last reset: `[{ method, path, query, body, status, request_id }]`. */
  async requests(filter) {
    let list = await this._control('GET', '/_mock/requests')
    if (filter && filter.method) list = list.filter((r) => r.method === filter.method)
    if (filter && filter.path) list = list.filter((r) => r.path === filter.path)
    return list
  }

  /** The whole current state (members, groups, machines, invites, credits, quotas). */
  async state() {
    return this._control('GET', '/_mock/state')
  }

  /** Moves the mock's clock forward; resolves with `{ now }`. */
  async advanceClock(seconds) {
    return this._control('POST', '/_mock/clock', { advance_seconds: seconds })
  }

  /** Makes the pending invite of `email` join the team. */
  async join(email) {
    return this._control('POST', '/_mock/join', { email })
  }

  /** Sets the guest access credit balance. */
  async setCredits(balance) {
    return this._control('POST', '/_mock/credits', { balance })
  }

  /** Stops serving. */
  async stop() {
    this[kNative].stop()
  }

  toJSON() {
    return { baseUrl: this.baseUrl, teamId: this.teamId }
  }
}

module.exports = {
  Client,
  AdminClient,
  MockServer,
  VERSION,
  ...errors,
}
delete module.exports.fromRecord
delete module.exports.validation
delete module.exports.internal
delete module.exports.checkDepth
