import { z } from 'zod'
import { type Duration, durationProblem, toSeconds } from '../duration.js'
import { parseOptions } from '../options-parse.js'
import { memoryStore } from './memory-store.js'
import type { SessionStore } from './store.js'

/** Attributes of the session cookie. */
export interface SessionCookieOptions {
  /**
   * The cookie name. Default `__Host-gatehouse.sid` when `secure` and no `domain` (the `__Host-`
   * prefix makes browsers refuse the cookie unless it is Secure, host-only and `Path=/`, which
   * stops a sibling subdomain from planting one); `__Secure-gatehouse.sid` when `secure` with a
   * `domain` or a `path`; `gatehouse.sid` when not `secure`.
   */
  name?: string
  /**
   * Send the cookie over HTTPS only. Default `true`. Set `false` only for plain-HTTP development
   * (browsers treat `http://localhost` as secure, so even there `true` usually works).
   */
  secure?: boolean
  /**
   * Default `'lax'`: the cookie rides top-level navigations from other sites but not their
   * sub-requests or forms posted cross-site. `'strict'` also drops it on links from other sites;
   * `'none'` sends it everywhere and needs `secure`.
   */
  sameSite?: 'lax' | 'strict' | 'none'
  /** Share the cookie with subdomains of this domain. Default: host-only (the safer choice). */
  domain?: string
  /** Limit the cookie to a path. Default `'/'`. */
  path?: string
}

/** Options of `createSessionManager` (and `session` of `createAuth`). */
export interface SessionOptions {
  /**
   * The secret that signs session cookies, at least 32 characters. An array rotates secrets:
   * new cookies are signed with the first, and cookies signed with any of them are accepted
   * (and re-signed with the first on their next successful check).
   */
  secret: string | string[]
  /** Where sessions live. Default {@link memoryStore}`()`; use `redisStore` from `@gatehouse/redis` for several instances. */
  store?: SessionStore
  /** Attributes of the session cookie (always `HttpOnly`). */
  cookie?: SessionCookieOptions
  /** Idle timeout: a session unused for this long expires. Default `'30m'`. */
  ttl?: Duration
  /** Absolute lifetime: a session expires this long after it was created, however much it is used. Default `'12h'`. */
  absoluteTtl?: Duration
  /** Extend the idle timeout each time the session is used (never beyond `absoluteTtl`). Default `true`. */
  rolling?: boolean
  /**
   * With `rolling`, how long after the last write a use of the session writes the store again
   * (and refreshes the cookie). Requests in between only read. Default: a tenth of `ttl`, at most
   * one minute (60 s for the default `ttl` of 30 minutes, 30 s for `ttl: '5m'`). Must be shorter
   * than `ttl`; `0` writes on every request. The idle timeout is enforced to within this interval.
   */
  touchAfter?: Duration
  /** How long a store call may take before the request gets 503 `auth_unavailable`. Default `'2s'`. */
  storeTimeout?: Duration
}

const SECRET_MIN = 32
const DEFAULT_TTL = 30 * 60
const DEFAULT_ABSOLUTE_TTL = 12 * 60 * 60
const MAX_TOUCH_AFTER = 60
// RFC 6265 §4.1.1: a cookie name is an HTTP token.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// The same domain and path grammar the `cookie` package enforces when serialising.
const COOKIE_DOMAIN = /^([.]?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)([.][a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i
const COOKIE_PATH = /^\/[\u0020-\u003A\u003D-\u007E]*$/
const STORE_METHODS = ['get', 'set', 'touch', 'destroy', 'destroyByUser'] as const

const duration = z.custom<Duration>().superRefine((value, ctx) => {
  const problem = durationProblem(value)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})

const secret = z
  .string({ message: `must be a string of at least ${SECRET_MIN} characters (e.g. \`openssl rand -base64 32\`)` })
  .min(SECRET_MIN, { message: `is too short: use at least ${SECRET_MIN} random characters (e.g. \`openssl rand -base64 32\`)` })

const store = z.custom<SessionStore>().superRefine((value, ctx) => {
  const missing = typeof value === 'object' && value !== null ? STORE_METHODS.filter((m) => typeof (value as unknown as Record<string, unknown>)[m] !== 'function') : STORE_METHODS
  if (missing.length) {
    ctx.addIssue({ code: 'custom', message: `must be a SessionStore (e.g. memoryStore() or redisStore(client)); missing method${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` })
  }
})

const cookie = z
  .object({
    name: z.string({ message: 'must be a string' }).regex(COOKIE_NAME, { message: 'must be a cookie name: letters, digits and !#$%&\'*+-.^_`|~ only' }).optional(),
    secure: z.boolean({ message: 'must be true or false' }).optional(),
    sameSite: z.enum(['lax', 'strict', 'none'], { message: "must be 'lax', 'strict' or 'none'" }).optional(),
    domain: z.string({ message: 'must be a string' }).regex(COOKIE_DOMAIN, { message: 'must be a domain name such as example.com, without scheme, port or path' }).optional(),
    path: z.string({ message: 'must be a string' }).regex(COOKIE_PATH, { message: "must start with '/' and contain no ';' or control characters" }).optional(),
  })
  .strict()

/**
 * The zod schema of {@link SessionOptions}. Composed under `session` in `createAuth`'s schema;
 * `createSessionManager` runs it on its own with the `session` prefix, so problems read
 * `session.cookie.domain`, `session.secret[1]`.
 */
export const sessionOptionsSchema = z
  .object({
    secret: z.union([secret, z.array(secret).min(1, { message: 'must list at least one secret' })], {
      message: `must be a string of at least ${SECRET_MIN} characters, or an array of them for rotation`,
    }),
    store: store.optional(),
    cookie: cookie.optional(),
    ttl: duration.optional(),
    absoluteTtl: duration.optional(),
    rolling: z.boolean({ message: 'must be true or false' }).optional(),
    touchAfter: duration.optional(),
    storeTimeout: duration.optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    const problem = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message })
    const seconds = (v: unknown) => (v !== undefined && durationProblem(v) === undefined ? toSeconds(v as Duration) : undefined)
    const ttl = seconds(o.ttl) ?? DEFAULT_TTL
    const absoluteTtl = seconds(o.absoluteTtl) ?? DEFAULT_ABSOLUTE_TTL
    if (o.ttl !== undefined && ttl < 1) problem(['ttl'], 'must be at least 1 second')
    if (absoluteTtl < ttl) {
      problem(['absoluteTtl'], `is shorter than ttl (${absoluteTtl}s < ${ttl}s): the absolute lifetime caps the idle timeout, so raise absoluteTtl or lower ttl`)
    }
    const touchAfter = seconds(o.touchAfter)
    if (touchAfter !== undefined && touchAfter >= ttl) {
      problem(['touchAfter'], `must be shorter than ttl (${touchAfter}s >= ${ttl}s), or a session in use could expire before it is ever refreshed`)
    }
    const storeTimeout = seconds(o.storeTimeout)
    if (storeTimeout !== undefined && storeTimeout <= 0) problem(['storeTimeout'], 'must be more than 0 seconds')

    const c = o.cookie ?? {}
    const secure = c.secure ?? true
    const name = c.name ?? ''
    if (/^__host-/i.test(name)) {
      const why = 'browsers drop a __Host- cookie unless it is Secure, has no Domain and has Path=/'
      if (!secure) problem(['cookie', 'secure'], `must be true for the cookie name '${name}': ${why}`)
      if (c.domain !== undefined) problem(['cookie', 'domain'], `must be unset for the cookie name '${name}': ${why}; drop domain or use a __Secure- name`)
      if (c.path !== undefined && c.path !== '/') problem(['cookie', 'path'], `must be '/' for the cookie name '${name}': ${why}; drop path or use a __Secure- name`)
    } else if (/^__secure-/i.test(name) && !secure) {
      problem(['cookie', 'secure'], `must be true for the cookie name '${name}': browsers drop a __Secure- cookie that is not Secure`)
    }
    if (c.sameSite === 'none' && !secure) {
      problem(['cookie', 'sameSite'], "'none' requires secure: true (browsers reject SameSite=None cookies that are not Secure); use 'lax' for plain-HTTP development")
    }
  })

/** {@link SessionOptions} validated, with every default applied and durations in milliseconds. */
export interface ResolvedSessionOptions {
  /** Signing secrets; the first signs. */
  secrets: readonly string[]
  store: SessionStore
  /** Whether the manager created the store (and so closes it). */
  ownsStore: boolean
  cookie: { name: string; secure: boolean; sameSite: 'lax' | 'strict' | 'none'; domain?: string; path: string }
  ttlMs: number
  absoluteTtlMs: number
  rolling: boolean
  touchAfterMs: number
  storeTimeoutMs: number
}

/** The cookie name used when none is configured (see {@link SessionCookieOptions.name}). */
export function defaultCookieName(secure: boolean, domain: string | undefined, path: string): string {
  if (!secure) return 'gatehouse.sid'
  return domain === undefined && path === '/' ? '__Host-gatehouse.sid' : '__Secure-gatehouse.sid'
}

/** Validates {@link SessionOptions} and applies defaults; throws `GatehouseConfigError` listing every problem. */
export function resolveSessionOptions(options: SessionOptions): ResolvedSessionOptions {
  const o = parseOptions(sessionOptionsSchema, options, 'session', 'session')
  const ttl = o.ttl === undefined ? DEFAULT_TTL : toSeconds(o.ttl)
  const secure = o.cookie?.secure ?? true
  const path = o.cookie?.path ?? '/'
  const domain = o.cookie?.domain
  const cookie: ResolvedSessionOptions['cookie'] = {
    name: o.cookie?.name ?? defaultCookieName(secure, domain, path),
    secure,
    sameSite: o.cookie?.sameSite ?? 'lax',
    path,
  }
  if (domain !== undefined) cookie.domain = domain
  return {
    secrets: typeof o.secret === 'string' ? [o.secret] : [...o.secret],
    store: o.store ?? memoryStore(),
    ownsStore: o.store === undefined,
    cookie,
    ttlMs: ttl * 1000,
    absoluteTtlMs: (o.absoluteTtl === undefined ? DEFAULT_ABSOLUTE_TTL : toSeconds(o.absoluteTtl)) * 1000,
    rolling: o.rolling ?? true,
    touchAfterMs: (o.touchAfter === undefined ? Math.min(ttl / 10, MAX_TOUCH_AFTER) : toSeconds(o.touchAfter)) * 1000,
    storeTimeoutMs: (o.storeTimeout === undefined ? 2 : toSeconds(o.storeTimeout)) * 1000,
  }
}
