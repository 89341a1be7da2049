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
 * The map key for a token: its last 7 characters and 4 bits of its length, packed into an exact
 * integer (53 bits). Hashing a whole 400-byte token string, new on every request, costs more
 * than the rest of a cache hit; the end of the signature is as good an index. The full token is
 * still compared on every hit, so two tokens sharing a key are never confused: the other one is
 * a miss, and a collision costs a re-verification, never a wrong answer.
 */
function indexOf(token: string): number {
  let key = 0
  for (let i = Math.max(0, token.length - 7); i < token.length; i++) key = key * 128 + (token.charCodeAt(i) & 0x7f)
  return key * 16 + (token.length & 0x0f)
}

/**
 * A bounded least-recently-used cache of verified tokens, keyed by the whole token string
 * (indexed by its end, then compared in full). One cache belongs to one verifier, so the
 * verifier's configuration (keys, issuer, audience, …) is implicitly part of the key. Only
 * successes are stored: caching failures would let anyone flush the cache with garbage, and a
 * failure is cheap to find again.
 *
 * A `Map` keeps insertion order, so the first key is the least recently used one; a hit moves
 * its entry to the end.
 */
export class VerifiedCache<R> {
  readonly #max: number
  readonly #entries = new Map<number, Stored<R>>()

  constructor(max: number) {
    this.#max = max
  }

  /** The entry for `token` when it may be served at `now`; an entry past its window is dropped. */
  get(token: string, now: number): CacheEntry<R> | undefined {
    const entries = this.#entries
    const key = indexOf(token)
    const entry = entries.get(key)
    // Another token with the same end is a different token: a miss, and the entry stays.
    if (entry === undefined || entry.token !== token) return undefined
    if (now >= entry.until) {
      entries.delete(key)
      return undefined
    }
    if (now < entry.from) return undefined
    entries.delete(key)
    entries.set(key, entry)
    return entry
  }

  /** Stores an entry, evicting the least recently used one when full. */
  set(token: string, entry: CacheEntry<R>): void {
    const entries = this.#entries
    const key = indexOf(token)
    if (entries.has(key)) entries.delete(key)
    else if (entries.size >= this.#max) {
      const oldest = entries.keys().next()
      if (!oldest.done) entries.delete(oldest.value)
    }
    entries.set(key, { result: entry.result, from: entry.from, until: entry.until, token })
  }

  /** Drops every entry (e.g. when a JWKS no longer lists a key that verified some of them). */
  clear(): void {
    this.#entries.clear()
  }

  get size(): number {
    return this.#entries.size
  }
}
