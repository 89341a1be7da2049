/** One verified token as the cache keeps it: the frozen result and the window it may be served in. */
export interface CacheEntry<R> {
  readonly result: R
  /** Epoch ms: not served before (the token's `nbf` / `iat`). */
  readonly from: number
  /** Epoch ms: never served from this moment on (the token's `exp`, or `iat + maxTokenAge`). */
  readonly until: number
}

interface Stored<R> extends CacheEntry<R> {
  readonly token: string
}

/**
 * The map key for a token: a 30-bit hash of its last 8 characters and its length, so it stays a
 * small integer that V8 hashes cheaply. Hashing a whole 400-byte token string, new on every
 * request, costs more than the rest of a cache hit; the end of the signature is as good an
 * index. The full token is still compared on every hit, so two tokens sharing a key are never
 * confused: the other one is a miss, and a collision costs a re-verification, never a wrong answer.
 */
function indexOf(token: string): number {
  let key = token.length
  for (let i = Math.max(0, token.length - 8); i < token.length; i++) key = (Math.imul(key, 31) + token.charCodeAt(i)) | 0
  return key & 0x3fffffff
}

/**
 * A bounded cache of verified tokens, keyed by the whole token string (indexed by its end, then
 * compared in full). One cache belongs to one verifier, so the verifier's configuration (keys,
 * issuer, audience, …) is implicitly part of the key. Only successes are stored: caching failures
 * would let anyone flush the cache with garbage, and a failure is cheap to find again.
 *
 * Recency is kept in two generations of half the size each: entries go into the current one, a
 * hit in the previous one moves the entry forward, and when the current generation is full it
 * becomes the previous one and the oldest generation is dropped whole. Every operation is O(1)
 * whatever the size. (An exact LRU on one `Map` re-inserts on every hit and evicts through its
 * iterator, which in V8 degrades with the holes deletions leave: several microseconds per call on
 * a full cache.) The cache holds at most `max` entries and keeps at least the `max / 2` most
 * recently used.
 */
export class VerifiedCache<R> {
  readonly #half: number
  #current = new Map<number, Stored<R>>()
  #previous = new Map<number, Stored<R>>()

  constructor(max: number) {
    this.#half = Math.max(1, Math.floor(max / 2))
  }

  /** The entry for `token` when it may be served at `now`; an entry past its window is dropped. */
  get(token: string, now: number): CacheEntry<R> | undefined {
    const key = indexOf(token)
    let entry = this.#current.get(key)
    let promote = false
    if (entry === undefined) {
      entry = this.#previous.get(key)
      if (entry === undefined) return undefined
      promote = true
    }
    // Another token with the same end is a different token: a miss, and the entry stays.
    if (entry.token !== token) return undefined
    if (now >= entry.until) {
      ;(promote ? this.#previous : this.#current).delete(key)
      return undefined
    }
    if (now < entry.from) return undefined
    if (promote) {
      this.#previous.delete(key)
      this.#put(key, entry)
    }
    return entry
  }

  /** Stores an entry in the current generation. */
  set(token: string, entry: CacheEntry<R>): void {
    const key = indexOf(token)
    this.#previous.delete(key)
    this.#put(key, { result: entry.result, from: entry.from, until: entry.until, token })
  }

  #put(key: number, stored: Stored<R>): void {
    const current = this.#current
    current.set(key, stored)
    if (current.size >= this.#half) {
      this.#previous = current
      this.#current = new Map()
    }
  }

  /** Drops every entry (e.g. when a JWKS no longer lists a key that verified some of them). */
  clear(): void {
    this.#current.clear()
    this.#previous.clear()
  }

  get size(): number {
    return this.#current.size + this.#previous.size
  }
}
