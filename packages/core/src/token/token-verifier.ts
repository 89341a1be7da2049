import { HookTimeout, withTimeout } from '../hook-timeout.js'
import { GatehouseConfigError } from '../config-error.js'
import type { JWTPayload } from '../decision.js'
import { failure, type Failure } from '../deny-codes.js'
import { toSeconds } from '../duration.js'
import { parseOptions } from '../options-parse.js'
import type { TraceSink } from '../trace.js'
import { ALGORITHMS, type AlgorithmSpec, isNoneAlgorithm, keyTypeNeeded } from './algorithms.js'
import { cacheWindow, checkClaims, type ClaimPolicy, normalizeTyp } from './claims.js'
import { clean, formatDuration, show, showList } from '../hint-format.js'
import { RemoteKeySet } from './jwks.js'
import { parseCompactJws, type ParsedJws, verifyAsymmetric, verifyHmac } from './jws.js'
import { type JwtOptions, jwtOptionsSchema, resolvedKeysOf } from './jwt-options.js'
import { type Candidate, KeyIndex, type PreparedKey, resolveKeys, type ResolvedKeys } from './keys.js'
import { VerifiedCache } from './verified-cache.js'

export { fingerprintKey } from './fingerprint.js'

/**
 * A token that passed every check. When the token is cached (the default), `claims` and
 * `header` are deeply frozen and shared by every request that presents the same token; treat
 * them as read-only in any case.
 */
export interface VerifiedToken {
  ok: true
  claims: JWTPayload
  header: Record<string, unknown>
  /** `true` when served from the verified-token cache (revocation was still checked). */
  cached: boolean
}

/** The outcome of {@link TokenVerifier.verify}: the verified token, or a coded {@link Failure} with a hint. */
export type TokenResult = VerifiedToken | Failure

/** A configured or fetched key, described without its material (for start-up logs, `auth.keys()` and `gatehouse fingerprint`). */
export interface KeyInfo {
  /** `sha256:` and 12 hex digits; see {@link fingerprintKey} for how to compute it elsewhere. */
  fingerprint: string
  kind: 'secret' | 'public' | 'jwks'
  /** The algorithms this key verifies here. */
  algorithms: string[]
  kid?: string
  /** Where the key came from: `jwt.secret[0]`, `jwt.publicKey`, `jwt.jwksUrl[0] kid=abc`. */
  source: string
}

/** Per-call options of {@link TokenVerifier.verify}. */
export interface VerifyOptions {
  /** Receives each step (`token`, `algorithm`, `key`, `signature`, `claims`, `revocation`, `cache`). */
  trace?: TraceSink
  /** The current time in epoch milliseconds, for tests and the CLI. Default `Date.now()`. */
  now?: number
}

/** Verifies JWTs against one configuration. Create it once; it is safe to share. */
export interface TokenVerifier {
  /**
   * Verifies a compact JWS and its claims. Never throws or rejects on any token: every refusal is
   * a {@link Failure} whose `code` is a deny code and whose `hint` names the cause (never the
   * token or a secret). Only misuse rejects: a `now` that is not a finite number (`TypeError`).
   */
  verify(token: string, options?: VerifyOptions): Promise<TokenResult>
  /**
   * The same result as {@link TokenVerifier.verify}, returned synchronously when nothing had to
   * wait (static keys, a cache hit, no async `isRevoked`): a promise only for JWKS fetches and
   * async revocation checks. Saves a microtask per request on the hot path.
   *
   * @throws TypeError when `options.now` is not a finite number.
   */
  verifyNow(token: string, options?: VerifyOptions): TokenResult | Promise<TokenResult>
  /** The static keys and the keys of the last JWKS fetch, by fingerprint. */
  keys(): KeyInfo[]
  /** Aborts any JWKS fetch in flight and stops fetching. Idempotent. */
  close(): Promise<void>
}

const DEFAULT_MAX_TOKEN_BYTES = 8192
/** Distinct verified headers remembered (an issuer uses one per key); the map restarts when full. */
const KNOWN_HEADERS_MAX = 32
const DEFAULT_CACHE_MAX = 10_000
const MAX_FINGERPRINTS_SHOWN = 5

/** Freezes an object parsed from JSON and everything in it (JSON has no cycles). */
function deepFreeze(object: object): void {
  Object.freeze(object)
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      const item: unknown = object[i]
      if (typeof item === 'object' && item !== null) deepFreeze(item)
    }
    return
  }
  for (const key in object) {
    const item = (object as Record<string, unknown>)[key]
    if (typeof item === 'object' && item !== null) deepFreeze(item)
  }
}

function fingerprints(candidates: readonly Candidate[]): string {
  const shown = candidates.slice(0, MAX_FINGERPRINTS_SHOWN).map((c) => c.key.fingerprint)
  return candidates.length > MAX_FINGERPRINTS_SHOWN ? `${shown.join(', ')}, …` : shown.join(', ')
}

/** What {@link createAuth} passes to the verifier it creates. */
export interface VerifierContext {
  /** How long an async `isRevoked` may take before the token is refused with 503 (default 5000). */
  hookTimeoutMs?: number
}

/**
 * Creates a JWT verifier. Options are validated here (a bad option throws
 * {@link GatehouseConfigError} listing every problem) and every key is imported here, so the
 * per-request path does no option handling and no key parsing.
 *
 * Checks, in order: size and compact-JWS shape (strict base64url, JSON objects) → `alg` against
 * the allow-list (never `none`) → `crit` → key by `kid` and type → signature (node:crypto) →
 * `typ`, `exp`, `nbf`, `iat`, `maxTokenAge`, `iss`, `aud`, required claims → `isRevoked`.
 * Successes are cached (LRU, per verifier) until the token's own `exp`.
 *
 * @example
 * ```ts
 * const verifier = createTokenVerifier({ jwksUrl: 'https://id.example.com/.well-known/jwks.json', issuer: 'https://id.example.com', audience: 'backend' })
 * const result = await verifier.verify(token)
 * if (!result.ok) log.warn(result.code, result.hint)
 * ```
 */
export function createTokenVerifier(options: JwtOptions, context?: VerifierContext): TokenVerifier {
  const hookTimeoutMs = context?.hookTimeoutMs ?? 5000
  const o = parseOptions(jwtOptionsSchema, options, 'jwt', 'jwt')
  const keys = resolvedKeysOf(o) ?? resolveOrThrow(o)

  const allowed = new Set(keys.algorithms)
  const secretIndex = new KeyIndex(keys.secrets)
  const publicIndex = new KeyIndex(keys.publicKeys)
  const jwksAlgorithms = new Set(keys.jwksAlgorithms)
  const maxTokenBytes = o.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES
  const cache = o.cache === false ? undefined : new VerifiedCache<VerifiedToken>(o.cache?.max ?? DEFAULT_CACHE_MAX)
  const isRevoked = o.isRevoked
  const toList = (v: string | string[] | undefined) => (v === undefined ? undefined : Object.freeze(Array.isArray(v) ? [...v] : [v]))
  const policy: ClaimPolicy = Object.freeze({
    tolerance: toSeconds(o.clockTolerance ?? 5, 'jwt.clockTolerance'),
    requireExp: o.requireExp ?? true,
    issuers: toList(o.issuer),
    audiences: toList(o.audience),
    maxTokenAge: o.maxTokenAge === undefined ? undefined : toSeconds(o.maxTokenAge, 'jwt.maxTokenAge'),
    requiredClaims: Object.freeze([...(o.requiredClaims ?? [])]),
    typ: o.typ === undefined ? undefined : { given: o.typ, normalized: normalizeTyp(o.typ) },
  })
  const sets = keys.jwksUrls.map(
    ({ url, source }) =>
      new RemoteKeySet(url, source, {
        cooldownMs: toSeconds(o.jwks?.cooldown ?? 30, 'jwt.jwks.cooldown') * 1000,
        timeoutMs: toSeconds(o.jwks?.timeout ?? 5, 'jwt.jwks.timeout') * 1000,
        cacheMaxAgeMs: toSeconds(o.jwks?.cacheMaxAge ?? 600, 'jwt.jwks.cacheMaxAge') * 1000,
        algorithms: keys.jwksAlgorithms,
        // A key dropped from the JWKS may have been withdrawn for cause: forget what it verified.
        onKeysRemoved: () => cache?.clear(),
      }),
  )
  const knownHeaders = new Map<string, Record<string, unknown>>()
  let closing: Promise<void> | undefined

  function fail(trace: TraceSink, step: string, result: Failure): Failure {
    trace?.({ step, outcome: 'fail', detail: result.hint, data: { code: result.code, ...result.detail } })
    return result
  }

  function rejectAlgorithm(alg: unknown): Failure {
    const allowedList = [...allowed].join(', ')
    if (typeof alg !== 'string' || alg === '') {
      return failure('token_algorithm_rejected', `token header has no alg (found ${show(alg)}); allowed: ${allowedList}`, { reason: 'alg_missing' })
    }
    if (isNoneAlgorithm(alg)) {
      return failure('token_algorithm_rejected', `token alg ${show(alg)} means an unsigned token, which is never accepted; allowed: ${allowedList}`, { reason: 'alg_none' })
    }
    const spec = ALGORITHMS.get(alg)
    if (spec?.family === 'hmac' && secretIndex.keys.length === 0) {
      return failure('token_algorithm_rejected', `token alg ${alg} is HMAC, and no jwt.secret is configured: HMAC is never verified with a public key or a JWKS (a classic forgery); allowed: ${allowedList}`, { reason: 'alg_key_type' })
    }
    const why = spec === undefined ? ' (not an algorithm gatehouse supports)' : ' (add it to jwt.algorithms if your issuer really signs with it)'
    return failure('token_algorithm_rejected', `token alg ${show(alg)} is not allowed${why}; allowed: ${allowedList}`, { reason: spec === undefined ? 'alg_unsupported' : 'alg_not_allowed' })
  }

  function tryKeys(candidates: readonly Candidate[], spec: AlgorithmSpec, token: string, jws: ParsedJws): PreparedKey | undefined {
    if (spec.family === 'hmac') {
      for (const c of candidates) if (verifyHmac(spec, c.key.key, token, jws.signingInputEnd, jws.signature)) return c.key
      return undefined
    }
    const data = Buffer.from(token.slice(0, jws.signingInputEnd), 'latin1')
    for (const c of candidates) if (verifyAsymmetric(spec, c.input, data, jws.signature)) return c.key
    return undefined
  }

  function jwksUnavailable(): Failure {
    const causes = sets.map((s) => `${s.host} (${s.source}): ${s.error?.message ?? 'not fetched yet'}`)
    const kind = sets.find((s) => s.error)?.error?.kind ?? 'unknown'
    return failure(
      'auth_unavailable',
      `no usable key from the JWKS at ${causes.join('; ')}. gatehouse keeps the last good keys while the identity provider is down, but has none yet`,
      { reason: 'jwks_unavailable', kind },
    )
  }

  function collect(alg: string, kid: string | undefined): readonly Candidate[] {
    if (sets.length === 1) return sets[0]!.index?.select(alg, kid) ?? []
    const all: Candidate[] = []
    for (const set of sets) {
      const found = set.index?.select(alg, kid)
      if (found) all.push(...found)
    }
    return all
  }

  async function jwksCandidates(alg: string, kid: string | undefined, trace: TraceSink): Promise<readonly Candidate[] | Failure> {
    let loading: Array<Promise<void>> | undefined
    for (const set of sets) {
      const load = set.load()
      if (load) (loading ??= []).push(load)
    }
    if (loading) {
      trace?.({ step: 'key', outcome: 'info', detail: `fetching the JWKS from ${sets.map((s) => s.host).join(', ')}` })
      await Promise.all(loading)
    }
    if (sets.every((s) => s.index === undefined)) return jwksUnavailable()
    const now = Date.now()
    for (const set of sets) set.refreshIfStale(now)
    let found = collect(alg, kid)
    if (found.length === 0) {
      let refetching: Array<Promise<void>> | undefined
      for (const set of sets) {
        const refetch = set.refetch()
        if (refetch) (refetching ??= []).push(refetch)
      }
      if (refetching) {
        trace?.({ step: 'key', outcome: 'info', detail: `no JWKS key for ${kid === undefined ? alg : `kid ${show(kid)}`}: fetching the JWKS again` })
        await Promise.all(refetching)
        found = collect(alg, kid)
      }
    }
    return found
  }

  function unknownKey(spec: AlgorithmSpec, kid: string | undefined): Failure {
    const indexes = [spec.family === 'hmac' ? secretIndex : publicIndex, ...(spec.family === 'hmac' ? [] : sets.map((s) => s.index))]
    if (kid !== undefined) {
      const types = indexes.flatMap((i) => i?.typesForKid(kid) ?? [])
      if (types.length > 0) {
        return failure('token_algorithm_rejected', `token alg ${spec.name} does not fit the key with kid ${show(kid)} (${[...new Set(types)].join(', ')}); it needs ${keyTypeNeeded(spec)}`, { reason: 'alg_key_type' })
      }
    }
    const kids = [...new Set(indexes.flatMap((i) => (i ? [...i.kids] : [])))]
    let where = ''
    if (sets.length > 0 && spec.family !== 'hmac') {
      const now = Date.now()
      const set = sets[0]!
      const age = set.loadedAt > 0 ? `, fetched ${formatDuration((now - set.loadedAt) / 1000)} ago` : ''
      const left = Math.max(...sets.map((s) => s.cooldownLeft(now)))
      const next = left > 0 ? `; another fetch for an unknown kid is allowed in ${formatDuration(left / 1000)}` : ''
      const failed = sets.find((s) => s.error)?.error
      where = ` in the JWKS at ${sets.map((s) => s.host).join(', ')}${age}${next}${failed ? `; the last refresh failed: ${failed.message}` : ''}`
    }
    if (kid !== undefined) {
      // The JWKS may list the kid and have skipped it (RSA-1024, an alg not allowed, use: enc…).
      const label = `kid=${clean(kid)}: `
      const skipped = sets.flatMap((s) => s.skipped).find((entry) => entry.startsWith(label))
      if (skipped !== undefined) {
        return failure('token_key_unknown', `token kid ${show(kid)} is in the JWKS at ${sets.map((s) => s.host).join(', ')}, but that key cannot be used: it ${skipped.slice(label.length)}`, { reason: 'kid_unusable' })
      }
      const known = kids.length ? `known kids: ${showList(kids)}` : 'no configured key has a kid'
      return failure('token_key_unknown', `token kid ${show(kid)} matches no key for ${spec.name} (${known}${where}); was the token signed by another issuer, or has the key rotated?`, { reason: 'kid_unknown' })
    }
    return failure('token_key_unknown', `no key verifies ${spec.name}: it needs ${keyTypeNeeded(spec)}, and none is configured${where}`, { reason: 'no_key_for_alg' })
  }

  /**
   * Finds the key that verifies the signature. Synchronous for secrets and static public keys;
   * a promise only when a JWKS has to be consulted.
   */
  function checkSignature(token: string, jws: ParsedJws, spec: AlgorithmSpec, kid: string | undefined, trace: TraceSink): Failure | PreparedKey | Promise<Failure | PreparedKey> {
    if (jws.signature.length === 0) {
      return failure('token_signature_invalid', 'token has no signature (its third segment is empty): unsigned or stripped tokens are never accepted', { reason: 'signature_missing' })
    }
    if (spec.family === 'hmac') {
      const candidates = secretIndex.select(spec.name, kid)
      if (candidates.length === 0) return unknownKey(spec, kid)
      return tryKeys(candidates, spec, token, jws) ?? signatureInvalid(spec, candidates)
    }
    const statics = publicIndex.select(spec.name, kid)
    if (statics.length > 0) {
      const key = tryKeys(statics, spec, token, jws)
      if (key) return key
    }
    if (sets.length === 0 || !jwksAlgorithms.has(spec.name)) {
      return statics.length > 0 ? signatureInvalid(spec, statics) : unknownKey(spec, kid)
    }
    return jwksCandidates(spec.name, kid, trace).then((remote) => {
      if (!Array.isArray(remote)) return remote as Failure
      const key = remote.length > 0 ? tryKeys(remote, spec, token, jws) : undefined
      if (key) return key
      const tried = statics.length > 0 ? [...statics, ...remote] : remote
      return tried.length > 0 ? signatureInvalid(spec, tried) : unknownKey(spec, kid)
    })
  }

  function signatureInvalid(spec: AlgorithmSpec, tried: readonly Candidate[]): Failure {
    const which = tried.length === 1 ? `the 1 key tried (${fingerprints(tried)})` : `any of the ${tried.length} keys tried (${fingerprints(tried)})`
    return failure(
      'token_signature_invalid',
      `${spec.name} signature does not verify with ${which}; if another service signs these tokens, compare its key fingerprint ('gatehouse fingerprint' or auth.keys())`,
      { reason: 'signature_invalid', keys: tried.map((c) => c.key.fingerprint) },
    )
  }

  function revocationError(error: unknown, trace: TraceSink): Failure {
    if (error instanceof HookTimeout) return fail(trace, 'revocation', failure('auth_unavailable', `jwt.isRevoked ${error.message}, so revocation could not be checked`, { reason: 'revocation_timeout' }))
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    return fail(trace, 'revocation', failure('auth_unavailable', `jwt.isRevoked threw (${clean(what)}), so revocation could not be checked`, { reason: 'revocation_error' }))
  }

  function revocationAnswer(answer: unknown, claims: JWTPayload, trace: TraceSink): Failure | undefined {
    if (answer === false) {
      trace?.({ step: 'revocation', outcome: 'pass', detail: 'jwt.isRevoked returned false' })
      return undefined
    }
    if (answer === true) {
      const who = [claims.sub !== undefined ? `sub ${show(claims.sub)}` : '', claims.jti !== undefined ? `jti ${show(claims.jti)}` : ''].filter(Boolean).join(', ')
      return fail(trace, 'revocation', failure('token_revoked', `jwt.isRevoked returned true for this token${who ? ` (${who})` : ''}`, { reason: 'revoked' }))
    }
    // Fail closed: a hook that forgot to return is not a "no".
    return fail(trace, 'revocation', failure('auth_unavailable', `jwt.isRevoked returned ${show(answer)}; it must return true or false (or a promise of one)`, { reason: 'revocation_error' }))
  }

  /** Asks `isRevoked`, then yields `result` when the token is not revoked (synchronously when the hook is). */
  function afterRevocation(claims: JWTPayload, result: VerifiedToken, trace: TraceSink): TokenResult | Promise<TokenResult> {
    const hook = isRevoked as NonNullable<typeof isRevoked>
    let answer: boolean | Promise<boolean>
    try {
      answer = hook(claims)
    } catch (error) {
      return revocationError(error, trace)
    }
    if (typeof answer === 'boolean') return revocationAnswer(answer, claims, trace) ?? result
    return withTimeout(Promise.resolve(answer), hookTimeoutMs).then(
      (value) => revocationAnswer(value, claims, trace) ?? result,
      (error: unknown) => revocationError(error, trace),
    )
  }

  /** Claims, revocation and caching, once the signature has verified with `key`. */
  function accept(token: string, jws: ParsedJws, key: PreparedKey, now: number, trace: TraceSink): TokenResult | Promise<TokenResult> {
    trace?.({ step: 'signature', outcome: 'pass', detail: `${String(jws.header.alg)} signature verified with ${key.fingerprint} (${key.source})`, data: { fingerprint: key.fingerprint } })
    const { claims, header } = jws
    if (!jws.headerKnown) {
      // Only headers of correctly signed tokens are remembered, so nobody can fill the map.
      deepFreeze(header)
      if (knownHeaders.size >= KNOWN_HEADERS_MAX) knownHeaders.clear()
      knownHeaders.set(token.slice(0, jws.headerEnd), header)
    }
    const bad = checkClaims(claims, header, policy, now)
    if (bad) return fail(trace, 'claims', bad)
    trace?.({ step: 'claims', outcome: 'pass', detail: typeof claims.exp === 'number' ? `claims valid; expires in ${formatDuration(claims.exp - now / 1000)}` : 'claims valid (no exp)' })
    const result: VerifiedToken = { ok: true, claims, header, cached: false }
    let window: { from: number; until: number } | undefined
    if (cache !== undefined) {
      window = cacheWindow(claims, policy)
      if (!(window.from <= now && now < window.until)) window = undefined
    }
    if (window === undefined) return isRevoked === undefined ? result : afterRevocation(claims, result, trace)
    // Cached objects are shared by every request that presents this token: freeze them so that
    // no handler can change what the next request sees (claims.roles.push('admin')).
    deepFreeze(claims)
    const entry = { result: Object.freeze<VerifiedToken>({ ok: true, claims, header, cached: true }), from: window.from, until: window.until }
    const store = cache as VerifiedCache<VerifiedToken>
    if (isRevoked === undefined) {
      store.set(token, entry)
      return result
    }
    // Only what passed revocation is stored.
    const checked = afterRevocation(claims, result, trace)
    if (!(checked instanceof Promise)) {
      if (checked.ok) store.set(token, entry)
      return checked
    }
    return checked.then((r) => {
      if (r.ok) store.set(token, entry)
      return r
    })
  }

  /** The whole check; synchronous except for JWKS fetches and an async `isRevoked`. */
  function run(token: string, now: number, trace: TraceSink): TokenResult | Promise<TokenResult> {
    if (typeof token !== 'string') {
      return fail(trace, 'token', failure('credentials_malformed', `token must be a string (got ${token === null ? 'null' : typeof token})`, { reason: 'not_a_string' }))
    }
    if (cache !== undefined) {
      const hit = cache.get(token, now)
      if (hit !== undefined) {
        trace?.({ step: 'cache', outcome: 'pass', detail: 'verified earlier and served from the verified-token cache (before its exp)' })
        return isRevoked === undefined ? hit.result : afterRevocation(hit.result.claims, hit.result, trace)
      }
    }
    const jws = parseCompactJws(token, maxTokenBytes, knownHeaders)
    if (jws.ok === false) return fail(trace, 'token', jws)
    const header = jws.header
    const alg = header.alg
    if (typeof alg !== 'string' || !allowed.has(alg)) return fail(trace, 'algorithm', rejectAlgorithm(alg))
    const spec = ALGORITHMS.get(alg) as AlgorithmSpec
    if (header.crit !== undefined) {
      return fail(trace, 'algorithm', failure('token_claim_invalid', `token header has crit ${show(header.crit)}: gatehouse understands no JWS extension, and RFC 7515 §4.1.11 requires refusing a token that marks one critical`, { reason: 'crit', claim: 'crit' }))
    }
    const kid = header.kid
    if (kid !== undefined && typeof kid !== 'string') {
      return fail(trace, 'key', failure('credentials_malformed', `token header kid must be a string (found ${show(kid)})`, { reason: 'kid_type' }))
    }
    trace?.({ step: 'algorithm', outcome: 'pass', detail: `${alg} is allowed`, data: { alg, kid } })
    const signed = checkSignature(token, jws, spec, kid, trace)
    if (signed instanceof Promise) return signed.then((key) => ('ok' in key ? fail(trace, 'signature', key) : accept(token, jws, key, now, trace)))
    return 'ok' in signed ? fail(trace, 'signature', signed) : accept(token, jws, signed, now, trace)
  }

  function unexpected(error: unknown, trace: TraceSink): Failure {
    // No known input reaches this; it keeps verify()'s promise never to reject.
    const what = error instanceof Error ? error.name : typeof error
    return fail(trace, 'token', failure('auth_unavailable', `unexpected error while verifying the token (${clean(what)})`, { reason: 'internal_error' }))
  }

  function verifyNow(token: string, options?: VerifyOptions): TokenResult | Promise<TokenResult> {
    const trace = options?.trace
    const now = options?.now ?? Date.now()
    // A NaN clock would pass every time check: refuse the misuse instead of every expiry.
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError('verify: options.now must be a finite number of epoch milliseconds')
    let outcome: TokenResult | Promise<TokenResult>
    try {
      outcome = run(token, now, trace)
    } catch (error) {
      outcome = unexpected(error, trace)
    }
    return outcome instanceof Promise ? outcome.catch((error: unknown) => unexpected(error, trace)) : outcome
  }

  function verify(token: string, options?: VerifyOptions): Promise<TokenResult> {
    try {
      const outcome = verifyNow(token, options)
      return outcome instanceof Promise ? outcome : Promise.resolve(outcome)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  function info(key: PreparedKey): KeyInfo {
    const out: KeyInfo = { fingerprint: key.fingerprint, kind: key.kind, algorithms: [...key.algorithms], source: key.source }
    if (key.kid !== undefined) out.kid = key.kid
    return out
  }

  return {
    verify,
    verifyNow,
    keys: () => [...keys.secrets, ...keys.publicKeys, ...sets.flatMap((s) => s.index?.keys ?? [])].map(info),
    close() {
      closing ??= Promise.all(sets.map((s) => s.close())).then(() => cache?.clear())
      return closing
    },
  }
}

function resolveOrThrow(options: JwtOptions): ResolvedKeys {
  const { problems, keys } = resolveKeys(options as Record<string, unknown>)
  if (keys === undefined) {
    const prefix = (path: Array<string | number>) => path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : `${acc}.${k}`), 'jwt')
    throw new GatehouseConfigError(problems.map((p) => ({ path: prefix(p.path), message: p.message })), 'jwt')
  }
  return keys
}
