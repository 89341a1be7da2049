/**
 * Builds the credential book for an engine: valid tokens and sessions for each holder, and every
 * kind of session cookie that must be refused.
 */
import { createHmac, randomBytes } from 'node:crypto'
import type { Auth } from '@gatehouse/core'
import type { CredentialBook } from './arbitraries.js'
import { validTokens } from './arbitraries.js'
import { badTokens, SESSION_SECRET } from './policy.js'

const sign = (id: string, secret: string) => `${id}.${createHmac('sha256', secret).update(id).digest('base64url')}`

/** The cookie value inside a `Set-Cookie` string. */
export function cookieValue(setCookie: string): string {
  return (setCookie.split(';', 1)[0] as string).split('=').slice(1).join('=')
}

/** Creates live sessions for `user` and `admin` on `auth`, a destroyed one, and forged ones. */
export async function credentialBook(auth: Auth): Promise<CredentialBook> {
  const sessions = auth.sessions
  if (sessions === undefined) throw new Error('credentialBook needs an engine with sessions')
  const user = cookieValue((await sessions.create({ userId: 'user-1', roles: ['user'] })).setCookie)
  const admin = cookieValue((await sessions.create({ userId: 'admin-1', roles: ['admin'] })).setCookie)
  const gone = cookieValue((await sessions.create({ userId: 'admin-1', roles: ['admin'] })).setCookie)
  await sessions.destroy(gone.slice(0, 43))
  const [id, mac] = admin.split('.') as [string, string]
  const neverIssued = randomBytes(32).toString('base64url')
  return {
    tokens: validTokens(),
    sessions: { user, admin },
    badTokens: badTokens(),
    badSessions: {
      destroyed: gone,
      neverIssued: sign(neverIssued, SESSION_SECRET),
      otherSecret: sign(id, 'another-secret-that-this-service-never-had-0123'),
      macFlipped: `${id}.${mac.slice(0, 5)}${mac[5] === 'A' ? 'B' : 'A'}${mac.slice(6)}`,
      idFlipped: `${id.slice(0, 5)}${id[5] === 'A' ? 'B' : 'A'}${id.slice(6)}.${mac}`,
      macOnly: mac,
      idOnly: id,
      lowerCased: admin.toLowerCase(),
      padded: `${admin}=`,
      oversized: `${id}.${'A'.repeat(5000)}`,
      empty: '',
    },
  }
}
