import { type AuthOptions, createAuth, type DenyCode, memoryStore, type Principal, type SessionStore } from '@gatehouse/core'
import { createTestIssuer, type TestIssuer } from '@gatehouse/core/testing'

export const ISSUER = 'https://id.test'
export const AUDIENCE = 'api'
export const REALM = 'adapter-test'
export const APP_ORIGIN = 'http://app.test'
export const SESSION_SECRET = 'session-secret-for-adapter-tests-0123456789'
export const OLD_SESSION_SECRET = 'an-older-session-secret-that-was-rotated-out'

/** The issuer whose tokens the engine accepts (RS256, a JWK with a `kid`). */
export const issuer: TestIssuer = createTestIssuer({ alg: 'RS256', issuer: ISSUER, audience: AUDIENCE })
/** Same `kid`, another key: its signatures do not verify. */
export const impostor: TestIssuer = createTestIssuer({ alg: 'RS256', issuer: ISSUER, audience: AUDIENCE })
/** An HMAC issuer: the engine has no secret, so HS256 is refused outright. */
export const hmacIssuer: TestIssuer = createTestIssuer({ alg: 'HS256', issuer: ISSUER, audience: AUDIENCE })

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
export const userToken = (claims: Record<string, unknown> = {}) => issuer.sign({ sub: 'user-1', roles: ['user'], ...claims })
export const adminToken = () => issuer.sign({ sub: 'admin-1', roles: ['admin'] })

/**
 * A session store that reports the sessions of chosen users as expired, to produce
 * `session_expired` without waiting out a real timeout.
 */
export function expirableStore(): SessionStore & { expiredUsers: Set<string> } {
  const inner = memoryStore()
  const expiredUsers = new Set<string>()
  return {
    expiredUsers,
    get: async (key: string) => {
      const s = await inner.get(key)
      return s && expiredUsers.has(s.userId) ? { ...s, expiresAt: Date.now() - 1000 } : s
    },
    set: inner.set,
    touch: inner.touch,
    destroy: inner.destroy,
    destroyByUser: inner.destroyByUser,
  }
}

/** Maps claims or a session to a principal; `ghost` is unknown (null), `boom` makes the look-up throw. */
export function principal({ claims, session }: { claims?: Record<string, unknown>; session?: { userId: string; roles: string[] } }): Principal | null {
  const id = (claims?.sub as string | undefined) ?? session?.userId ?? ''
  if (id === 'ghost') return null
  if (id === 'boom') throw new Error('user database unreachable')
  if (session) return { id, roles: session.roles, scopes: [] }
  const scope = typeof claims?.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : []
  return { id, roles: (claims?.roles as string[] | undefined) ?? [], scopes: scope }
}

/** The options every adapter test uses, with the paths the test apps serve. */
export function authOptions(store: SessionStore, extra: Partial<AuthOptions> = {}) {
  return {
    jwt: { ...issuer.options, isRevoked: (claims: { jti?: string }) => claims.jti === 'revoked' },
    session: { secret: [SESSION_SECRET, OLD_SESSION_SECRET], store, cookie: { secure: false } },
    public: ['/health', '/public/**', 'POST /login'],
    rules: [
      { match: '/api/admin/**', roles: ['admin'] },
      { match: '/admin/**', roles: ['admin'] },
      { match: '/api/reports/**', scopes: ['reports:read'] },
      { match: '/api/owner-only', check: (p: Principal) => p.id === 'owner' },
    ],
    origins: { allow: [APP_ORIGIN] },
    principal,
    realm: REALM,
    ...extra,
  } satisfies AuthOptions
}

export const makeAuth = (store: SessionStore, extra: Partial<AuthOptions> = {}) => createAuth(authOptions(store, extra))

/** How a deny's `WWW-Authenticate` must read. */
export function expectedChallenge(code: DenyCode, presented: 'none' | 'credential' | 'malformed', scope?: string): string | null {
  const realm = `Bearer realm="${REALM}"`
  if (code === 'insufficient_scope') return `${realm}, error="insufficient_scope", scope="${scope}"`
  if (['insufficient_role', 'forbidden', 'csrf_rejected', 'origin_rejected', 'auth_unavailable'].includes(code)) return null
  if (presented === 'malformed') return `${realm}, error="invalid_request"`
  if (presented === 'none') return realm
  return `${realm}, error="invalid_token"`
}

/** One deny an HTTP request can produce: what to send and what must come back. */
export interface DenyCase {
  code: DenyCode
  status: 401 | 403 | 503
  method: string
  path: string
  headers: () => Record<string, string>
  presented: 'none' | 'credential' | 'malformed'
  scope?: string
}

/**
 * Every deny code a plain HTTP request can produce against the test apps (`origin_rejected` needs
 * an upgrade and is covered by the WebSocket tests). `sessionCookie` returns a `Cookie` header of a
 * live session; `expiredCookie` one whose session the store reports as expired; `deadCookie` one
 * of a destroyed session.
 */
export function denyCases(cookies: { live: () => string; expired: () => string; dead: () => string }): DenyCase[] {
  const t = (c: Record<string, unknown> = {}, o: Parameters<TestIssuer['sign']>[1] = {}) => issuer.sign({ sub: 'user-1', roles: ['user'], ...c }, o)
  return [
    { code: 'credentials_missing', status: 401, method: 'GET', path: '/api/me', headers: () => ({}), presented: 'none' },
    { code: 'credentials_malformed', status: 401, method: 'GET', path: '/api/me', headers: () => ({ authorization: 'Basic dXNlcjpwYXNz' }), presented: 'malformed' },
    { code: 'token_expired', status: 401, method: 'GET', path: '/api/me', headers: () => bearer(t({}, { expiresIn: -600 })), presented: 'credential' },
    { code: 'token_not_yet_valid', status: 401, method: 'GET', path: '/api/me', headers: () => bearer(t({}, { notBefore: 600 })), presented: 'credential' },
    { code: 'token_signature_invalid', status: 401, method: 'GET', path: '/api/me', headers: () => bearer(impostor.sign({ sub: 'user-1' })), presented: 'credential' },
    { code: 'token_algorithm_rejected', status: 401, method: 'GET', path: '/api/me', headers: () => bearer(hmacIssuer.sign({ sub: 'user-1' })), presented: 'credential' },
    { code: 'token_issuer_mismatch', status: 401, method: 'GET', path: '/api/me', headers: () => bearer(t({ iss: 'https://evil.test' })), presented: 'credential' },
    { code: 'token_audience_mismatch', status: 401, method: 'GET', path: '/api/me', headers: () => bearer(t({ aud: 'another-service' })), presented: 'credential' },
    { code: 'token_claim_invalid', status: 401, method: 'GET', path: '/api/me', headers: () => bearer(t({}, { omitExp: true })), presented: 'credential' },
    { code: 'token_key_unknown', status: 401, method: 'GET', path: '/api/me', headers: () => bearer(t({}, { header: { kid: 'rotated-away' } })), presented: 'credential' },
    { code: 'token_revoked', status: 401, method: 'GET', path: '/api/me', headers: () => bearer(t({ jti: 'revoked' })), presented: 'credential' },
    { code: 'session_invalid', status: 401, method: 'GET', path: '/api/me', headers: () => ({ cookie: cookies.dead() }), presented: 'credential' },
    { code: 'session_expired', status: 401, method: 'GET', path: '/api/me', headers: () => ({ cookie: cookies.expired() }), presented: 'credential' },
    { code: 'principal_rejected', status: 401, method: 'GET', path: '/api/me', headers: () => bearer(t({ sub: 'ghost' })), presented: 'credential' },
    { code: 'insufficient_role', status: 403, method: 'GET', path: '/api/admin', headers: () => bearer(t()), presented: 'credential' },
    { code: 'insufficient_scope', status: 403, method: 'GET', path: '/api/reports', headers: () => bearer(t({ scope: 'reports:write' })), presented: 'credential', scope: 'reports:read' },
    { code: 'forbidden', status: 403, method: 'GET', path: '/api/owner-only', headers: () => bearer(t()), presented: 'credential' },
    { code: 'csrf_rejected', status: 403, method: 'POST', path: '/api/things', headers: () => ({ cookie: cookies.live(), origin: 'https://evil.test' }), presented: 'credential' },
    { code: 'auth_unavailable', status: 503, method: 'GET', path: '/api/me', headers: () => bearer(t({ sub: 'boom' })), presented: 'credential' },
  ]
}
