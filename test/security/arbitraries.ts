/**
 * fast-check generators of hostile requests: request-targets, methods, header maps, cookies,
 * origins and credentials, each carrying what the test needs to judge the decision (whose valid
 * credentials the request carries, and which secret strings must never show up in a hint).
 */
import fc from 'fast-check'
import type { AuthRequest } from '@gatehouse/core'
import { CLAIMS, type Holder, issuer, SESSION_COOKIE, TOKEN_COOKIE, TOKEN_QUERY } from './policy.js'

/** Any UTF-16 code unit, lone surrogates and controls included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))

/** Short strings from every Unicode range, with lone surrogates and control characters. */
export const anyText = (maxLength = 40) => fc.oneof(fc.string({ unit: codeUnit, maxLength }), fc.string({ unit: 'binary', maxLength }), fc.string({ maxLength }))

/** A long value: a repeated chunk, up to `max` characters. */
export const hugeText = (max = 200_000) =>
  fc.tuple(fc.constantFrom('a', '/', '%', '.', '..%2f', 'é', '\u0000', ';', ',', ' ', 'eyJ', '=', '%C0%AE', '\\'), fc.integer({ min: 1_000, max })).map(([chunk, n]) => chunk.repeat(Math.ceil(n / chunk.length)).slice(0, n))

/** Path segments that routers, proxies and file servers read differently. */
const SEGMENTS = [
  'api', 'admin', 'Admin', 'ADMIN', 'reports', 'items', '42', 'me', 'health', 'HEALTH', 'docs', 'assets', 'app.js', 'login', 'webhooks', 'hook',
  '..', '.', '%2e%2e', '%2E%2e', '.%2e', '%2e', '%2f', '%2F', '%5c', '%5C', '\\', ';x', '..;', 'admin;jsessionid=1', '%00', '%0d%0a', '%0A',
  '%C0%AE', '%c0%ae%c0%ae', '%e0%80%ae', '%25', '%252e%252e', '%61dmin', '%41PI', '%', '%z', '%zz', '%E0%A4%A', 'é', '%C3%A9', ' ', '%20', '#', '~', '*', ':id', '',
]

/** A request-target assembled from hostile segments, separators and prefixes, with a query. */
export const target: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('/', '/', '/', '//', '\\', '', 'http://evil.example/', 'https://app.example.com/', '*', '/./', '/../'),
    fc.array(fc.constantFrom(...SEGMENTS), { minLength: 0, maxLength: 7 }),
    fc.constantFrom('/', '/', '/', '//', '\\', '/./', '%2f'),
    fc.constantFrom('', '', '/', '?', '?a=1', '?a=%zz', '?x=1&y', '?q=a b', '?#frag', '?\u0000'),
  )
  .map(([lead, segments, sep, tail]) => lead + segments.join(sep) + tail)

/** The routes of the test apps, in the spellings clients and routers use. */
export const ROUTES = ['/api/me', '/api/admin/users', '/api/reports/q1', '/api/items/7', '/health', '/docs/intro', '/assets/app.js', '/login', '/webhooks/github', '/']

/** A route as a client sends it, possibly with a changed case, a trailing slash or a query. */
export const route: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...ROUTES), fc.constantFrom('', '', '', '/', '?page=2', '?access_token=x'), fc.constantFrom('same', 'same', 'same', 'upper', 'first'))
  .map(([r, tail, casing]) => (casing === 'upper' ? r.toUpperCase() : casing === 'first' ? r.replace(/\/([a-z])/, (_, c: string) => `/${c.toUpperCase()}`) : r) + tail)

/** Request-targets: real routes, assembled hostile paths, random text, and very long paths. */
export const anyTarget: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: route },
  { weight: 6, arbitrary: target },
  { weight: 2, arbitrary: anyText(80).map((s) => `/${s}`) },
  { weight: 1, arbitrary: anyText(80) },
  { weight: 1, arbitrary: fc.tuple(target, hugeText(20_000)).map(([t, h]) => `${t.split('?', 1)[0]}/${h}`) },
)

/** Methods: the usual ones in several spellings, lookalikes and random strings. */
export const method: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT') },
  { weight: 3, arbitrary: fc.constantFrom('get', 'Get', 'post', 'delete', 'Delete', 'options', 'head', 'PROPFIND', 'GETS', 'G ET', '', 'optıons', 'ＧＥＴ', 'GET\r\n', 'DELETE\u0000') },
  { weight: 1, arbitrary: anyText(12) },
)

/** Origins the policy allows, in the spellings browsers and clients send. */
export const allowedOrigin: fc.Arbitrary<string> = fc.constantFrom('https://app.example.com', 'HTTPS://APP.EXAMPLE.COM', 'https://app.example.com:443', 'https://eu.app.example.com', 'https://admin.example.com', 'http://localhost:5173', 'http://localhost')

/** Origins: allowed ones in several spellings, look-alikes, malformed and hostile values. */
export const origin: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: allowedOrigin },
  fc.constantFrom(
    'https://app.example.com', 'HTTPS://APP.EXAMPLE.COM', 'https://app.example.com:443', 'https://eu.app.example.com', 'http://localhost:5173', 'http://localhost',
    'https://app.example.com.evil.com', 'https://evilexample.com', 'https://example.com', 'http://app.example.com', 'https://app.example.com/', 'https://app.example.com.',
    'https://app.example.com:8443', 'https://user@app.example.com', 'https://app.example.com, https://evil.com', 'null', '', ' ', 'https://*.example.com',
    'https://xn--pple-43d.example.com', 'https://аpple.example.com', 'https://app.example.com\u0000', 'https://app.example.com\r\nX: y', 'file://', 'http://localhost:99999',
    'https://app%2eexample.com', 'https://app.example.com?x', 'https://app.example.com#x', 'https://[::1]', 'http://127.0.0.1:3000', 'javascript:alert(1)',
  ),
  anyText(30),
  anyText(20).map((s) => `https://${s}.example.com`),
  hugeText(5_000).map((s) => `https://${s}`),
)

/** `arbitrary`'s values `present` times in `present + absent`, else `none`. */
function sometimes<T, N>(arbitrary: fc.Arbitrary<T>, present: number, absent: number, none: N): fc.Arbitrary<T | N> {
  return fc.oneof({ weight: present, arbitrary }, { weight: absent, arbitrary: fc.constant(none) })
}

/** A credential a request may carry, and whose it is when it is valid. */
export interface Credential {
  /** The token or session cookie value. */
  value: string
  /** The holder the credential authenticates when it is valid; `undefined` for every bad one. */
  holder: Holder | undefined
}

/** Credentials prepared once per test file: valid ones for each holder and a catalogue of bad ones. */
export interface CredentialBook {
  tokens: Record<Holder, string>
  sessions: Partial<Record<Holder, string>>
  badTokens: Record<string, string>
  badSessions: Record<string, string>
}

/** A token value with a random change (a character replaced, inserted or removed) that makes it another string. */
export function mutated(token: string): fc.Arbitrary<string> {
  return fc
    .tuple(fc.nat({ max: Math.max(0, token.length - 1) }), fc.constantFrom('A', 'B', 'z', '0', '-', '_', '.', '=', '+', '/', ' ', '%', 'é'), fc.constantFrom('replace', 'insert', 'delete'))
    .map(([at, c, how]) => (how === 'replace' ? token.slice(0, at) + c + token.slice(at + 1) : how === 'insert' ? token.slice(0, at) + c + token.slice(at) : token.slice(0, at) + token.slice(at + 1)))
    .filter((t) => t !== token)
}

/** Tokens: valid ones, the catalogue of bad ones, mutations of valid ones, and random text. */
export function tokenCredential(book: CredentialBook): fc.Arbitrary<Credential> {
  const holders = Object.keys(book.tokens) as Holder[]
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...holders).map((h): Credential => ({ value: book.tokens[h], holder: h })) },
    { weight: 4, arbitrary: fc.constantFrom(...Object.values(book.badTokens)).map((value): Credential => ({ value, holder: undefined })) },
    { weight: 3, arbitrary: fc.constantFrom(...holders).chain((h) => mutated(book.tokens[h])).map((value): Credential => ({ value, holder: undefined })) },
    { weight: 1, arbitrary: anyText(60).map((value): Credential => ({ value, holder: undefined })) },
  )
}

/** Session cookie values: live sessions, the catalogue of bad ones, mutations, random text. */
export function sessionCredential(book: CredentialBook): fc.Arbitrary<Credential> {
  const live = Object.entries(book.sessions) as Array<[Holder, string]>
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...live).map(([h, value]): Credential => ({ value, holder: h })) },
    { weight: 3, arbitrary: fc.constantFrom(...Object.values(book.badSessions)).map((value): Credential => ({ value, holder: undefined })) },
    { weight: 2, arbitrary: fc.constantFrom(...live).chain(([, v]) => mutated(v)).map((value): Credential => ({ value, holder: undefined })) },
    { weight: 1, arbitrary: anyText(100).map((value): Credential => ({ value, holder: undefined })) },
  )
}

/** A generated request, with the facts the oracles need. */
export interface Case {
  req: AuthRequest
  /** Holders whose valid credential appears somewhere in the request (in any header spelling). */
  holders: Set<Holder>
  /** Strings that must never appear in a deny's hint (tokens, signatures, session values). */
  secrets: string[]
}

type Placement =
  | { where: 'authorization'; scheme: string; cred: Credential; twice: Credential | undefined }
  | { where: 'token-cookie'; cred: Credential; twice: Credential | undefined; encode: boolean }
  | { where: 'session-cookie'; cred: Credential; twice: Credential | undefined; quoted: boolean }
  | { where: 'query'; cred: Credential; twice: Credential | undefined }
  | { where: 'protocol'; cred: Credential; twice: Credential | undefined; app: boolean }

function placement(book: CredentialBook, upgrade: boolean): fc.Arbitrary<Placement> {
  const token = tokenCredential(book)
  const session = sessionCredential(book)
  const second = <T>(a: fc.Arbitrary<T>) => sometimes(a, 1, 9, undefined)
  const choices: Array<fc.Arbitrary<Placement>> = [
    fc.record({
      where: fc.constant('authorization' as const),
      scheme: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('Bearer ', 'bearer ', 'BEARER ', 'Bearer  ') }, { weight: 1, arbitrary: fc.constantFrom('Bearer\t', 'Basic ', 'Token ', '', 'Bearer', 'Bearer\u00a0') }),
      cred: token,
      twice: second(token),
    }),
    fc.record({ where: fc.constant('token-cookie' as const), cred: token, twice: second(token), encode: fc.boolean() }),
    fc.record({ where: fc.constant('session-cookie' as const), cred: session, twice: second(session), quoted: fc.boolean() }),
    fc.record({ where: fc.constant('query' as const), cred: token, twice: second(token) }),
  ]
  if (upgrade) choices.push(fc.record({ where: fc.constant('protocol' as const), cred: token, twice: second(token), app: fc.boolean() }))
  return fc.oneof(...choices)
}

/** Random header names in odd spellings, with hostile values (huge, control characters, arrays). */
const noiseHeaders: fc.Arbitrary<Array<[string, string | string[]]>> = fc.array(
  fc.tuple(
    fc.oneof(
      fc.constantFrom('Authorization', 'AUTHORIZATION', 'Cookie', 'ORIGIN', 'Origin', 'x-forwarded-for', 'x-original-url', 'x-rewrite-url', 'host', ':authority', 'content-length', 'transfer-encoding', 'sec-fetch-site', 'Sec-Fetch-Site', 'access-control-request-method', 'upgrade', 'constructor', '__proto__', 'toString', 'hasOwnProperty'),
      anyText(12),
    ),
    fc.oneof(anyText(40), hugeText(100_000), fc.array(anyText(20), { maxLength: 3 })),
  ),
  { maxLength: 4 },
)

/**
 * A whole request for `auth.check` (or `checkUpgrade` with `upgrade`): target, method, credential
 * placements (several, possibly conflicting), origin headers, noise headers.
 */
export function requestCase(book: CredentialBook, upgrade: boolean): fc.Arbitrary<Case> {
  return fc
    .record({
      method: upgrade ? fc.oneof({ weight: 5, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: method }) : method,
      url: anyTarget,
      placements: fc.oneof({ weight: 4, arbitrary: fc.array(placement(book, upgrade), { minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.array(placement(book, upgrade), { maxLength: 3 }) }),
      origin: sometimes(fc.oneof({ weight: 6, arbitrary: origin }, { weight: 1, arbitrary: fc.array(origin, { minLength: 0, maxLength: 3 }) }), 1, 1, null),
      secFetchSite: sometimes(fc.constantFrom('same-origin', 'same-site', 'cross-site', 'none', 'SAME-ORIGIN', 'same-origin, cross-site', ''), 1, 1, null),
      wsOrigin: upgrade ? sometimes(origin, 1, 7, null) : fc.constant(null),
      wsVersion: upgrade ? fc.constantFrom('13', '13', '8', 'x', undefined) : fc.constant(undefined),
      preflight: upgrade ? fc.constant(false) : fc.boolean(),
      host: sometimes(fc.constantFrom('api.example.com', 'app.example.com', 'localhost:5173', 'evil.com', '', 'a b', 'api.example.com, evil.com'), 2, 1, null),
      noise: noiseHeaders,
      noiseCookies: fc.array(fc.tuple(anyText(10), anyText(30)), { maxLength: 3 }),
    })
    .map((g): Case => {
      const headers: Record<string, string | string[] | undefined> = {}
      const holders = new Set<Holder>()
      const secrets: string[] = []
      const cookies: string[] = g.noiseCookies.map(([n, v]) => `${n}=${v}`)
      const query: string[] = []
      const protocols: string[] = []
      const authorization: string[] = []
      const note = (c: Credential | undefined) => {
        if (c === undefined) return
        if (c.holder !== undefined) holders.add(c.holder)
        secretsOf(c.value, secrets)
      }
      for (const p of g.placements) {
        note(p.cred)
        note(p.twice)
        const values = p.twice === undefined ? [p.cred.value] : [p.cred.value, p.twice.value]
        if (p.where === 'authorization') authorization.push(...values.map((v) => `${p.scheme}${v}`))
        else if (p.where === 'token-cookie') cookies.push(...values.map((v) => `${TOKEN_COOKIE}=${p.encode ? percentEncode(v) : v}`))
        else if (p.where === 'session-cookie') cookies.push(...values.map((v) => `${SESSION_COOKIE}=${p.quoted ? `"${v}"` : v}`))
        else if (p.where === 'query') query.push(...values.map((v) => `${TOKEN_QUERY}=${percentEncode(v)}`))
        else {
          if (p.app) protocols.push('chat.v1')
          protocols.push('gatehouse', ...values.map((v) => `gatehouse.bearer.${v}`))
        }
      }
      if (authorization.length) headers.authorization = authorization.length === 1 ? authorization[0] : authorization
      if (cookies.length) headers.cookie = cookies.length > 1 && cookies.length % 2 === 0 ? [cookies.slice(0, cookies.length / 2).join('; '), cookies.slice(cookies.length / 2).join('; ')] : cookies.join('; ')
      if (protocols.length) headers['sec-websocket-protocol'] = protocols.join(', ')
      if (g.origin !== null) headers.origin = g.origin
      if (g.secFetchSite !== null) headers['sec-fetch-site'] = g.secFetchSite
      if (g.wsOrigin !== null) headers['sec-websocket-origin'] = g.wsOrigin
      if (g.wsVersion !== undefined) headers['sec-websocket-version'] = g.wsVersion
      if (g.preflight) headers['access-control-request-method'] = 'DELETE'
      if (g.host !== null) headers.host = g.host
      if (upgrade) {
        headers.upgrade = 'websocket'
        headers.connection = 'Upgrade'
      }
      for (const [name, value] of g.noise) {
        // Noise never replaces a credential placed above, so `holders` stays exact.
        if (headers[name] === undefined) headers[name] = value
      }
      let url = g.url
      if (query.length) url += `${url.includes('?') ? '&' : '?'}${query.join('&')}`
      return { req: { method: g.method, url, headers }, holders, secrets }
    })
}

/** `encodeURIComponent`, except that text with a lone surrogate is escaped byte by byte (as a broken client would) instead of throwing. */
function percentEncode(value: string): string {
  try {
    return encodeURIComponent(value)
  } catch {
    return [...value].map((c) => (/^[A-Za-z0-9._~-]$/.test(c) ? c : `%${(c.charCodeAt(0) & 0xff).toString(16).padStart(2, '0')}`)).join('')
  }
}

/** The parts of a credential that must never be echoed: the whole value, and its signature. */
function secretsOf(value: string, out: string[]): void {
  if (value.length >= 24) out.push(value)
  const last = value.slice(value.lastIndexOf('.') + 1)
  if (last.length >= 24 && last !== value) out.push(last)
}

/** Subjects (`sub` or session `userId`) of each holder. */
export const SUBJECT: Record<Holder, string> = { user: CLAIMS.user.sub as string, admin: CLAIMS.admin.sub as string, owner: CLAIMS.owner.sub as string }

/** Valid tokens for every holder, long-lived enough for any test run. */
export function validTokens(): Record<Holder, string> {
  return {
    user: issuer.sign(CLAIMS.user, { expiresIn: '6h' }),
    admin: issuer.sign(CLAIMS.admin, { expiresIn: '6h' }),
    owner: issuer.sign(CLAIMS.owner, { expiresIn: '6h' }),
  }
}
