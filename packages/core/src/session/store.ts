/**
 * A session as a store keeps it. All times are epoch milliseconds.
 *
 * Stores hold sessions under a *key* that is a hash of the session id, never the id itself, so
 * that a dump of the store does not hand out cookies that still work.
 */
export interface StoredSession {
  userId: string
  roles: string[]
  data: Record<string, unknown>
  createdAt: number
  /**
   * When the session was last written because it was used. Rolling writes are throttled by
   * `touchAfter`, so this is accurate to within that interval.
   */
  lastSeenAt: number
  /** When the idle timeout runs out unless the session is used (never after `absoluteExpiresAt`). */
  expiresAt: number
  /** When the absolute lifetime runs out, whatever happens. */
  absoluteExpiresAt: number
}

/**
 * Where server-side sessions live. gatehouse ships {@link memoryStore} (one process) and
 * `redisStore` in `@gatehouse/redis` (several instances sharing one Redis).
 *
 * The session manager never trusts a store's expiry alone: it checks `expiresAt` and
 * `absoluteExpiresAt` on every read. `ttlSeconds` lets the store drop a session by itself once
 * nobody can use it any more. Every call may be bounded by the manager's `storeTimeout`; a store
 * that throws or is too slow makes requests fail with 503 `auth_unavailable`, never allow them.
 */
export interface SessionStore {
  /** The session stored under `key`, or `undefined` when there is none (unknown, destroyed or expired). */
  get(key: string): Promise<StoredSession | undefined>
  /** Stores a new session (or replaces one) and indexes it under its `userId`, to expire after `ttlSeconds`. */
  set(key: string, session: StoredSession, ttlSeconds: number): Promise<void>
  /**
   * Rewrites an existing session (a rolling refresh) with a new expiry. Writes only if `key`
   * still exists and resolves `false` when it does not, atomically: a refresh racing a logout
   * must never bring the destroyed session back.
   */
  touch(key: string, session: StoredSession, ttlSeconds: number): Promise<boolean>
  /** Removes the session under `key` (and its entry in the per-user index). No error when it is absent. */
  destroy(key: string): Promise<void>
  /** Removes every session of `userId`; resolves the number of sessions removed. */
  destroyByUser(userId: string): Promise<number>
  /** Releases what the store holds (timers, memory). Optional. */
  close?(): Promise<void>
}
