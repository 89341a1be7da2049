import type { KeyObject } from 'node:crypto'
import { readCookie } from '../cookies.js'
import type { AuthRequest, SessionRecord } from '../decision.js'
import { type Failure, failure } from '../deny-codes.js'
import type { TraceSink } from '../trace.js'
import { isInProcessStore } from './memory-store.js'
import { createCookieWriter, isSessionId, MAX_COOKIE_VALUE, newSessionId, SIGNED_VALUE_LENGTH, signingKeys, signSessionId, storeKey, unsignSessionCookie } from './session-cookie.js'
import { resolveSessionOptions, type SessionOptions } from './session-options.js'
import type { StoredSession } from './store.js'

/** The outcome of {@link SessionManager.authenticate}. */
export type SessionResult =
  | {
      ok: true
      session: SessionRecord
      /** Present when the session was refreshed (rolled) or re-signed: send it as the response's `Set-Cookie`. */
      setCookie?: string
    }
  | Failure

/** What a new session holds: the user it belongs to, their roles, and application data. */
export interface SessionInput {
  userId: string
  roles?: string[]
  data?: Record<string, unknown>
}

/** Creates, checks, refreshes and ends server-side sessions carried by a signed cookie. */
export interface SessionManager {
  /** The name of the session cookie. */
  readonly cookieName: string
  /**
   * Starts a session (call it after the user proved who they are) and returns the `Set-Cookie`
   * value to send. The id is new and random; nothing the client sent is reused.
   * Rejects when the store fails; the error never contains a session id.
   */
  create(input: SessionInput): Promise<{ session: SessionRecord; setCookie: string }>
  /**
   * Replaces the request's session with one under a new id (after a privilege change, to defeat
   * fixation). The old id is destroyed first, so it is dead even if the new write fails.
   * `roles`/`data` replace the old ones when given. The new session keeps the old one's
   * `createdAt` and absolute expiry: regenerating never extends a session's lifetime.
   * Rejects with a clear `Error` when the request carries no valid session.
   */
  regenerate(req: AuthRequest, changes?: { roles?: string[]; data?: Record<string, unknown> }): Promise<{ session: SessionRecord; setCookie: string }>
  /**
   * Ends the session of a request (every validly signed session cookie it carries) or the
   * session with the given id, and returns the clearing `Set-Cookie` value. A missing, tampered
   * or unknown cookie is not an error. Rejects only when the store fails.
   */
  destroy(reqOrId: AuthRequest | string): Promise<string>
  /** Ends every session of a user (e.g. after a password change); resolves how many were live. */
  revokeUser(userId: string): Promise<number>
  /**
   * Used by the auth pipeline: judge every value of the session cookie found on the request.
   * Never throws; a store failure or timeout is 503 `auth_unavailable`.
   */
  authenticate(values: readonly string[], options?: { trace?: TraceSink; now?: number }): Promise<SessionResult>
  /** Stops the manager (and closes the store when the manager created it). Idempotent. */
  close(): Promise<void>
}

type StoreOp = 'get' | 'set' | 'touch' | 'destroy' | 'destroyByUser'

/** Marks a store call that outlived `storeTimeout`. */
class StoreTimeout extends Error {
  override readonly name = 'StoreTimeout'
}

interface Verified {
  id: string
  key: string
  /** The cookie re-signed with the first secret, when it was signed with an older one. */
  resigned: string | undefined
  /** When this process last started a rolling write for the session (the manager's clock). */
  touchedAt: number
}

// Verified cookie values, to skip the HMAC and hash on repeat requests. Only the signature check
// is cached: existence and expiry are read from the store every time.
const VERIFIED_CACHE_MAX = 10_000

function wellFormed(s: StoredSession): boolean {
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.userId === 'string' &&
    Array.isArray(s.roles) &&
    typeof s.data === 'object' &&
    s.data !== null &&
    Number.isFinite(s.createdAt) &&
    Number.isFinite(s.lastSeenAt) &&
    Number.isFinite(s.expiresAt) &&
    Number.isFinite(s.absoluteExpiresAt)
  )
}

function span(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0) return `${ms / 60_000}m`
  return `${ms / 1000}s`
}

const iso = (ms: number) => new Date(ms).toISOString()

function errorKind(error: unknown): string {
  if (!(error instanceof Error)) return `a thrown ${typeof error}`
  const code = (error as { code?: unknown }).code
  const message = error.message.length > 200 ? `${error.message.slice(0, 200)}…` : error.message
  return `${error.name}${typeof code === 'string' ? ` (${code})` : ''}: ${message}`
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

function checkJson(method: string, field: string, value: unknown): void {
  try {
    JSON.stringify(value)
  } catch (error) {
    throw new TypeError(`sessions.${method}: ${field} must be JSON-serialisable (${error instanceof Error ? error.message : String(error)})`)
  }
}

function checkRoles(method: string, roles: unknown): string[] {
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) throw new TypeError(`sessions.${method}: roles must be an array of strings`)
  return [...(roles as string[])]
}

function checkData(method: string, data: unknown): Record<string, unknown> {
  if (!isPlainObject(data)) throw new TypeError(`sessions.${method}: data must be a plain object`)
  checkJson(method, 'data', data)
  return { ...data }
}

/**
 * Creates the session manager: signed cookies (`<id>.<HMAC-SHA256>`, 256-bit random ids), a
 * store keyed by a hash of the id, idle and absolute expiry checked on every request, rolling
 * refreshes throttled by `touchAfter`, and revocation per session or per user.
 *
 * Options are validated once; bad ones throw `GatehouseConfigError` listing every problem
 * (paths such as `session.cookie.domain`).
 *
 * @example
 * ```ts
 * const sessions = createSessionManager({ secret: process.env.SESSION_SECRET! })
 * // after checking the password:
 * const { setCookie } = await sessions.create({ userId: user.id, roles: user.roles })
 * res.setHeader('Set-Cookie', setCookie)
 * ```
 */
export function createSessionManager(options: SessionOptions): SessionManager {
  const o = resolveSessionOptions(options)
  const { store, ttlMs, absoluteTtlMs, rolling, touchAfterMs, storeTimeoutMs } = o
  const secrets = signingKeys(o.secrets)
  const signingSecret = secrets[0] as KeyObject
  const cookieName = o.cookie.name
  const cookies = createCookieWriter(o.cookie)
  const inProcess = isInProcessStore(store)
  const verified = new Map<string, Verified>()
  let closed: Promise<void> | undefined

  function remember(value: string, entry: Verified): void {
    if (verified.size >= VERIFIED_CACHE_MAX) verified.delete(verified.keys().next().value as string)
    verified.set(value, entry)
  }

  /**
   * Runs a store call bounded by `storeTimeout`. Rejects with the store's own error, or with a
   * {@link StoreTimeout}; {@link storeProblem} turns either into a hint.
   */
  function guarded<T>(call: () => Promise<T>): Promise<T> {
    let pending: Promise<T>
    try {
      pending = Promise.resolve(call())
    } catch (error) {
      return Promise.reject(error)
    }
    if (inProcess) return pending
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StoreTimeout()), storeTimeoutMs)
      // Both handlers stay attached, so a late rejection after the timeout is never unhandled.
      pending.then(
        (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        },
      )
    })
  }

  function storeProblem(op: StoreOp, error: unknown): string {
    return error instanceof StoreTimeout
      ? `session store ${op} timed out after ${storeTimeoutMs} ms (storeTimeout)`
      : `session store ${op} failed: ${errorKind(error)}`
  }

  function record(id: string, s: StoredSession): SessionRecord {
    return { id, userId: s.userId, roles: s.roles, data: s.data, createdAt: s.createdAt, expiresAt: s.expiresAt, absoluteExpiresAt: s.absoluteExpiresAt }
  }

  type Found = { ok: true; value: string; entry: Verified; stored: StoredSession }

  /** Verifies the cookie, reads the store and checks expiry: everything but the rolling refresh. */
  async function lookup(values: readonly string[], now: number): Promise<Found | Failure> {
    if (closed) return failure('auth_unavailable', 'the session manager was closed (close() was called)')
    if (values.length !== 1) {
      if (values.length === 0) return failure('credentials_missing', `no '${cookieName}' cookie on the request`)
      return failure(
        'session_invalid',
        `the request carries ${values.length} cookies named '${cookieName}': a second cookie of the same name (set for another path or a parent domain) is how cookie tossing plants a session, so none is trusted; expire the stray one (Max-Age=0 with its own Path and Domain)`,
        { reason: 'duplicate', count: values.length },
      )
    }
    const value = values[0] as string
    // Only values of the one length gatehouse writes can be cached; others (an oversized one
    // included) go straight to the checks that refuse them, without hashing them as a map key.
    let entry = value.length === SIGNED_VALUE_LENGTH ? verified.get(value) : undefined
    if (entry === undefined) {
      const unsigned = unsignSessionCookie(value, secrets)
      if (!unsigned.ok) {
        const why =
          unsigned.reason === 'oversized'
            ? `the '${cookieName}' cookie is ${value.length} characters long, over the ${MAX_COOKIE_VALUE} limit`
            : unsigned.reason === 'malformed'
              ? `the '${cookieName}' cookie is not a gatehouse session value (expected <id>.<signature>, 87 base64url characters)`
              : `the '${cookieName}' cookie's signature matches none of the ${secrets.length} configured secret${secrets.length > 1 ? 's' : ''}: it was altered, or signed with a secret no longer in session.secret`
        return failure('session_invalid', why, { reason: unsigned.reason })
      }
      entry = {
        id: unsigned.id,
        key: storeKey(unsigned.id),
        resigned: unsigned.secretIndex === 0 ? undefined : signSessionId(unsigned.id, signingSecret),
        touchedAt: Number.NEGATIVE_INFINITY,
      }
      remember(value, entry)
    }
    const key = entry.key
    let stored: StoredSession | undefined
    try {
      stored = await guarded(() => store.get(key))
    } catch (error) {
      return failure('auth_unavailable', storeProblem('get', error), { reason: 'store', operation: 'get' })
    }
    if (stored === undefined) {
      return failure('session_invalid', 'no such session in the store: it was destroyed (logout, regenerate, revokeUser), dropped by the store after expiring, or never issued by this server', { reason: 'unknown' })
    }
    if (!wellFormed(stored)) return failure('session_invalid', 'the store returned a malformed session record; it is refused', { reason: 'malformed_record' })
    if (now >= stored.absoluteExpiresAt) {
      return failure('session_expired', `the session reached its absolute lifetime (absoluteTtl ${span(absoluteTtlMs)}) at ${iso(stored.absoluteExpiresAt)}`, { reason: 'absolute', expiredAt: stored.absoluteExpiresAt })
    }
    if (now >= stored.expiresAt) {
      return failure('session_expired', `the session was idle past its timeout (ttl ${span(ttlMs)}) and expired at ${iso(stored.expiresAt)}; last recorded use ${iso(stored.lastSeenAt)}`, { reason: 'idle', expiredAt: stored.expiresAt })
    }
    return { ok: true, value, entry, stored }
  }

  async function authenticate(values: readonly string[], options?: { trace?: TraceSink; now?: number }): Promise<SessionResult> {
    const trace = options?.trace
    const now = options?.now ?? Date.now()
    const found = await lookup(values, now)
    if (!found.ok) {
      trace?.({ step: 'session', outcome: 'fail', detail: found.hint, data: { code: found.code, ...found.detail } })
      return found
    }
    const { entry, stored } = found
    let session: SessionRecord
    let setCookie: string | undefined
    const target = rolling ? Math.min(now + ttlMs, stored.absoluteExpiresAt) : stored.expiresAt
    // Throttle: the stored lastSeenAt covers other instances; touchedAt covers a burst of
    // concurrent requests in this one, which all read the session before the first write lands.
    if (target > stored.expiresAt && now - stored.lastSeenAt >= touchAfterMs && now - entry.touchedAt >= touchAfterMs) {
      const previous = entry.touchedAt
      entry.touchedAt = now
      const next: StoredSession = { ...stored, lastSeenAt: now, expiresAt: target }
      let written: boolean
      try {
        written = await guarded(() => store.touch(entry.key, next, Math.ceil((target - now) / 1000)))
      } catch (error) {
        entry.touchedAt = previous
        const hint = storeProblem('touch', error)
        trace?.({ step: 'session', outcome: 'fail', detail: hint, data: { code: 'auth_unavailable' } })
        return failure('auth_unavailable', hint, { reason: 'store', operation: 'touch' })
      }
      if (!written) {
        verified.delete(found.value)
        const hint = 'the session was destroyed while it was being refreshed (logout or revocation won the race); it stays destroyed'
        trace?.({ step: 'session', outcome: 'fail', detail: hint, data: { code: 'session_invalid' } })
        return failure('session_invalid', hint, { reason: 'destroyed' })
      }
      session = record(entry.id, next)
      setCookie = cookies.write(entry.resigned ?? found.value, (target - now) / 1000)
    } else {
      session = record(entry.id, stored)
      // A cookie signed with an older secret is re-signed now rather than at the next refresh.
      if (entry.resigned !== undefined) setCookie = cookies.write(entry.resigned, (stored.expiresAt - now) / 1000)
    }
    trace?.({
      step: 'session',
      outcome: 'pass',
      detail: `session of user '${session.userId}' valid until ${iso(session.expiresAt)}${setCookie === undefined ? '' : ' (cookie refreshed)'}`,
      data: { userId: session.userId, expiresAt: session.expiresAt, refreshed: setCookie !== undefined },
    })
    return setCookie === undefined ? { ok: true, session } : { ok: true, session, setCookie }
  }

  /** A store call outside the request path: failures reject with an Error naming the method and operation. */
  async function write<T>(method: string, op: StoreOp, call: () => Promise<T>): Promise<T> {
    try {
      return await guarded(call)
    } catch (error) {
      throw new Error(`sessions.${method}: ${storeProblem(op, error)}`, { cause: error })
    }
  }

  function assertOpen(method: string): void {
    if (closed) throw new Error(`sessions.${method}: the session manager was closed (close() was called)`)
  }

  async function start(method: string, now: number, userId: string, roles: string[], data: Record<string, unknown>, createdAt: number, absoluteExpiresAt: number) {
    const id = newSessionId()
    const key = storeKey(id)
    const expiresAt = Math.min(now + ttlMs, absoluteExpiresAt)
    const stored: StoredSession = { userId, roles, data, createdAt, lastSeenAt: now, expiresAt, absoluteExpiresAt }
    await write(method, 'set', () => store.set(key, stored, Math.ceil((expiresAt - now) / 1000)))
    const value = signSessionId(id, signingSecret)
    // The browser sends this value next; it is already verified.
    remember(value, { id, key, resigned: undefined, touchedAt: now })
    return { session: record(id, stored), setCookie: cookies.write(value, (expiresAt - now) / 1000) }
  }

  /** Store keys of every validly signed session cookie on the request (never throws). */
  function keysOf(req: AuthRequest): string[] {
    const keys: string[] = []
    for (const value of readCookie(req.headers, cookieName)) {
      const unsigned = unsignSessionCookie(value, secrets)
      if (!unsigned.ok) continue
      verified.delete(value)
      keys.push(storeKey(unsigned.id))
    }
    return keys
  }

  return {
    cookieName,
    authenticate,

    async create(input) {
      assertOpen('create')
      if (typeof input !== 'object' || input === null) throw new TypeError('sessions.create: expected { userId, roles?, data? }')
      if (typeof input.userId !== 'string' || input.userId === '') throw new TypeError('sessions.create: userId must be a non-empty string')
      const roles = input.roles === undefined ? [] : checkRoles('create', input.roles)
      const data = input.data === undefined ? {} : checkData('create', input.data)
      const now = Date.now()
      return start('create', now, input.userId, roles, data, now, now + absoluteTtlMs)
    },

    async regenerate(req, changes) {
      assertOpen('regenerate')
      const roles = changes?.roles === undefined ? undefined : checkRoles('regenerate', changes.roles)
      const data = changes?.data === undefined ? undefined : checkData('regenerate', changes.data)
      const now = Date.now()
      const found = await lookup(readCookie(req.headers, cookieName), now)
      if (!found.ok) throw new Error(`sessions.regenerate: the request carries no valid session (${found.code}: ${found.hint})`)
      const { stored, entry } = found
      verified.delete(found.value)
      await write('regenerate', 'destroy', () => store.destroy(entry.key))
      return start('regenerate', now, stored.userId, roles ?? [...stored.roles], data ?? { ...stored.data }, stored.createdAt, stored.absoluteExpiresAt)
    },

    async destroy(reqOrId) {
      assertOpen('destroy')
      let keys: string[]
      if (typeof reqOrId === 'string') keys = isSessionId(reqOrId) ? [storeKey(reqOrId)] : []
      else if (typeof reqOrId === 'object' && reqOrId !== null && typeof reqOrId.headers === 'object' && reqOrId.headers !== null) keys = keysOf(reqOrId)
      else throw new TypeError('sessions.destroy: expected a request ({ method, url, headers }) or a session id')
      for (const key of keys) await write('destroy', 'destroy', () => store.destroy(key))
      return cookies.clear
    },

    async revokeUser(userId) {
      assertOpen('revokeUser')
      if (typeof userId !== 'string' || userId === '') throw new TypeError('sessions.revokeUser: userId must be a non-empty string')
      return write('revokeUser', 'destroyByUser', () => store.destroyByUser(userId))
    },

    close() {
      closed ??= (async () => {
        verified.clear()
        if (o.ownsStore) await store.close?.()
      })()
      return closed
    },
  }
}
