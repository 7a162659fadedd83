'use strict'
// The error classes of the API contract, as real Error subclasses.
// The native layer maps the core's ErrorKind to a class name in ONE function
// (src/errors.rs); `fromRecord` only looks the class up by that name.

/** Base class of every error the SDK raises. */
class ParsecError extends Error {
  constructor(message, record) {
    super(message)
    const r = record || {}
    Object.defineProperty(this, 'name', { value: new.target.name, enumerable: false, configurable: true, writable: true })
    /** A stable machine-readable code (`not_found`, `rate_limited`, ...). */
    this.code = r.code
    /** The HTTP status, for errors the server answered. */
    this.status = r.status ?? undefined
    /** The server's `message` (or what the SDK found wrong), without status or request id. */
    this.apiMessage = r.message ?? message
    /** The raw response body, for errors the server answered. */
    this.body = r.body ?? undefined
    /** The `x-request-id` of the (last) response. */
    this.requestId = r.requestId ?? undefined
    /** Seconds to wait before retrying (`Retry-After`, or the client-side quota wait). */
    this.retryAfter = r.retryAfter ?? undefined
    /** Whether sending the same request again later could succeed and is safe. */
    this.retryable = r.retryable ?? false
    /** How many retries were made before giving up. */
    this.retriesTaken = r.retriesTaken ?? 0
    /** True when a non-idempotent request may have reached the server and acted. */
    this.mayHaveBeenApplied = r.mayHaveBeenApplied ?? false
    /** For validation errors: the parameter at fault (camelCase). */
    this.field = r.field ?? undefined
    /** The HTTP method of the request, when one was made. */
    this.method = r.method ?? undefined
    /** The request path, when one was made. */
    this.path = r.path ?? undefined
    /** For validation errors: the rule that failed, where one is named (`depth`, `dot_segment`, ...). */
    this.rule = r.rule ?? undefined
  }
}

/** A bad argument or option, caught before any request was sent. */
class ValidationError extends ParsecError {}

/** An error the server answered with an unsuccessful HTTP status. */
class APIError extends ParsecError {}
/** An unsuccessful status without a class of its own (e.g. 405). */
class APIStatusError extends APIError {}
/** HTTP 400. */
class BadRequestError extends APIError {}
/** HTTP 401. */
class AuthenticationError extends APIError {}
/** HTTP 403. */
class PermissionDeniedError extends APIError {}
/** HTTP 404. */
class NotFoundError extends APIError {}
/** HTTP 409. */
class ConflictError extends APIError {}
/** HTTP 422. */
class UnprocessableEntityError extends APIError {}
/** HTTP 429, or a client-side quota wait longer than `maxRetryWaitMs`; see `retryAfter`. */
class RateLimitError extends APIError {}
/** HTTP 500 and above. */
class InternalServerError extends APIError {}

/** The connection could not be made or broke. */
class APIConnectionError extends ParsecError {}
/** The request timed out (a kind of connection error). */
class APITimeoutError extends APIConnectionError {}
/** The response body could not be decoded. */
class APIResponseError extends ParsecError {}
/** A defect inside the SDK (a caught panic): please report it. Not an APIError. */
class InternalError extends ParsecError {}

const CLASSES = {
  ParsecError,
  ValidationError,
  APIError,
  APIStatusError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  UnprocessableEntityError,
  RateLimitError,
  InternalServerError,
  APIConnectionError,
  APITimeoutError,
  APIResponseError,
  InternalError,
}

function camel(name) {
  return name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())
}

/**
 * The Error for a native error record. Called in the SDK's async function
 * right after the await, so the stack runs through the caller's frames.
 */
function fromRecord(record) {
  const Class = CLASSES[record.className] || ParsecError
  let message = record.display
  if (record.field) {
    // The core names wire fields (snake_case); Node users write camelCase.
    const field = camel(record.field)
    if (message.startsWith(record.field + ':')) message = field + message.slice(record.field.length)
    record = { ...record, field, message: record.message.startsWith(record.field + ':') ? field + record.message.slice(record.field.length) : record.message }
  }
  const err = new Class(message, record)
  Error.captureStackTrace(err, fromRecord)
  return err
}

/** A ValidationError raised by the JavaScript layer itself (argument conversion). */
function validation(field, rule, ruleName) {
  return new ValidationError(`${field}: ${rule}`, { code: 'validation_error', field, message: `${field}: ${rule}`, rule: ruleName })
}

/** The deepest nesting of arrays and objects accepted in a parameter or body (the core's validate::MAX_DEPTH). */
const MAX_DEPTH = 128

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
  if (!fits(value, MAX_DEPTH)) throw validation(field, `nested deeper than ${MAX_DEPTH} levels`, 'depth')
}

const INTERNAL_PREFIX = 'internal error in parsec-teams (please report it): '

/**
 * The InternalError for an exception a native entry point threw (a caught
 * panic, or an argument the native layer refused: both defects of the SDK);
 * errors of the SDK's own classes pass through.
 */
function internal(e) {
  if (e instanceof ParsecError) return e
  const text = e instanceof Error ? e.message : String(e)
  const message = text.startsWith(INTERNAL_PREFIX) ? text : INTERNAL_PREFIX + text
  const err = new InternalError(message, { code: 'internal_error', message, retryable: false })
  Error.captureStackTrace(err, internal)
  return err
}

module.exports = { ...CLASSES, fromRecord, validation, checkDepth, internal }
