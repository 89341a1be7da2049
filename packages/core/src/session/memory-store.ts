import { GatehouseConfigError } from '../config-error.js'
import type { SessionStore, StoredSession } from './store.js'

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * How many sessions the store keeps at most. When full, storing one more evicts the least
   * recently used session (its user is logged out). Default `10_000`.
   */
  max?: number
}

interface Entry {
  session: StoredSession
  /** Epoch ms after which the store forgets the session (the `ttlSeconds` of the last write). */
  dropAt: number
}

// Stores that answer from process memory and so can never wait on I/O. The session manager
// arms no per-call deadline timer for them: a timer could only fire if the event loop were free,
// and an in-process store never yields it while holding a call open.
const inProcessStores = new WeakSet<SessionStore>()

/** Whether `store` was made by {@link memoryStore} (and therefore never waits on I/O). */
export function isInProcessStore(store: SessionStore): boolean {
  return inProcessStores.has(store)
}

// Sessions go through JSON, exactly as they do on the way to Redis, so an application sees the
// same data whichever store it runs on. The copy is frozen because the manager hands it out on
// every read: a change to `session.data` must go through `regenerate`, not mutate the store.
function snapshot(session: StoredSession): StoredSession {
  return deepFreeze(JSON.parse(JSON.stringify(session)) as StoredSession)
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

/**
 * The in-process session store: the default of `createSessionManager`, for one process, demos
 * and tests. Sessions do not survive a restart and are not shared between instances; use
 * `redisStore` from `@gatehouse/redis` for that.
 *
 * It is bounded (least recently used sessions are evicted beyond `max`), forgets sessions once
 * their `ttlSeconds` has passed, and keeps a per-user index so `destroyByUser` does not scan.
 * It starts no timers, so it never keeps a process alive. Stored sessions are deep-frozen JSON
 * copies: what a caller passes in is never aliased.
 *
 * @example
 * ```ts
 * const sessions = createSessionManager({ secret, store: memoryStore({ max: 50_000 }) })
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): SessionStore {
  const max = options.max ?? 10_000
  if (!Number.isInteger(max) || max < 1) {
    throw new GatehouseConfigError([{ path: 'max', message: `must be a whole number of sessions, 1 or more (got ${String(max)})` }], 'memoryStore')
  }
  // A Map iterates in insertion order; re-inserting on use keeps the least recently used first.
  const entries = new Map<string, Entry>()
  const byUser = new Map<string, Set<string>>()

  function unindex(key: string, userId: string): void {
    const keys = byUser.get(userId)
    if (keys === undefined) return
    keys.delete(key)
    if (keys.size === 0) byUser.delete(userId)
  }

  function remove(key: string, entry: Entry): void {
    entries.delete(key)
    unindex(key, entry.session.userId)
  }

  function live(key: string, now: number): Entry | undefined {
    const entry = entries.get(key)
    if (entry === undefined) return undefined
    if (now >= entry.dropAt) {
      remove(key, entry)
      return undefined
    }
    return entry
  }

  function write(key: string, session: StoredSession, ttlSeconds: number, now: number): void {
    const previous = entries.get(key)
    if (previous !== undefined) remove(key, previous)
    entries.set(key, { session: snapshot(session), dropAt: now + ttlSeconds * 1000 })
    let keys = byUser.get(session.userId)
    if (keys === undefined) byUser.set(session.userId, (keys = new Set()))
    keys.add(key)
    // Trim from the cold end: expired sessions found there go even when the store is not full,
    // then the least recently used until the store is back within max.
    for (const [oldKey, oldEntry] of entries) {
      if (entries.size <= max && now < oldEntry.dropAt) break
      remove(oldKey, oldEntry)
    }
  }

  const store: SessionStore = {
    async get(key) {
      const entry = live(key, Date.now())
      if (entry === undefined) return undefined
      entries.delete(key)
      entries.set(key, entry)
      return entry.session
    },
    async set(key, session, ttlSeconds) {
      write(key, session, ttlSeconds, Date.now())
    },
    async touch(key, session, ttlSeconds) {
      const now = Date.now()
      if (live(key, now) === undefined) return false
      write(key, session, ttlSeconds, now)
      return true
    },
    async destroy(key) {
      const entry = entries.get(key)
      if (entry !== undefined) remove(key, entry)
    },
    async destroyByUser(userId) {
      const keys = byUser.get(userId)
      if (keys === undefined) return 0
      const now = Date.now()
      let removed = 0
      for (const key of [...keys]) {
        const entry = entries.get(key)
        if (entry === undefined) continue
        if (now < entry.dropAt) removed++
        remove(key, entry)
      }
      byUser.delete(userId)
      return removed
    },
    async close() {
      entries.clear()
      byUser.clear()
    },
  }
  inProcessStores.add(store)
  return store
}
