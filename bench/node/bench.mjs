#!/usr/bin/env node
// Node benchmark: the parsec-teams package vs undici.request and global fetch,
// side by side in one process, against the release `parsec-teams-mock` binary
// running in its OWN process (its CPU is not counted as the client's).
//
// Scenarios: 2,000 sequential members.get; 10,000 members.get at concurrency
// 64; 500 sequential members.list({limit: 200}). JSON fully decoded by every
// client. Rounds are interleaved (every client runs every scenario in every
// round, in a rotating order); we report medians over the rounds, ratios, and
// the client's CPU time per request (process.cpuUsage: user + system, every
// thread of this process, so the addon's tokio workers count too).
//
//   make -C bindings-node bench     (ROUNDS=5 to change the number of rounds)

import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir, cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const pkgDir = join(root, 'bindings-node')
const require = createRequire(join(pkgDir, 'package.json'))
const { Client } = require(pkgDir)
const undici = require('undici')

const ROUNDS = Number(process.env.ROUNDS || 5)
const SEQ_N = Number(process.env.SEQ_N || 2000)
const CONC_N = Number(process.env.CONC_N || 10000)
const CONC = 64
const PAGE_N = Number(process.env.PAGE_N || 500)
const MEMBERS = 1000
const MOCK_BIN =
  process.env.PARSEC_TEAMS_MOCK ||
  join(root, 'target', ...(process.env.CARGO_BUILD_TARGET ? [process.env.CARGO_BUILD_TARGET] : []), 'release', 'parsec-teams-mock')

function startMock(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(MOCK_BIN, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    child.on('error', reject)
    const rl = createInterface({ input: child.stdout })
    rl.once('line', (line) => resolve({ child, info: JSON.parse(line) }))
  })
}

async function stopMock(child) {
  const done = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await done
}

// A fixture with MEMBERS members, built from the default one (GET /_mock/state).
const tmp = mkdtempSync(join(tmpdir(), 'parsec-teams-bench-'))
const fixturePath = join(tmp, 'fixture.json')
{
  const { child, info } = await startMock([])
  const state = await (await fetch(`${info.base_url}/_mock/state`)).json()
  await stopMock(child)
  for (let id = state.members.length + 1; id <= MEMBERS; id++) {
    state.members.push({ user_id: id, email: `member${id}@example.com`, name: `Member ${id}`, is_admin: id % 7 === 0, is_owner: false, has_api_key: false, group_ids: [1 + (id % 6)], team_app_rule_id: null, created_at: '2024-01-01T00:00:00Z' })
  }
  delete state.quotas
  writeFileSync(fixturePath, JSON.stringify(state))
}
const { child: mock, info } = await startMock(['--fixture', fixturePath])
const base = info.base_url
const auth = { authorization: `Bearer ${info.api_key}` }
const membersUrl = `${base}/v1/teams/${info.team_id}/members`

// ---------------------------------------------------------------------------
// The clients: each exposes get(userId) and list200(); all decode the JSON.
// ---------------------------------------------------------------------------
const sdk = new Client({ apiKey: info.api_key, teamId: info.team_id, baseUrl: base })
const sdkNative = sdk[Object.getOwnPropertySymbols(sdk).find((s) => s.description === 'parsec-teams.native')]
const agent = new undici.Agent({ keepAliveTimeout: 10_000 })
const check = (status) => {
  if (status !== 200) throw new Error(`status ${status}`)
}
const clients = {
  'parsec-teams': {
    get: (id) => sdk.members.get({ userId: id }),
    list200: () => sdk.members.list({ limit: 200 }),
  },
  'undici.request': {
    get: async (id) => {
      const { statusCode, body } = await undici.request(`${membersUrl}/${id}`, { headers: auth, dispatcher: agent })
      const json = await body.json()
      check(statusCode)
      return json.data
    },
    list200: async () => {
      const { statusCode, body } = await undici.request(`${membersUrl}?offset=0&limit=200`, { headers: auth, dispatcher: agent })
      const json = await body.json()
      check(statusCode)
      return json
    },
  },
  fetch: {
    get: async (id) => {
      const res = await fetch(`${membersUrl}/${id}`, { headers: auth })
      const json = await res.json()
      check(res.status)
      return json.data
    },
    list200: async () => {
      const res = await fetch(`${membersUrl}?offset=0&limit=200`, { headers: auth })
      const json = await res.json()
      check(res.status)
      return json
    },
  },
}

const scenarios = {
  [`sequential members.get x${SEQ_N}`]: {
    n: SEQ_N,
    unit: 'req/s',
    async run(c, n) {
      for (let i = 0; i < n; i++) {
        const m = await c.get((i % MEMBERS) + 1)
        if (m.user_id !== (i % MEMBERS) + 1) throw new Error('wrong member')
      }
    },
  },
  [`members.get x${CONC_N} at concurrency ${CONC}`]: {
    n: CONC_N,
    unit: 'req/s',
    async run(c, n) {
      let next = 0
      const worker = async () => {
        while (next < n) {
          const i = next++
          const m = await c.get((i % MEMBERS) + 1)
          if (m.user_id !== (i % MEMBERS) + 1) throw new Error('wrong member')
        }
      }
      await Promise.all(Array.from({ length: CONC }, worker))
    },
  },
  [`members.list({limit: 200}) x${PAGE_N}`]: {
    n: PAGE_N,
    unit: 'pages/s',
    async run(c, n) {
      for (let i = 0; i < n; i++) {
        const page = await c.list200()
        if (page.data.length !== 200) throw new Error(`page of ${page.data.length}`)
      }
    },
  },
}

async function resetMock() {
  // Keeps the mock's request log (and its memory) small between runs.
  await undici.request(`${base}/_mock/reset`, { method: 'POST', dispatcher: agent }).then((r) => r.body.dump())
}

// Each round runs every client on the scenario in SLICES alternating slices
// (A B C A B C ...), so a burst of load from elsewhere on this shared machine
// hits every client alike; a client's figure for the round sums its slices.
const SLICES = Number(process.env.SLICES || 5)

async function measureRound(scenario, order) {
  await resetMock()
  const acc = Object.fromEntries(order.map((c) => [c, { wall: 0, cpu: 0 }]))
  const per = Math.ceil(scenario.n / SLICES)
  for (let s = 0; s < SLICES; s++) {
    for (const c of order) {
      const cpu0 = process.cpuUsage()
      const t0 = process.hrtime.bigint()
      await scenario.run(clients[c], per)
      acc[c].wall += Number(process.hrtime.bigint() - t0) / 1e9
      const cpu = process.cpuUsage(cpu0)
      acc[c].cpu += cpu.user + cpu.system
    }
  }
  const n = per * SLICES
  return Object.fromEntries(order.map((c) => [c, { rate: n / acc[c].wall, cpuUs: acc[c].cpu / n }]))
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

const names = Object.keys(clients)
const results = {}
for (const s of Object.keys(scenarios)) {
  results[s] = {}
  for (const c of names) results[s][c] = { rate: [], cpuUs: [] }
}

// Warm-up: every client, both request kinds.
for (const c of names) {
  for (let i = 0; i < 300; i++) await clients[c].get((i % 50) + 1)
  for (let i = 0; i < 20; i++) await clients[c].list200()
}

for (let round = 0; round < ROUNDS; round++) {
  for (const [sname, scenario] of Object.entries(scenarios)) {
    const order = names.map((_, i) => names[(i + round) % names.length])
    const r = await measureRound(scenario, order)
    for (const c of order) {
      results[sname][c].rate.push(r[c].rate)
      results[sname][c].cpuUs.push(r[c].cpuUs)
    }
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`)
}

await stopMock(mock)
rmSync(tmp, { recursive: true, force: true })
await agent.close()

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------
const targets = {
  [`members.get x${CONC_N} at concurrency ${CONC}`]: { 'undici.request': 1.3, fetch: 3 },
  [`sequential members.get x${SEQ_N}`]: { 'undici.request': 1.2 },
  [`members.list({limit: 200}) x${PAGE_N}`]: { 'undici.request': 1.2 },
}
const fmt = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
let md = `## Node.js (\`parsec-teams\` npm package)\n\n`
md += `Run by \`make -C bindings-node bench\` (bench/node/bench.mjs) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: `
md += `Node ${process.versions.node}, ${cpus().length} CPUs (${cpus()[0].model.trim()}), shared with other builds (expect noise; the CPU figures are steadier). `
md += `Mock: the release \`parsec-teams-mock\` binary in its own process, with a ${MEMBERS}-member fixture. `
md += `Medians of ${ROUNDS} interleaved rounds (each round runs the clients in ${SLICES} alternating slices, rotating which goes first); every client decodes the JSON fully. `
md += `CPU = the client process's user + system time per request (process.cpuUsage), all threads (the addon's tokio workers included). `
md += `parsec-teams ran with its defaults: calls on the Node thread's own runtime (${sdkNative.onNodeThread ? 'active' : 'NOT active: threaded path'}), calls beyond 4 in flight offloaded to its worker threads, pages as tapes.\n\n`
md += `| scenario | client | throughput | CPU per request | throughput vs parsec-teams |\n| --- | --- | ---: | ---: | ---: |\n`
const summary = []
for (const [sname, scenario] of Object.entries(scenarios)) {
  const sdkRate = median(results[sname]['parsec-teams'].rate)
  for (const c of names) {
    const rate = median(results[sname][c].rate)
    const cpu = median(results[sname][c].cpuUs)
    md += `| ${sname} | ${c} | ${fmt(rate)} ${scenario.unit} | ${fmt(cpu, 1)} µs | ${c === 'parsec-teams' ? '1.00x' : `parsec-teams is ${fmt(sdkRate / rate, 2)}x`} |\n`
  }
  for (const [other, want] of Object.entries(targets[sname] || {})) {
    const ratio = sdkRate / median(results[sname][other].rate)
    summary.push(`- ${sname}: parsec-teams / ${other} = **${fmt(ratio, 2)}x** (target ${want}x: ${ratio >= want ? 'met' : 'NOT met'})`)
  }
}
md += `\nRatios against the targets of the issue:\n\n${summary.join('\n')}\n\n`
md += `Per-round throughput (req/s or pages/s), for the noise:\n\n`
for (const sname of Object.keys(scenarios)) {
  for (const c of names) md += `- ${sname}, ${c}: ${results[sname][c].rate.map((r) => fmt(r)).join(', ')}\n`
}
writeFileSync(join(here, 'RESULTS.md'), md)
console.log(md)
