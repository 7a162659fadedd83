// Onboarding a new studio with parsec-teams, against the embedded MockServer:
// create a group, invite members into it, assign a machine to the group,
// issue a guest invite, and read the audit log.
//
//   make -C bindings-node demo        (or: node examples/node/onboard.mjs)
import { MockServer, Client, ConflictError } from 'parsec-teams'

const mock = await MockServer.start()
// Against the real service: new Client() reads PARSEC_API_KEY (and PARSEC_TEAM_ID).
const client = new Client({ apiKey: mock.apiKey, teamId: mock.teamId, baseUrl: mock.baseUrl })

// 1. A group for the new studio.
const group = await client.groups.create({
  groupName: 'Lisbon studio',
  allowConnectionsWithinGroup: true,
  showUserAssignedManagedHosts: true,
  showPersonalHosts: false,
})
// Response fields are all optional (the service does not document its bodies): check what you rely on.
const groupId = group.id
if (groupId === undefined) throw new Error('the service returned a group without an id')
console.log(`created group #${groupId} ${group.name}`)

// 2. Invite the team into it.
const emails = ['rita@example.com', 'joao@example.com', 'ines@example.com']
const invites = await client.invites.create({ emails, groupId, sendEmail: true })
for (const invite of invites.data) console.log(`invited ${invite.email}, join at ${invite.join_url}`)

// Someone already in the team cannot be invited again.
try {
  await client.invites.create({ emails: ['ada.lovelace@example.com'] })
} catch (err) {
  if (!(err instanceof ConflictError)) throw err
  console.log(`not invited again: ${err.apiMessage} (request ${err.requestId})`)
}

// The first invitee accepts (a mock hook standing in for the real click).
await mock.join('rita@example.com')
const [rita] = (await client.members.list({ email: 'rita@example.com' })).data
if (!rita) throw new Error('rita did not join')
console.log(`${rita.name ?? rita.email} joined as user #${rita.user_id}`)

// 3. Give the studio an unassigned machine.
const { data: free } = await client.machines.list({ assignment: 'unassigned', limit: 1 })
const machine = free[0]
if (!machine?.id || !machine.peer_id) throw new Error('no unassigned machine')
await client.machines.setAssignment({ machineId: machine.id, teamGroupIds: [groupId] })
const assigned = await client.machines.get({ machineId: machine.id })
console.log(`machine ${assigned.name} assigned to groups ${JSON.stringify(assigned.team_group_ids)}`)

// 4. A guest invite for a partner's review session tomorrow.
const startsAt = new Date(Date.now() + 24 * 3600e3)
const guest = await client.guestAccess.create({
  hostPeerId: machine.peer_id,
  guestEmail: 'reviewer@partner.example',
  eventName: 'Lisbon studio review',
  keyboard: true,
  mouse: true,
  gamepad: false,
  timeZone: 'Europe/Lisbon',
  startsAt,
  expiresAt: new Date(startsAt.getTime() + 2 * 3600e3),
  message: 'Welcome! The session opens at 10:00.',
})
const { balance } = await client.guestAccess.credits()
console.log(`guest invite ${guest.id} for ${guest.guest_email}; ${balance} credits left`)

// 5. The audit log, every page (follows next_cursor).
const counts = new Map()
for await (const event of client.auditLog.iterEvents({ limit: 200 })) {
  counts.set(event.event_name, (counts.get(event.event_name) ?? 0) + 1)
}
const total = [...counts.values()].reduce((a, b) => a + b, 0)
console.log(`audit log: ${total} events; ${[...counts].slice(0, 4).map(([k, v]) => `${k} x${v}`).join(', ')}, ...`)

// What the server saw, and what any call looked like on the wire.
const { status, requestId } = await client.members.get({ userId: rita.user_id ?? 0 }).withResponse()
console.log(`GET member -> ${status} (request ${requestId}); the mock saw ${(await mock.requests()).length} requests`)
await mock.stop()
