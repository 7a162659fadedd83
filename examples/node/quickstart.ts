// The README quick start, type-checked by `tsc --strict` (make -C bindings-node test).
import { Client, NotFoundError, RateLimitError, type Member } from 'parsec-teams'

export async function main(signal?: AbortSignal): Promise<Member[]> {
  const client = new Client({ timeoutMs: 30_000, maxRetries: 2 }) // PARSEC_API_KEY from the environment
  const page = await client.members.list({ offset: 0, limit: 50 })
  console.log(`${page.count ?? 0} members`)

  const admins: Member[] = []
  for await (const member of client.members.iter({ isAdmin: true }, { signal })) admins.push(member)

  try {
    await client.guestAccess.kickGuest({ inviteId: 'gai_001' }, { signal })
  } catch (err) {
    if (err instanceof NotFoundError) console.log(`no such invite (request ${err.requestId})`)
    else if (err instanceof RateLimitError) console.log(`retry in ${err.retryAfter ?? 0} s`)
    else throw err
  }
  const { data, status, headers } = await client.members.get({ userId: 1 }).withResponse()
  console.log(status, headers.get('x-request-id'), data.email)
  return admins
}
