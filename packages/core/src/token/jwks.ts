import { algorithmsForKey, describeKeyType } from './algorithms.js'
import { fingerprintKey } from './fingerprint.js'
import { clean, formatDuration } from '../hint-format.js'
import { importJwk, KeyIndex, type PreparedKey } from './keys.js'

/** Timing of a remote key set, in milliseconds. */
export interface RemoteKeySetOptions {
  /** Minimum time between two fetches caused by an unknown `kid` (or a stale set). */
  cooldownMs: number
  /** A fetch (headers and body) that takes longer is aborted. */
  timeoutMs: number
  /** Keys older than this are refreshed in the background while they keep being used. */
  cacheMaxAgeMs: number
  /** The algorithms a JWKS key may verify (the allow-list's asymmetric part). */
  algorithms: readonly string[]
  /** Called after a fetch that dropped a key, so results verified with it can be forgotten. */
  onKeysRemoved?: () => void
}

/** Why the last fetch failed, for hints: never contains the response body. */
export interface FetchError {
  /** `timeout`, `http`, `json`, `jwks`, `keys`, `network`, `size`, `closed`. */
  kind: string
  /** `timeout after 5s`, `HTTP 503`, `bad JSON`, … */
  message: string
}

/** The largest JWKS response accepted; real ones are a few KiB. */
const MAX_JWKS_BYTES = 1024 * 1024
/** With no key at all, a failed fetch may be retried this soon (or after the cooldown, if shorter). */
const RETRY_WITHOUT_KEYS_MS = 1000

class FetchFailure extends Error {
  readonly kind: string
  constructor(kind: string, message: string) {
    super(message)
    this.kind = kind
  }
}

/** Reads a response body as UTF-8 text, giving up (and cancelling) past {@link MAX_JWKS_BYTES}. */
async function readBounded(response: Response): Promise<string> {
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_JWKS_BYTES) {
      await reader.cancel().catch(() => undefined)
      throw new FetchFailure('size', 'response over the 1 MiB limit')
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function networkError(error: unknown): FetchFailure {
  // undici reports "fetch failed" with the system error (ECONNREFUSED, ENOTFOUND, …) as its cause.
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined
  const code = typeof cause?.code === 'string' ? cause.code : undefined
  const text = code ?? (typeof cause?.message === 'string' ? cause.message : error instanceof Error ? error.message : String(error))
  return new FetchFailure('network', `network error (${clean(text)})`)
}

/**
 * One remote JWK Set, fetched lazily on first use and kept in memory. Fetches are single-flight
 * (concurrent callers share one request), bounded by a timeout, and spaced by a cooldown, so a
 * burst of tokens with an unknown `kid` causes at most one fetch per cooldown. A failed fetch
 * never replaces the last good keys, which keep working while the identity provider is down.
 * There are no timers besides a fetch's own timeout; `close()` aborts that fetch.
 */
export class RemoteKeySet {
  readonly url: URL
  readonly source: string
  readonly #options: RemoteKeySetOptions
  #index: KeyIndex | undefined
  #loadedAt = -Infinity
  #attemptedAt = -Infinity
  #pending: Promise<void> | undefined
  #controller: AbortController | undefined
  #error: FetchError | undefined
  #skipped: string[] = []
  #closed = false

  constructor(url: URL, source: string, options: RemoteKeySetOptions) {
    this.url = url
    this.source = source
    this.#options = options
  }

  /** The keys of the last successful fetch (`undefined` before the first one). */
  get index(): KeyIndex | undefined {
    return this.#index
  }

  /** The last fetch's failure, cleared by a successful fetch. */
  get error(): FetchError | undefined {
    return this.#error
  }

  /** Keys of the last successful fetch that were skipped, as `kid=…: reason` (for hints). */
  get skipped(): readonly string[] {
    return this.#skipped
  }

  /** Epoch ms of the last successful fetch. */
  get loadedAt(): number {
    return this.#loadedAt
  }

  /** `host` of the URL, for hints (paths and queries may carry tenant ids). */
  get host(): string {
    return this.url.host
  }

  /** Ms until an unknown `kid` may cause another fetch (0 when it may now). */
  cooldownLeft(now = Date.now()): number {
    return Math.max(0, this.#attemptedAt + this.#options.cooldownMs - now)
  }

  /**
   * Makes sure the set has keys: joins the fetch in flight, or starts one when the set has never
   * loaded (retrying a failed first fetch at most once a second). Never rejects.
   */
  load(): Promise<void> | undefined {
    if (this.#index !== undefined) return undefined
    if (this.#pending) return this.#pending
    const wait = Math.min(this.#options.cooldownMs, RETRY_WITHOUT_KEYS_MS)
    if (Date.now() - this.#attemptedAt < wait) return undefined
    return this.#start()
  }

  /**
   * Fetches again because a token names a key the set lacks: joins the fetch in flight, or
   * starts one when the cooldown since the last attempt has passed. `undefined` when neither.
   */
  refetch(): Promise<void> | undefined {
    if (this.#pending) return this.#pending
    if (this.cooldownLeft() > 0) return undefined
    return this.#start()
  }

  /** Starts a background refresh when the keys are older than `cacheMaxAge` (and not cooling down). */
  refreshIfStale(now = Date.now()): void {
    if (this.#pending || this.#index === undefined) return
    if (now - this.#loadedAt < this.#options.cacheMaxAgeMs || this.cooldownLeft(now) > 0) return
    void this.#start()
  }

  /** Aborts the fetch in flight and stops fetching. Idempotent. */
  close(): Promise<void> {
    this.#closed = true
    this.#controller?.abort()
    return this.#pending ?? Promise.resolve()
  }

  #start(): Promise<void> | undefined {
    if (this.#closed) {
      this.#error = { kind: 'closed', message: 'the verifier was closed' }
      return undefined
    }
    this.#attemptedAt = Date.now()
    const pending = this.#fetch().finally(() => {
      if (this.#pending === pending) this.#pending = undefined
    })
    this.#pending = pending
    return pending
  }

  async #fetch(): Promise<void> {
    const controller = new AbortController()
    this.#controller = controller
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, this.#options.timeoutMs)
    timer.unref?.()
    try {
      let response: Response
      try {
        response = await fetch(this.url, { signal: controller.signal, redirect: 'manual', headers: { accept: 'application/jwk-set+json, application/json' } })
      } catch (error) {
        throw this.#aborted(timedOut) ?? networkError(error)
      }
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined)
        throw new FetchFailure('http', `HTTP ${response.status}${response.status >= 300 && response.status < 400 ? ' (redirects are not followed: configure the final URL)' : ''}`)
      }
      const declared = Number(response.headers.get('content-length'))
      if (declared > MAX_JWKS_BYTES) {
        await response.body?.cancel().catch(() => undefined)
        throw new FetchFailure('size', `response of ${declared} bytes, over the 1 MiB limit`)
      }
      let text: string
      try {
        text = await readBounded(response)
      } catch (error) {
        throw error instanceof FetchFailure ? error : (this.#aborted(timedOut) ?? networkError(error))
      }
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch {
        throw new FetchFailure('json', 'bad JSON: the response is not JSON')
      }
      const keys = (body as { keys?: unknown } | null)?.keys
      if (typeof body !== 'object' || body === null || !Array.isArray(keys)) throw new FetchFailure('jwks', "not a JWK Set: the JSON has no 'keys' array")
      this.#accept(keys)
    } catch (error) {
      if (this.#closed) this.#error = { kind: 'closed', message: 'the verifier was closed' }
      else if (error instanceof FetchFailure) this.#error = { kind: error.kind, message: error.message }
      else this.#error = { kind: 'network', message: clean(error instanceof Error ? error.message : String(error)) }
    } finally {
      clearTimeout(timer)
      if (this.#controller === controller) this.#controller = undefined
    }
  }

  #aborted(timedOut: boolean): FetchFailure | undefined {
    if (timedOut) return new FetchFailure('timeout', `timeout after ${formatDuration(this.#options.timeoutMs / 1000)}`)
    if (this.#closed) return new FetchFailure('closed', 'the verifier was closed')
    return undefined
  }

  #accept(entries: unknown[]): void {
    const allowed = this.#options.algorithms
    const keys: PreparedKey[] = []
    const skipped: string[] = []
    entries.forEach((entry, i) => {
      const label = typeof (entry as { kid?: unknown })?.kid === 'string' ? `kid=${clean((entry as { kid: string }).kid)}` : `keys[${i}]`
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return void skipped.push(`${label}: is not an object`)
      const imported = importJwk(entry as Record<string, unknown>)
      if (typeof imported === 'string') return void skipped.push(`${label}: ${imported}`)
      const fits = algorithmsForKey(imported.key).filter((a) => allowed.includes(a) && (imported.alg === undefined || imported.alg === a))
      if (fits.length === 0) {
        const why = imported.alg === undefined ? `is an ${describeKeyType(imported.key)} key, which fits none of jwt.algorithms` : `has alg ${imported.alg}, which is not in jwt.algorithms`
        return void skipped.push(`${label}: ${why}`)
      }
      keys.push({
        key: imported.key,
        kind: 'jwks',
        kid: imported.kid,
        fingerprint: fingerprintKey(imported.key),
        source: imported.kid === undefined ? `${this.source} keys[${i}]` : `${this.source} kid=${clean(imported.kid)}`,
        type: describeKeyType(imported.key),
        algorithms: fits,
      })
    })
    if (keys.length === 0) {
      const why = skipped.length ? `: ${skipped.slice(0, 3).join('; ')}${skipped.length > 3 ? '; …' : ''}` : ' (the set is empty)'
      throw new FetchFailure('keys', `no usable key in the JWK Set${why}`)
    }
    const previous = this.#index
    this.#index = new KeyIndex(keys)
    this.#skipped = skipped
    this.#loadedAt = Date.now()
    this.#error = undefined
    if (previous !== undefined) {
      const kept = new Set(keys.map((k) => k.fingerprint))
      if (previous.keys.some((k) => !kept.has(k.fingerprint))) this.#options.onKeysRemoved?.()
    }
  }
}
