import { cookieNames, readCookie } from './cookies.js'
import type { AuthRequest } from './decision.js'
import { clean } from './hint-format.js'
import type { CredentialSource } from './token/jwt-options.js'
import type { TraceSink } from './trace.js'

/** Where a JWT was found. Every one of them authenticates as `via: 'bearer'`. */
export type TokenSource = 'header' | 'cookie' | 'query' | 'protocol'

/** What the request presents, judged before any verification. */
export type Credential =
  | { kind: 'token'; token: string; source: TokenSource; name?: string }
  | { kind: 'session'; values: string[] }
  | { kind: 'none'; hint: string }
  | { kind: 'malformed'; hint: string }

/** The subprotocol marker a client offers beside `gatehouse.bearer.<token>`. */
export const PROTOCOL_MARKER = 'gatehouse'
/** Prefix of the subprotocol that carries a bearer token on WebSocket upgrades. */
export const PROTOCOL_BEARER_PREFIX = 'gatehouse.bearer.'

type Source = { kind: 'cookie'; name: string } | { kind: 'query'; name: string } | { kind: 'protocol' }

/** Compiled once by `createAuth`: which sources to read, in order. */
export interface CredentialReader {
  read(req: AuthRequest, query: string, upgrade: boolean, trace?: TraceSink): Credential
}

/** Splits a `Sec-WebSocket-Protocol` header into the offered protocols. */
export function offeredProtocols(header: string | string[] | undefined): string[] {
  if (header === undefined) return []
  const joined = Array.isArray(header) ? header.join(',') : header
  const out: string[] = []
  for (const part of joined.split(',')) {
    const p = part.trim()
    if (p) out.push(p)
  }
  return out
}

/**
 * The subprotocol a server should select: the first application protocol the client offered,
 * else the `gatehouse` marker when offered, else none. A `gatehouse.bearer.*` value is never
 * selected, so the token is never echoed in the response.
 */
export function selectSubprotocol(offered: Iterable<string>): string | undefined {
  let marker: string | undefined
  for (const p of offered) {
    if (p.startsWith(PROTOCOL_BEARER_PREFIX)) continue
    if (p === PROTOCOL_MARKER) marker = p
    else return p
  }
  return marker
}

/**
 * The `handleProtocols` option of `ws` (and `@fastify/websocket`): selects what
 * {@link selectSubprotocol} selects, and never a `gatehouse.bearer.<token>` entry. Without it `ws`
 * selects the first offered protocol, which would echo a token offered first back to the client.
 *
 * @example
 * ```ts
 * const wss = new WebSocketServer({ noServer: true, handleProtocols })
 * ```
 */
export function handleProtocols(protocols: Set<string>): string | false {
  return selectSubprotocol(protocols) ?? false
}

function looksLikeJwt(value: string): boolean {
  return value.startsWith('eyJ') && value.split('.').length === 3
}

function queryValues(query: string, name: string): string[] | 'malformed' {
  if (query === '' || !query.includes(name)) return []
  const found: string[] = []
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=')
    const key = eq === -1 ? pair : pair.slice(0, eq)
    if (key !== name) continue
    try {
      found.push(decodeURIComponent((eq === -1 ? '' : pair.slice(eq + 1)).replace(/\+/g, ' ')))
    } catch {
      return 'malformed'
    }
  }
  return found
}

/**
 * Compiles the credential sources. Order (DESIGN): the `Authorization: Bearer` header, then the
 * session cookie, then `jwt.from`'s other sources in the order given; on upgrades the subprotocol
 * is read even when `from` does not list it. The first source present decides: a present but
 * broken credential is refused, never skipped in favour of the next one.
 */
export function createCredentialReader(config: { jwt: boolean; from: readonly CredentialSource[]; sessionCookie?: string | undefined }): CredentialReader {
  const header = config.jwt && config.from.includes('header')
  const sources: Source[] = []
  let protocolListed = false
  if (config.jwt) {
    for (const s of config.from) {
      if (s === 'header') continue
      if (s === 'protocol') {
        protocolListed = true
        sources.push({ kind: 'protocol' })
      } else if ('cookie' in s) sources.push({ kind: 'cookie', name: s.cookie })
      else sources.push({ kind: 'query', name: s.query })
    }
  }
  const upgradeSources = protocolListed || !config.jwt ? sources : [...sources, { kind: 'protocol' } as const]
  const sessionCookie = config.sessionCookie
  const tried = (upgrade: boolean): string => {
    const list: string[] = []
    if (header) list.push('an Authorization: Bearer header')
    if (sessionCookie) list.push(`the session cookie '${sessionCookie}'`)
    for (const s of upgrade ? upgradeSources : sources) {
      if (s.kind === 'cookie') list.push(`cookie '${s.name}'`)
      else if (s.kind === 'query') list.push(`query parameter '${s.name}'`)
      else if (upgrade) list.push(`subprotocol '${PROTOCOL_BEARER_PREFIX}<token>'`)
    }
    return list.length ? list.join(', ') : 'nothing (neither jwt nor session is configured)'
  }

  function missing(req: AuthRequest, upgrade: boolean): Credential {
    let hint = `no credentials: looked for ${tried(upgrade)}`
    const auth = req.headers.authorization
    if (!header && auth !== undefined) hint += '; an Authorization header was sent but jwt verification is not configured: add the jwt option'
    const names = cookieNames(req.headers)
    if (names.length) {
      const shown = names.slice(0, 12).map((n) => clean(n))
      hint += `; the request carries cookies [${shown.join(', ')}]${names.length > 12 ? ' …' : ''}`
      if (config.jwt) {
        const candidate = names.find((n) => {
          if (/token|jwt|bearer|access/i.test(n)) return true
          const v = readCookie(req.headers, n)[0]
          return v !== undefined && looksLikeJwt(v)
        })
        if (candidate) hint += `: '${clean(candidate)}' looks like a token; to read it, set jwt.from: ['header', { cookie: '${clean(candidate)}' }]`
      }
    } else if (!upgrade) {
      hint += '; the request carries no cookies (a browser fetch needs credentials: \'include\' to send them cross-origin)'
    }
    return { kind: 'none', hint }
  }

  return {
    read(req, query, upgrade, trace) {
      const result = readFirst(req, query, upgrade)
      if (trace) {
        const detail =
          result.kind === 'token' ? `token from ${result.source}${result.name ? ` '${result.name}'` : ''}`
          : result.kind === 'session' ? `session cookie '${sessionCookie}'`
          : result.hint
        trace({ step: 'credentials', outcome: result.kind === 'token' || result.kind === 'session' ? 'pass' : 'fail', detail, data: { kind: result.kind } })
      }
      return result
    },
  }

  function readFirst(req: AuthRequest, query: string, upgrade: boolean): Credential {
    if (header) {
      const value = req.headers.authorization
      if (value !== undefined) return bearer(value)
    }
    if (sessionCookie) {
      const values = readCookie(req.headers, sessionCookie)
      if (values.length) return { kind: 'session', values }
    }
    for (const s of upgrade ? upgradeSources : sources) {
      if (s.kind === 'cookie') {
        const values = readCookie(req.headers, s.name)
        if (values.length > 1) return { kind: 'malformed', hint: `${values.length} cookies named '${s.name}' were sent; expected one (a duplicate can be planted by a sibling subdomain)` }
        if (values.length === 1) {
          let token = values[0] as string
          if (token.includes('%')) {
            try {
              token = decodeURIComponent(token)
            } catch {
              return { kind: 'malformed', hint: `cookie '${s.name}' is not valid percent-encoding` }
            }
          }
          if (token === '') return { kind: 'malformed', hint: `cookie '${s.name}' is empty` }
          return { kind: 'token', token, source: 'cookie', name: s.name }
        }
      } else if (s.kind === 'query') {
        const values = queryValues(query, s.name)
        if (values === 'malformed') return { kind: 'malformed', hint: `query parameter '${s.name}' is not valid percent-encoding` }
        if (values.length > 1) return { kind: 'malformed', hint: `query parameter '${s.name}' appears ${values.length} times; expected once` }
        if (values.length === 1) {
          if (values[0] === '') return { kind: 'malformed', hint: `query parameter '${s.name}' is empty` }
          return { kind: 'token', token: values[0] as string, source: 'query', name: s.name }
        }
      } else if (upgrade) {
        const bearers = offeredProtocols(req.headers['sec-websocket-protocol']).filter((p) => p.startsWith(PROTOCOL_BEARER_PREFIX))
        if (bearers.length > 1) return { kind: 'malformed', hint: `${bearers.length} '${PROTOCOL_BEARER_PREFIX}*' subprotocols were offered; expected one` }
        if (bearers.length === 1) {
          const token = (bearers[0] as string).slice(PROTOCOL_BEARER_PREFIX.length)
          if (token === '') return { kind: 'malformed', hint: `the '${PROTOCOL_BEARER_PREFIX}' subprotocol carries no token` }
          return { kind: 'token', token, source: 'protocol' }
        }
      }
    }
    return missing(req, upgrade)
  }
}

function bearer(value: string | string[]): Credential {
  if (Array.isArray(value)) {
    if (value.length !== 1) return { kind: 'malformed', hint: `${value.length} Authorization headers were sent; expected one` }
    value = value[0] as string
  }
  // RFC 6750 §2.1: the scheme is case-insensitive, followed by one or more spaces.
  if (value.length < 7 || value.slice(0, 6).toLowerCase() !== 'bearer' || value.charCodeAt(6) !== 32) {
    // Only the start matters for the hint; a hostile header may be megabytes long.
    const scheme = value.slice(0, 64).trim().split(/\s/, 1)[0] ?? ''
    if (scheme.toLowerCase() === 'bearer') return { kind: 'malformed', hint: 'the Authorization header has the Bearer scheme but no token' }
    const shown = clean(scheme)
    return { kind: 'malformed', hint: scheme ? `the Authorization header uses the '${shown}' scheme; gatehouse expects 'Bearer <token>'` : 'the Authorization header is empty' }
  }
  const token = value.slice(7).trim()
  if (token === '') return { kind: 'malformed', hint: 'the Authorization header has the Bearer scheme but no token' }
  if (token.includes(' ')) return { kind: 'malformed', hint: 'the Authorization header carries more than one value after Bearer' }
  return { kind: 'token', token, source: 'header' }
}
