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
const { OPERATIONS, OPTIONS, TEAMS_RESOURCES, ADMIN_RESOURCES } = require('./resources.js')

const VERSION = native.version()

/** A ValidationError raised by the JavaScript layer itself (argument conversion). */
function validation(field, rule, ruleName) {
  const message = `${field}: ${rule}`
  return new errors.ValidationError(message, { code: 'validation_error', field, message, display: message, rule: ruleName })
}

/** The deepest nesting of arrays and objects accepted in a parameter or body (the core's validate::MAX_DEPTH). */
const MAX_DEPTH = native.maxDepth()

/**
 * Throws the core's ValidationError (rule `depth`) when `value` nests arrays
 * and objects deeper than MAX_DEPTH. The walk stops at the limit, so a cycle
 * is refused the same way instead of overflowing JSON.stringify.
 */
function checkDepth(field, value) {
  const fits = (v, budget) => {
    if (v === null || typeof v !== 'object') return true
    // As JSON.stringify: toJSON once (a Date becomes a string), its result taken as it is.
    if (typeof v.toJSON === 'function') v = v.toJSON()
    if (v === null || typeof v !== 'object') return true
    if (budget === 0) return false
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (!fits(x, budget - 1)) return false
    return true
  }
  if (!fits(value, MAX_DEPTH)) throw errors.fromRecord(native.depthError(field), checkDepth)
}

const INTERNAL_PREFIX = 'internal error in parsec-teams (please report it): '

/**
 * The InternalError for an exception a native entry point threw (a caught
 * panic, or an argument the native layer refused: both defects of the SDK);
 * errors of the SDK's own classes pass through.
 */
function internal(e) {
  if (e instanceof errors.ParsecError) return e
  const text = e instanceof Error ? e.message : String(e)
  const message = text.startsWith(INTERNAL_PREFIX) ? text : INTERNAL_PREFIX + text
  const err = new errors.InternalError(message, { code: 'internal_error', message, display: message, retryable: false })
  Error.captureStackTrace(err, internal)
  return err
}
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
    throw validation('params', 'must be an object of named parameters')
  }
  const out = {}
  for (const key of Object.keys(params)) {
    const v = params[key]
    if (v === undefined) continue
    if (typeof v === 'object' && v !== null) checkDepth(key, v)
    out[snake(key)] = v
  }
  return JSON.stringify(out)
}

/** Throws the core's kind of ValidationError (rule `type`) unless `v` is of JavaScript type `type`. */
function checkType(name, v, type) {
  if (typeof v !== type) throw validation(name, `must be a ${type}, got ${v === null ? 'null' : typeof v}`, 'type')
}

/** Per-call options: their JavaScript types checked here, their values by the core (timeout in seconds). */
function callOptions(options) {
  if (options === undefined || options === null) return undefined
  if (typeof options !== 'object') throw validation('options', 'must be an object', 'type')
  const { timeoutMs, maxRetries, signal } = options
  let timeout
  if (timeoutMs !== undefined && timeoutMs !== null) {
    checkType('timeoutMs', timeoutMs, 'number')
    timeout = timeoutMs / 1000
  }
  if (maxRetries !== undefined && maxRetries !== null) checkType('maxRetries', maxRetries, 'number')
  if (signal !== undefined && signal !== null && !(typeof signal === 'object' && typeof signal.addEventListener === 'function' && 'aborted' in signal)) {
    throw validation('signal', 'must be an AbortSignal', 'type')
  }
  return { timeout, maxRetries: maxRetries ?? undefined, signal: signal ?? undefined }
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
    throw internal(e)
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
    r = await withSignal(opts.signal, (token) => nativeCall((id) => nc.call(id, op, args, opts.timeout, opts.maxRetries, token)))
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
  // The core encodes the query (escape::RawRequest) and parses the body, as in every language.
  const q = query === undefined || query === null ? undefined : JSON.stringify(query)
  if (typeof body === 'object' && body !== null) checkDepth('body', body)
  const payload = body === undefined ? undefined : JSON.stringify(body)
  const r = await withSignal(opts && opts.signal, (token) =>
    nativeCall((id) => nc.request(id, String(method), String(path), q, payload, opts && opts.timeout, opts && opts.maxRetries, token)),
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
  const pager = guard(() => nc.paginate(op, args, opts.timeout, opts.maxRetries))
  for (;;) {
    const r = await withSignal(opts.signal, (token) => nativeCall((id) => pager.nextPage(id, token)))
    if (r.error) throw errors.fromRecord(r.error)
    if (r.aborted) throw abortError(opts.signal)
    if (r.done) return
    yield* parseBody(r.body)
  }
}

const kNative = Symbol('parsec-teams.native')

/**
 * The option values of `client` for the core: each option of the description
 * (resources.js OPTIONS) by its Node name, type-checked here, converted to the
 * core's unit; the core checks the values, with the same ranges and errors in
 * every language (`ClientOptions::from_values`). Other keys are ignored.
 */
function optionValues(options, client) {
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object') throw validation('options', 'must be an object', 'type')
  const values = { language: LANGUAGE }
  for (const [name, core, type, units] of OPTIONS[client]) {
    const v = options[name]
    if (v === undefined || v === null) continue
    checkType(name, v, type)
    values[core] = units === 1 ? v : v / units
  }
  return values
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
    super('teams', optionValues(options, 'Client'), TEAMS_RESOURCES)
  }

  /** The team this client works on. */
  get teamId() {
    return this[kNative].teamId
  }

  /** How many calls each paced quota has left in its window, and when it refills. */
  quotaStatus() {
    // The core's QuotaStatus (seconds), in Node's names and milliseconds.
    const ms = (s) => (s === null || s === undefined ? undefined : s * 1000)
    return JSON.parse(guard(() => this[kNative].quotaStatus())).map((q) => ({
      name: q.name,
      limit: q.limit,
      remaining: q.remaining,
      windowMs: ms(q.window),
      refillsInMs: ms(q.refills_in),
      blockedForMs: ms(q.blocked_for),
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
    super('admin', optionValues(options, 'AdminClient'), ADMIN_RESOURCES)
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

const { KINDS, DISPLAY, fromRecord, ...classes } = errors

module.exports = {
  Client,
  AdminClient,
  MockServer,
  VERSION,
  ...classes,
}
