// Type tests: the declarations accept right calls and reject wrong ones
// (every @ts-expect-error must be needed, or tsc fails).
import { Client, MockServer, NotFoundError, RateLimitError, type Member, type Page } from 'parsec-teams'

export async function typed(mock: MockServer): Promise<void> {
  const client: Client = mock.client()
  const page: Page<Member> = await client.members.list({ limit: 10, isAdmin: true })
  const first: number | undefined = page.data[0]?.user_id
  const r = await client.groups.get({ groupId: 1 }).withResponse()
  const status: number = r.status
  const id: string | null = r.headers.get('x-request-id')
  for await (const e of client.auditLog.iterEvents({ limit: 100, eventNames: ['member.joined'] })) {
    const name: string | undefined = e.event_name
    void name
  }
  await client.machines.list({ assignment: 'unassigned' }, { signal: AbortSignal.timeout(1000), maxRetries: 0 })
  const credits = await client.guestAccess.credits()
  const balance: number | undefined = credits.balance
  try {
    await client.members.get({ userId: 1 })
  } catch (e) {
    if (e instanceof RateLimitError) {
      const wait: number | undefined = e.retryAfter
      void wait
    } else if (e instanceof NotFoundError) {
      const s: number = e.status
      void s
    }
  }
  // @ts-expect-error userId is required
  await client.members.get({})
  // @ts-expect-error limit is a number
  await client.members.list({ limit: '10' })
  // @ts-expect-error not a direction
  await client.groups.removePermittedGroups({ groupId: 1, groupIds: [2], direction: 'sideways' })
  // @ts-expect-error no such operation
  await client.members.delete({ userId: 1 })
  // @ts-expect-error user_id is the wire name; Node takes userId
  await client.members.get({ user_id: 1 })
  void [first, status, id, balance]
}
