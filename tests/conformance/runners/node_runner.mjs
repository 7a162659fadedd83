// The Node runner of the conformance scenarios: the built `bindings-node`
// package, through its public API only (camelCase names, converted here).
// Speaks the line protocol of tests/conformance/README.md on stdin/stdout.
import { createInterface } from 'node:readline'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bindings-node')
const sdk = await import(join(PKG, 'index.mjs'))
const { Client, AdminClient, ParsecError } = sdk
const version = createRequire(import.meta.url)(join(PKG, 'package.json')).version

const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())
const snake = (s) => (typeof s === 'string' ? s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase()) : s)
const num = (v) => (Number(v) < 0 ? undefined : Number(v))

function ancestry(e) {
  const out = []
  for (let p = Object.getPrototypeOf(e); p && p.constructor !== Error && p.constructor !== Object; p = Object.getPrototypeOf(p)) {
    out.push(p.constructor.name)
  }
  return out
}

function errorJson(e) {
  return {
    class: e.constructor.name,
    ancestry: ancestry(e),
    status: e.status ?? null,
    message: e.message,
    request_id: e.requestId ?? null,
    retryable: e.retryable,
    retries_taken: e.retriesTaken,
    may_have_been_applied: e.mayHaveBeenApplied,
    retry_after: e.retryAfter ?? null,
    field: snake(e.field) ?? null,
    rule: e.rule ?? null,
  }
}

const plain = (v) => JSON.parse(JSON.stringify(v === undefined ? null : v))
const clients = {}

function makeClient(f) {
  const [, api, baseUrl, key, teamId, timeoutMs, retries, waitMs, quota, windowMs] = f
  const common = { baseUrl, timeoutMs: num(timeoutMs), maxRetries: num(retries), maxRetryWaitMs: num(waitMs) }
  if (api === 'admin') {
    clients.admin = new AdminClient({ ...common, token: key })
  } else {
    const options = { ...common, apiKey: key, teamId }
    if (quota === '0') options.quotaPacing = false
    if (num(windowMs) !== undefined) options.quotaWindowSeconds = Number(windowMs) / 1000
    clients.teams = new Client(options)
  }
  return { ok: true }
}

async function call(f) {
  const [, mode, name, params, timeoutMs, retries] = f
  const parts = name.split('.')
  const client = clients[parts[0] === 'admin' ? 'admin' : 'teams']
  const resource = client[camel(parts.at(-2))]
  const method = camel(parts.at(-1))
  const args = {}
  for (const [k, v] of Object.entries(JSON.parse(params))) args[camel(k)] = v
  const options = {}
  if (num(timeoutMs) !== undefined) options.timeoutMs = Number(timeoutMs)
  if (num(retries) !== undefined) options.maxRetries = Number(retries)
  if (mode === 'iter') {
    const items = []
    for await (const item of resource[method.replace('list', 'iter')](args, options)) items.push(plain(item))
    return { ok: true, result: items }
  }
  if (mode === 'raw') {
    const r = await resource[method](args, options).withResponse()
    return { ok: true, result: plain(r.data), raw: { status: r.status, request_id: r.requestId ?? null } }
  }
  return { ok: true, result: plain(await resource[method](args, options)) }
}

process.stdout.write(JSON.stringify({ surface: 'node', language: 'node', class_tree: true, raw: true, version }) + '\n')
const rl = createInterface({ input: process.stdin })
for await (const line of rl) {
  const f = line.split('\t')
  let answer
  try {
    if (f[0] === 'client') answer = makeClient(f)
    else if (f[0] === 'call') answer = await call(f)
    else if (f[0] === 'reset') {
      delete clients.teams
      delete clients.admin
      answer = { ok: true }
    } else answer = { ok: false, protocol_error: `bad command ${line}` }
  } catch (e) {
    answer = e instanceof ParsecError ? { ok: false, error: errorJson(e) } : { ok: false, protocol_error: `${e?.name}: ${e?.message}` }
  }
  process.stdout.write(JSON.stringify(answer) + '\n')
}
