#!/usr/bin/env node
// One client process of bench/compare.sh: the parsec-teams Node package found in
// PKG_DIR (argv[2]; an old or the current build), one case, N measured calls.
//
//   node client_node.mjs PKG_DIR get|conc|pages N
//
// Reads PARSEC_BASE_URL / PARSEC_TEAM_ID / PARSEC_API_KEY. Warms up, prints
// "warm" and waits for one line on stdin (the driver samples the mock's CPU
// there), then makes the N calls and prints one JSON line: the process's CPU
// time (user + system, every thread) and the wall time of the measured part;
// then exits at the next line or EOF.
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
import { join } from 'node:path'

const [pkgDir, kase, nArg] = process.argv.slice(2)
const n = Number(nArg)
const require = createRequire(join(pkgDir, 'package.json'))
const { Client } = require(pkgDir)
const env = process.env
const sdk = new Client({ apiKey: env.PARSEC_API_KEY, teamId: env.PARSEC_TEAM_ID, baseUrl: env.PARSEC_BASE_URL })
const MEMBERS = 1000
const CONC = 64

async function get(i) {
  const id = (i % MEMBERS) + 1
  const m = await sdk.members.get({ userId: id })
  if (m.user_id !== id) throw new Error('wrong member')
}
async function page(i) {
  const p = await sdk.members.list({ limit: 200, offset: (i * 200) % MEMBERS })
  if (p.data.length !== 200) throw new Error(`short page: ${p.data.length}`)
}
async function sequential(fn, count) {
  for (let i = 0; i < count; i++) await fn(i)
}
async function concurrent(fn, count) {
  let next = 0
  const worker = async () => {
    while (next < count) await fn(next++)
  }
  await Promise.all(Array.from({ length: CONC }, worker))
}
const run = { get: (c) => sequential(get, c), conc: (c) => concurrent(get, c), pages: (c) => sequential(page, c) }[kase]
if (!run) throw new Error(`unknown case ${kase}`)

// Long enough for V8 to optimise the hot functions before the measured part.
await run(kase === 'pages' ? 50 : kase === 'conc' ? 16 * CONC : 1000)
process.stdout.write('warm\n')
const rl = createInterface({ input: process.stdin })
const lines = rl[Symbol.asyncIterator]()
await lines.next()
const c0 = process.cpuUsage()
const t0 = process.hrtime.bigint()
await run(n)
const wall = Number(process.hrtime.bigint() - t0) / 1e9
const c = process.cpuUsage(c0)
process.stdout.write(JSON.stringify({ cpu_s: (c.user + c.system) / 1e6, wall_s: wall }) + '\n')
await lines.next() // until the driver is done (a traced process is dumped here), or EOF
process.exit(0)
