// Every operation of the core's table, called through the generated surface
// against the mock; asserts on what the server saw, not only on the result.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TABLE, DESCRIPTION, startMock, pathPattern } from './helpers.mjs'

const soon = (h) => new Date(Date.now() + h * 3600e3)
const list = (r) => assert.ok(Array.isArray(r.data) && r.data.length > 0, JSON.stringify(r))

// `api:resource.name` -> [call, check of the result, check of the request body]
const CASES = {
  'teams:audit_log.list_events': [(c) => c.auditLog.listEvents({ limit: 5, eventNames: ['member.joined', 'group.created'] }), (r) => { assert.ok(r.data.length <= 5); assert.equal(typeof r.next_cursor, 'string') }],
  'teams:groups.list': [(c) => c.groups.list({ limit: 2 }), (r) => { assert.equal(r.data.length, 2); assert.equal(r.count, 6) }],
  'teams:groups.create': [(c) => c.groups.create({ groupName: 'NY Office', allowConnectionsWithinGroup: true, showUserAssignedManagedHosts: true, showPersonalHosts: false }), (r) => assert.equal(r.name, 'NY Office'), (b) => assert.equal(b.group_name, 'NY Office')],
  'teams:groups.get': [(c) => c.groups.get({ groupId: 1 }), (r) => assert.equal(r.id, 1)],
  'teams:groups.update': [(c) => c.groups.update({ groupId: 2, groupName: 'Design Team' }), (r) => assert.equal(r.name, 'Design Team'), (b) => assert.deepEqual(b, { group_name: 'Design Team' })],
  'teams:groups.delete': [(c) => c.groups.delete({ groupId: 5 }), (r) => assert.equal(r, null)],
  'teams:groups.remove_members': [(c) => c.groups.removeMembers({ groupId: 1, userIds: [3] }), null, (b) => assert.deepEqual(b.user_ids, [3])],
  'teams:groups.add_permitted_groups': [(c) => c.groups.addPermittedGroups({ groupId: 3, groupIds: [4], direction: 'outgoing', showGroupAssignedManagedHosts: true, showUserAssignedManagedHosts: false, showPersonalHosts: false }), null, (b) => assert.deepEqual(b.group_ids, [4])],
  'teams:groups.remove_permitted_groups': [(c) => c.groups.removePermittedGroups({ groupId: 1, groupIds: [2], direction: 'outgoing' }), null, (b) => assert.equal(b.direction, 'outgoing')],
  'teams:groups.update_permitted_group': [(c) => c.groups.updatePermittedGroup({ groupId: 1, permittedGroupId: 2, direction: 'outgoing', showPersonalHosts: false }), null, (b) => assert.equal(b.show_personal_hosts, false)],
  'teams:groups.add_members': [(c) => c.groups.addMembers({ groupId: 3, userIds: [10] }), null, (b) => assert.deepEqual(b.user_ids, [10])],
  'teams:groups.assign_members': [(c) => c.groups.assignMembers({ groupId: 3, userIds: [11] }), null, (b) => assert.deepEqual(b.user_ids, [11])],
  'teams:guest_access.get': [(c) => c.guestAccess.get({ inviteId: 'gai_001' }), (r) => assert.equal(r.id, 'gai_001')],
  'teams:guest_access.update': [(c) => c.guestAccess.update({ inviteId: 'gai_003', keyboard: false }), null, (b) => assert.deepEqual(b, { keyboard: false })],
  'teams:guest_access.cancel': [(c) => c.guestAccess.cancel({ inviteId: 'gai_004' })],
  'teams:guest_access.list': [(c) => c.guestAccess.list(), list],
  'teams:guest_access.create': [(c) => c.guestAccess.create({ hostPeerId: '27rm63mS7SRgxcRzqCZUmnHFUAq', guestEmail: 'visitor@partner.com', eventName: 'Demo', keyboard: true, mouse: true, gamepad: false, timeZone: 'Europe/Paris', startsAt: soon(1), expiresAt: soon(2), message: 'Welcome' }), (r) => assert.equal(r.guest_email, 'visitor@partner.com'), (b) => assert.equal(b.time_zone, 'Europe/Paris')],
  'teams:guest_access.kick_guest': [(c) => c.guestAccess.kickGuest({ inviteId: 'gai_002' })],
  'teams:guest_access.credits': [(c) => c.guestAccess.credits(), (r) => assert.equal(r.balance, 25)],
  'teams:machines.list': [(c) => c.machines.list({ assignment: 'unassigned' }), (r) => assert.ok(r.data.every((m) => m.assignment === 'unassigned') && r.data.length > 0)],
  'teams:machines.update': [(c) => c.machines.update({ machineId: 'tm_017', name: 'Renamed' }), (r) => assert.equal(r.name, 'Renamed')],
  'teams:machines.delete': [(c) => c.machines.delete({ machineId: 'tm_020' })],
  'teams:machines.get': [(c) => c.machines.get({ machineId: 'tm_001' }), (r) => assert.equal(r.id, 'tm_001')],
  'teams:machines.create_assignment': [(c) => c.machines.createAssignment({ machineId: 'tm_018', userId: 10 }), null, (b) => assert.equal(b.user_id, 10)],
  'teams:machines.remove_assignment': [(c) => c.machines.removeAssignment({ machineId: 'tm_002' })],
  'teams:machines.set_assignment': [(c) => c.machines.setAssignment({ machineId: 'tm_019', teamGroupIds: [1] }), null, (b) => assert.deepEqual(b.team_group_ids, [1])],
  'teams:machines.kick_user': [(c) => c.machines.kickUser({ machineId: 'tm_001', userId: 3 })],
  'teams:app_rules.list': [(c) => c.appRules.list(), list],
  'teams:app_rules.unassign': [(c) => c.appRules.unassign({ appRuleId: 'tar_creative', userIds: [11] }), null, (b) => assert.deepEqual(b.user_ids, [11])],
  'teams:app_rules.assign': [(c) => c.appRules.assign({ appRuleId: 'tar_creative', teamMachineIds: ['tm_010'] }), null, (b) => assert.deepEqual(b.team_machine_ids, ['tm_010'])],
  'teams:members.list': [(c) => c.members.list({ isAdmin: true }), (r) => assert.ok(r.data.every((m) => m.is_admin))],
  'teams:members.remove': [(c) => c.members.remove({ userId: 40 })],
  'teams:members.get': [(c) => c.members.get({ userId: 1 }), (r) => assert.equal(r.email, 'ada.lovelace@example.com')],
  'teams:invites.list': [(c) => c.invites.list(), list],
  'teams:invites.create': [(c) => c.invites.create({ emails: ['a.new@example.com'], groupId: 1 }), (r) => assert.equal(r.data[0].email, 'a.new@example.com'), (b) => assert.deepEqual(b.emails, ['a.new@example.com'])],
  'teams:invites.update': [(c) => c.invites.update({ emails: ['new.hire1@example.com'], groupId: 2 }), null, (b) => assert.equal(b.group_id, 2)],
  'teams:invites.cancel': [(c) => c.invites.cancel({ emails: ['new.hire1@example.com'] })],
  'teams:invites.cancel_deprecated': [(c) => c.invites.cancelDeprecated({ emails: ['new.hire2@example.com'] })],
  'teams:invites.resend': [(c) => c.invites.resend({ emails: ['intern@example.com'] })],
  'admin:teams.list': [(a) => a.teams.list(), (r) => assert.ok(Array.isArray(r) && r.length >= 4)],
  'admin:teams.list_owned': [(a) => a.teams.listOwned(), (r) => assert.ok(Array.isArray(r))],
  'admin:teams.get': [(a) => a.teams.get({ id: '1' }), (r) => assert.equal(r.name, 'Engineering')],
  'admin:teams.create': [(a) => a.teams.create({ name: 'Ops', quota: 1024, quotaMailSent: false }), (r) => assert.equal(r.name, 'Ops'), (b) => assert.deepEqual(b, { team: { name: 'Ops', quota: '1024', quota_mail_sent: 'false' } })],
  'admin:teams.update': [(a) => a.teams.update({ id: '2', name: 'Design 2' }), (r) => assert.equal(r.name, 'Design 2')],
  'admin:teams.delete': [(a) => a.teams.delete({ id: '4' })],
  'admin:teams.add_user': [(a) => a.teams.addUser({ teamId: '2', userId: '10' })],
  'admin:teams.remove_user': [(a) => a.teams.removeUser({ teamId: '1', userId: '2' })],
  'admin:users.assign_to_all_teams': [(a) => a.users.assignToAllTeams({ userId: '12' })],
  'admin:users.remove_from_all_teams': [(a) => a.users.removeFromAllTeams({ userId: '12' })],
  'admin:teams.access_rights': [(a) => a.teams.accessRights({ id: '1', type: 'assets' }), (r) => assert.ok(Array.isArray(r))],
}

test('every operation of the core table has a case here', () => {
  const names = TABLE.map((op) => `${op.api}:${op.resource}.${op.name}`)
  assert.deepEqual(Object.keys(CASES).sort(), names.sort())
  assert.equal(names.length, DESCRIPTION.counts.operations)
  for (const api of DESCRIPTION.apis) assert.equal(names.filter((n) => n.startsWith(api.name + ':')).length, DESCRIPTION.counts[api.name])
})

test('every operation against the mock', async (t) => {
  const mock = await startMock(t)
  const client = mock.client()
  const admin = mock.adminClient()
  for (const op of TABLE) {
    const name = `${op.api}:${op.resource}.${op.name}`
    await t.test(name, async () => {
      await mock.reset()
      const [call, check, checkBody] = CASES[name]
      const result = await call(op.api === 'admin' ? admin : client)
      if (check) check(result)
      const reqs = await mock.requests()
      assert.equal(reqs.length, 1, JSON.stringify(reqs))
      const [req] = reqs
      assert.equal(req.method, op.http_method)
      assert.match(req.path, pathPattern(op.path))
      assert.ok(req.status >= 200 && req.status < 300, `status ${req.status}`)
      if (checkBody) checkBody(req.body)
    })
  }
})
