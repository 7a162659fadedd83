// Type test of the ESM entry: the default export is the whole package.
import sdk, { Client, NotFoundError } from 'parsec-teams'

const client: Client = new sdk.Client({ apiKey: 'tapi_team.secret' })
export const same: boolean = sdk.NotFoundError === NotFoundError
export const page: Promise<sdk.Page<sdk.Member>> = client.members.list({ limit: 1 })
