// Smoke test of the npm tarballs installed into an empty project (run there by
// packaging/package.sh): require and import both load the platform package's
// addon, and a call against the embedded MockServer works.
//   node smoke.cjs EXPECTED_VERSION PLATFORM (linux-x64-gnu)
const assert = require('assert')
const { MockServer, Client, NotFoundError, VERSION } = require('parsec-teams')

;(async () => {
  const want = process.argv[2]
  const main = require.resolve('parsec-teams')
  assert.ok(main.includes('node_modules'), main)
  const platform = process.argv[3]
  const addon = require.resolve(`parsec-teams-${platform}`)
  assert.ok(addon.endsWith(`parsec-teams.${platform}.node`), addon)
  const mock = await MockServer.start()
  const client = new Client({ apiKey: mock.apiKey, baseUrl: mock.baseUrl })
  const page = await client.members.list({ limit: 2 })
  assert.equal(page.data.length, 2)
  const err = await client.members.get({ userId: 424242 }).catch((e) => e)
  assert.ok(err instanceof NotFoundError, String(err))
  await mock.stop()
  const esm = await import('parsec-teams')
  assert.equal(esm.MockServer, MockServer)
  assert.equal(VERSION, want)
  console.log(`node smoke: parsec-teams ${want} from ${main} with ${addon}: ok`)
})().catch((e) => {
  console.error(e)
  process.exit(1)
})
