import { DENY_MESSAGES, DENY_STATUS, type DenyCode } from './deny-codes.js'

/**
 * Everything gatehouse needs to judge an HTTP request or a WebSocket upgrade, free of any
 * framework. Adapters build it from their request object.
 */
export interface AuthRequest {
  /** The request method, e.g. `GET`. */
  method: string
  /** The raw request-target as received (path and query), not decoded or normalised. */
  url: string
  /** Header names in lower case, as Node's `IncomingHttpHeaders`. */
  headers: Record<string, string | string[] | undefined>
}

/** The authenticated party, as the rules see it. */
export interface Principal {
  id: string
  roles: string[]
  scopes: string[]
  [key: string]: unknown
}

/** A JWT claims set as gatehouse reads it. */
export interface JWTPayload {
  iss?: string
  sub?: string
  aud?: string | string[]
  exp?: number
  nbf?: number
  iat?: number
  jti?: string
  [claim: string]: unknown
}

/** A server-side session as the application sees it. */
export interface SessionRecord {
  /** The session id (the value the cookie carries before its signature). */
  id: string
  userId: string
  roles: string[]
  data: Record<string, unknown>
  /** Epoch milliseconds. */
  createdAt: number
  /** Epoch milliseconds: when the idle `ttl` runs out unless the session is used. */
  expiresAt: number
  /** Epoch milliseconds: when the `absoluteTtl` runs out whatever happens. */
  absoluteExpiresAt: number
}

/** How an allowed request was let in. */
export type AllowVia = 'public' | 'bearer' | 'session'

/** The request may proceed. */
export interface Allow {
  ok: true
  via: AllowVia
  /**
   * `null` only when `via === 'public'`. Read-only: the principal (and claims) of a cached token
   * are shared by every request that presents it, and frozen.
   */
  principal: Principal | null
  claims?: JWTPayload
  session?: SessionRecord
  /** The WebSocket subprotocol to select, on upgrades. */
  protocol?: string
  /** Headers to add to the response, e.g. `Set-Cookie` for a rolled session. */
  headers: Record<string, string>
}

/** The request is refused. */
export interface Deny {
  ok: false
  status: 401 | 403 | 503
  code: DenyCode
  /** Safe to show to clients. */
  message: string
  /** Names the cause, for operators. Sent to clients only with `exposeHints`. */
  hint?: string
  /** `WWW-Authenticate` on 401 and on 403 `insufficient_scope`. */
  headers: Record<string, string>
}

/** The outcome of `auth.check` or `auth.checkUpgrade`. */
export type Decision = Allow | Deny

/** What the client presented, which decides the `error` attribute of `WWW-Authenticate` (RFC 6750 §3). */
export type Presented = 'none' | 'malformed' | 'token' | 'session'

/** Options of {@link denyDecision} that shape the response headers. */
export interface DenyShape {
  realm: string
  presented: Presented
  /** Scopes the resource needed, for `insufficient_scope`. */
  scope?: readonly string[]
}

function quote(value: string): string {
  // RFC 7235 quoted-string: escape backslash and quote, drop control characters.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return `"${value.replace(/[\\"]/g, '\\$&').replace(/[\x00-\x1f\x7f]/g, '')}"`
}

/**
 * Builds the `WWW-Authenticate` value for a deny, or `undefined` when the status carries none.
 * Always the `Bearer` scheme with `realm` first.
 */
export function wwwAuthenticate(code: DenyCode, shape: DenyShape): string | undefined {
  const realm = `Bearer realm=${quote(shape.realm)}`
  if (code === 'insufficient_scope') {
    const scope = shape.scope?.length ? `, scope=${quote(shape.scope.join(' '))}` : ''
    return `${realm}, error="insufficient_scope"${scope}`
  }
  if (DENY_STATUS[code] !== 401) return undefined
  if (code === 'credentials_malformed') return `${realm}, error="invalid_request"`
  if (shape.presented === 'none') return realm
  return `${realm}, error="invalid_token"`
}

/** Builds a {@link Deny} with the status, message and headers fixed by the code. */
export function denyDecision(code: DenyCode, hint: string, shape: DenyShape): Deny {
  const header = wwwAuthenticate(code, shape)
  return {
    ok: false,
    status: DENY_STATUS[code],
    code,
    message: DENY_MESSAGES[code],
    hint,
    headers: header === undefined ? {} : { 'www-authenticate': header },
  }
}

/** The JSON body sent with a deny: `{ error, message }`, plus `hint` with `exposeHints`. */
export interface DenyBody {
  error: DenyCode
  message: string
  hint?: string
}

/** The JSON body adapters send with a deny. */
export function denyBody(decision: Deny, exposeHints: boolean): DenyBody {
  return exposeHints && decision.hint !== undefined
    ? { error: decision.code, message: decision.message, hint: decision.hint }
    : { error: decision.code, message: decision.message }
}
