/**
 * The policy every security test attacks, and the credentials they attack it with.
 *
 * It is deliberately realistic: a JWT from an asymmetric issuer read from the header, a cookie
 * and the query; server-side sessions; public paths of every pattern kind; protective rules with
 * roles, scopes and a check, in the order a team would write them (specific prefixes first); and
 * an origin allow-list with exact, subdomain and port wildcards.
 */
import { createHmac } from 'node:crypto'
import { type AuthOptions, memoryStore, type Principal, type SessionStore } from '@gatehouse/core'
import { createTestIssuer, type TestIssuer } from '@gatehouse/core/testing'

export const ISSUER = 'https://id.example.com'
export const AUDIENCE = 'backend'
export const SESSION_SECRET = 'security-suite-session-secret-0123456789abcdef'
export const SESSION_COOKIE = 'gatehouse.sid'
export const TOKEN_COOKIE = 'access_token'
export const TOKEN_QUERY = 'access_token'

/** Origins the policy allows, and what each allow-list entry means. */
export const ORIGINS_ALLOW = ['https://app.example.com', 'https://*.example.com', 'http://localhost:*']

/** The issuer whose tokens the policy accepts (ES256, JWK with a `kid`). */
export const issuer: TestIssuer = createTestIssuer({ alg: 'ES256', issuer: ISSUER, audience: AUDIENCE, kid: 'main' })
/** Same `kid`, same `iss` and `aud`, another key: a forger without the issuer's private key. */
export const impostor: TestIssuer = createTestIssuer({ alg: 'ES256', issuer: ISSUER, audience: AUDIENCE, kid: 'main' })
/** An RSA issuer under another `kid`, whose key the policy does not know. */
export const stranger: TestIssuer = createTestIssuer({ alg: 'RS256', issuer: ISSUER, audience: AUDIENCE, kid: 'other' })

/** Public paths: exact, a subtree, one segment for GET only, and one method-bound path. */
export const PUBLIC = ['/health', '/docs/**', 'GET /assets/*', 'POST /login']

/**
 * Rules in the order a team writes them: specific prefixes first. The reports rule comes before
 * the admin rule, which is what makes `/api/reports/../admin/…` a test of whether both rules
 * apply when two spellings of one path reach different rules.
 */
export const RULES = [
  { match: '/api/reports/**', scopes: ['reports:read'] },
  { match: '/api/admin/**', roles: ['admin'] },
  { match: 'DELETE /api/items/:id', check: (p: Principal) => p.roles.includes('owner') },
  { match: '/webhooks/*', allow: 'public' as const },
]

/** Path prefixes that may be public (case-sensitive), with the methods allowed; for the oracles. */
export const PUBLIC_PREFIXES: ReadonlyArray<{ prefix: string; methods?: readonly string[] }> = [
  { prefix: '/health' },
  { prefix: '/docs' },
  { prefix: '/assets/', methods: ['GET', 'HEAD'] },
  { prefix: '/login', methods: ['POST'] },
  { prefix: '/webhooks/' },
]

/** The policy's options; `extra` replaces top-level options (e.g. a principal hook). */
export function policyOptions(extra: Partial<AuthOptions> & { store?: SessionStore } = {}): AuthOptions {
  const { store, ...rest } = extra
  return {
    jwt: { ...issuer.options, from: ['header', { cookie: TOKEN_COOKIE }, { query: TOKEN_QUERY }] },
    session: { secret: SESSION_SECRET, store: store ?? memoryStore(), cookie: { secure: false } },
    public: PUBLIC,
    rules: RULES,
    origins: { allow: ORIGINS_ALLOW, allowMissing: true },
    realm: 'security-suite',
    ...rest,
  }
}

/** Who a valid credential speaks for. */
export type Holder = 'user' | 'admin' | 'owner'

/** Claims of each holder: only `admin` has the admin role; `user` has the reports scope. */
export const CLAIMS: Record<Holder, Record<string, unknown>> = {
  user: { sub: 'user-1', roles: ['user'], scope: 'reports:read' },
  admin: { sub: 'admin-1', roles: ['admin'], scope: 'reports:read' },
  owner: { sub: 'owner-1', roles: ['owner'] },
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** A token signed with HS256 using the issuer's public JWK as the secret (the classic key confusion). */
export function keyConfusionToken(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'main' })}.${b64({ iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300, ...claims })}`
  const secret = JSON.stringify(issuer.jwks.keys[0])
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/** An unsigned token (`alg: none`), with an empty or a copied signature. */
export function unsignedToken(claims: Record<string, unknown>, alg = 'none', signature = ''): string {
  const now = Math.floor(Date.now() / 1000)
  return `${b64({ alg, typ: 'JWT', kid: 'main' })}.${b64({ iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300, ...claims })}.${signature}`
}

/**
 * Every kind of token the tests present that must never authenticate anyone, each built for the
 * `admin` holder, so that a wrongful acceptance would also open the admin paths.
 */
export function badTokens(): Record<string, string> {
  const admin = CLAIMS.admin
  const good = issuer.sign(admin)
  const [h, p, s] = good.split('.') as [string, string, string]
  const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1)
  return {
    expired: issuer.sign(admin, { expiresIn: -3600 }),
    notYetValid: issuer.sign(admin, { notBefore: 3600 }),
    noExp: issuer.sign(admin, { omitExp: true }),
    wrongKey: impostor.sign(admin),
    unknownKey: stranger.sign(admin),
    wrongIssuer: issuer.sign({ ...admin, iss: 'https://evil.example.com' }),
    issuerArray: issuer.sign({ ...admin, iss: [ISSUER, 'https://evil.example.com'] as unknown as string }),
    wrongAudience: issuer.sign({ ...admin, aud: 'other-service' }),
    algNone: unsignedToken(admin),
    algNoneSigned: unsignedToken(admin, 'none', s),
    algNoneCase: unsignedToken(admin, 'nOnE'),
    keyConfusion: keyConfusionToken(admin),
    signatureStripped: `${h}.${p}.`,
    signatureFlipped: `${h}.${p}.${flip(s, 10)}`,
    payloadSwapped: `${h}.${b64({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'root' })}.${s}`,
    headerSwapped: `${b64({ alg: 'ES384', typ: 'JWT', kid: 'main' })}.${p}.${s}`,
    extraSegment: `${good}.${s}`,
    padded: `${h}.${p}.${s}=`,
    whitespace: `${h}.${p} .${s}`,
    crit: issuer.sign(admin, { header: { crit: ['exp'] } }),
    jku: impostor.sign(admin, { header: { jku: 'https://evil.example.com/jwks' } }),
    jwk: impostor.sign(admin, { header: { jwk: impostor.jwks.keys[0] } }),
    huge: issuer.sign({ ...admin, pad: 'x'.repeat(20_000) }),
    infiniteExp: `${h}.${Buffer.from(`{"sub":"admin-1","roles":["admin"],"iss":"${ISSUER}","aud":"${AUDIENCE}","exp":1e400}`).toString('base64url')}.${s}`,
    garbage: 'not-a-jwt',
    empty: '',
  }
}
