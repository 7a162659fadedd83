// Soak client (Node package): steady calls until the deadline, then one JSON
// line of counts. Usage: node client.mjs BASE_URL API_KEY TEAM_ID SECONDS PAUSE_MS
import { pathToFileURL } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import path from 'node:path'

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const { Client, NotFoundError, ValidationError } = await import(pathToFileURL(path.join(root, 'bindings-node/index.mjs')).href)

const [baseUrl, apiKey, teamId, seconds, pauseMs] = process.argv.slice(2)
const client = new Client({ apiKey, teamId, baseUrl, maxRetries: 0 })
const deadline = Date.now() + Number(seconds) * 1000
let calls = 0
let unexpected = 0
const expect = async (promise, cls) => {
  try {
    await promise
    unexpected++
  } catch (e) {
    if (e instanceof cls) calls++
    else {
      unexpected++
      console.error(`node: unexpected ${e}`)
    }
  }
}
while (Date.now() < deadline) {
  try {
    const page = await client.members.list({ limit: 50 })
    await client.members.get({ userId: page.data[0].user_id })
    await client.groups.list({ limit: 20 })
    await client.machines.list({ limit: 20 })
    for await (const m of client.members.iter({ limit: 5 })) void m
    calls += 5
  } catch (e) {
    unexpected++
    console.error(`node: unexpected ${e}`)
  }
  await expect(client.members.get({ userId: 999999 }), NotFoundError)
  await expect(client.members.list({ limit: 0 }), ValidationError)
  await sleep(Number(pauseMs))
}
console.log(JSON.stringify({ client: 'node', calls, unexpected }))
process.exitCode = unexpected ? 1 : 0
