import type { JsonWebKey, KeyObject, webcrypto } from 'node:crypto'
import { z } from 'zod'
import type { JWTPayload } from '../decision.js'
import { type Duration, durationProblem, toSeconds } from '../duration.js'
import { resolveKeys, type ResolvedKeys } from './keys.js'

/**
 * Where a JWT may be read from, in the order listed (the `Authorization` header first, then the
 * session cookie, then the other sources):
 * - `'header'`: `Authorization: Bearer <token>`;
 * - `'protocol'`: the WebSocket subprotocol `gatehouse.bearer.<token>` (on upgrades);
 * - `{ cookie: name }`: a cookie (unsafe methods then pass the CSRF rule);
 * - `{ query: name }`: a query parameter, read on every request once listed; meant for
 *   WebSocket upgrades and links where a browser cannot set headers (a token in a URL ends up in
 *   access logs and browser history: prefer the header or the subprotocol).
 */
export type CredentialSource = 'header' | 'protocol' | { cookie: string } | { query: string }

/** A public key: PEM text (SPKI, PKCS#1 or an X.509 certificate), a JWK object, a `KeyObject` or a `CryptoKey`. */
export type KeyLike = string | JsonWebKey | KeyObject | webcrypto.CryptoKey

/** Options of {@link createTokenVerifier} (the `jwt` option of `createAuth`). */
export interface JwtOptions {
  /**
   * Shared HMAC secret(s) for HS256/HS384/HS512. A string is used as its UTF-8 bytes (not
   * base64-decoded). It must be at least as long as the digest of every HS algorithm allowed
   * (32 bytes for HS256, 48 for HS384, 64 for HS512). An array means rotation: a token verifies
   * with any of them. A PEM or JWK given here is a configuration error.
   */
  secret?: string | Uint8Array | Array<string | Uint8Array>
  /**
   * Public key(s) for RS*, PS*, ES* and EdDSA: PEM (`PUBLIC KEY`, `RSA PUBLIC KEY`, `CERTIFICATE`),
   * a JWK object (its `kid` and `alg` are honoured), a `KeyObject` or a `CryptoKey`. An array
   * means rotation. RSA keys need at least 2048 bits; private keys are refused.
   */
  publicKey?: KeyLike | KeyLike[]
  /**
   * The identity provider's JWK Set URL(s) (https, or http on localhost). Fetched on first use,
   * refetched for an unknown `kid` at most once per `jwks.cooldown`; the last good keys keep
   * working while the provider is down.
   */
  jwksUrl?: string | string[]
  /** Remote JWK Set timing (only with `jwksUrl`). */
  jwks?: {
    /** Minimum time between two fetches caused by an unknown `kid`. Default `'30s'`. */
    cooldown?: Duration
    /** A fetch taking longer is aborted. Default `'5s'`. */
    timeout?: Duration
    /** Keys older than this are refreshed in the background, still serving meanwhile. Default `'10m'`. */
    cacheMaxAge?: Duration
  }
  /**
   * The algorithms accepted (exact, case-sensitive names). Default: what the configured keys
   * allow (`HS256` for secrets, the RSA/EC/Ed25519 algorithms fitting each public key, every
   * asymmetric algorithm for a JWKS). `none` is never accepted.
   */
  algorithms?: string[]
  /** The expected `iss`: the token's `iss` must be exactly one of these. */
  issuer?: string | string[]
  /** The expected `aud`: the token's `aud` (string or array) must contain at least one of these. */
  audience?: string | string[]
  /** Leeway for `exp`, `nbf`, `iat` and `maxTokenAge` against clock skew. Default `'5s'`. */
  clockTolerance?: Duration
  /** Refuse tokens issued (`iat`) longer ago than this, whatever their `exp`. Requires `iat`. */
  maxTokenAge?: Duration
  /** Claims that must be present (and not `null`). */
  requiredClaims?: string[]
  /** The expected header `typ` (e.g. `'at+jwt'`), compared as a media type (case-insensitive, `application/` optional). */
  typ?: string
  /** Refuse tokens without `exp`. Default `true`. */
  requireExp?: boolean
  /** Tokens longer than this are refused before any parsing. Default `8192`. */
  maxTokenBytes?: number
  /** Where to read the token from, in order. Default `['header']`. See {@link CredentialSource}. */
  from?: CredentialSource[]
  /** Claim names for the principal: `id` (default `sub`), `roles` (default `roles`), `scopes` (default `scope` string or `scp` list). */
  claims?: { id?: string; roles?: string; scopes?: string }
  /**
   * The verified-token cache: `{ max }` entries (LRU), or `false` to verify every time. Default
   * `{ max: 10_000 }`. An entry is never served outside its token's `nbf`…`exp` window.
   */
  cache?: { max: number } | false
  /** Called with the claims of every token that passes (cached or not): `true` → 401 `token_revoked`; a throw → 503. */
  isRevoked?: (claims: JWTPayload) => boolean | Promise<boolean>
}

type Check = (value: unknown) => string | undefined

/**
 * A field validated by a function that returns the problem, so every message can say what to
 * change. (A failing `z.custom(check)` aborts the object, which would skip the key rules below.)
 */
function field<T>(check: Check) {
  return z.custom<T>().superRefine((value, ctx) => {
    const message = check(value)
    if (message !== undefined) ctx.addIssue({ code: 'custom', message })
  })
}

const durationField = field<Duration>((v) => durationProblem(v))

const nonEmptyString = (what: string): Check => (v) => (typeof v === 'string' && v.length > 0 ? undefined : `must be a non-empty string (${what})`)

function stringOrList(what: string): Check {
  return (v) => {
    if (typeof v === 'string') return v.length > 0 ? undefined : `must not be empty: give ${what}, or remove the option`
    if (Array.isArray(v)) {
      if (v.length === 0) return `is an empty list: give ${what}, or remove the option`
      const bad = v.findIndex((s) => typeof s !== 'string' || s.length === 0)
      return bad === -1 ? undefined : `[${bad}] must be a non-empty string (${what})`
    }
    return `must be a string or a list of strings (${what})`
  }
}

// RFC 6265 cookie-name: an RFC 7230 token (visible ASCII except separators).
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

function sourcesProblems(value: unknown, ctx: z.RefinementCtx): void {
  if (!Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: "must be a list of sources, e.g. ['header', { cookie: 'access_token' }]" })
    return
  }
  if (value.length === 0) ctx.addIssue({ code: 'custom', message: "is empty: list at least one source, e.g. ['header']" })
  const seen = new Set<string>()
  value.forEach((source: unknown, i) => {
    let id: string | undefined
    if (source === 'header' || source === 'protocol') id = source
    else if (typeof source === 'object' && source !== null && !Array.isArray(source)) {
      const keys = Object.keys(source)
      const o = source as Record<string, unknown>
      if (keys.length !== 1 || (keys[0] !== 'cookie' && keys[0] !== 'query')) {
        ctx.addIssue({ code: 'custom', path: [i], message: "must be 'header', 'protocol', { cookie: name } or { query: name }" })
        return
      }
      const kind = keys[0] as 'cookie' | 'query'
      const name = o[kind]
      if (typeof name !== 'string' || name.length === 0) {
        ctx.addIssue({ code: 'custom', path: [i, kind], message: `must be the ${kind === 'cookie' ? 'cookie' : 'query parameter'} name, a non-empty string` })
        return
      }
      if (kind === 'cookie' && !COOKIE_NAME.test(name)) {
        ctx.addIssue({ code: 'custom', path: [i, kind], message: 'is not a valid cookie name: use letters, digits and !#$%&\'*+-.^_`|~ only (no spaces, quotes, separators or non-ASCII)' })
        return
      }
      id = `${kind}:${name}`
    } else {
      ctx.addIssue({ code: 'custom', path: [i], message: "must be 'header', 'protocol', { cookie: name } or { query: name }" })
      return
    }
    if (seen.has(id)) ctx.addIssue({ code: 'custom', path: [i], message: 'is listed twice; remove the duplicate' })
    seen.add(id)
  })
}

/** Key material checked by the schema, kept for the verifier built from the same parse. */
const resolvedByOptions = new WeakMap<object, ResolvedKeys>()

/** The keys the schema resolved while parsing `parsed` (so the verifier imports each key once). */
export function resolvedKeysOf(parsed: object): ResolvedKeys | undefined {
  return resolvedByOptions.get(parsed)
}

/**
 * The zod schema of {@link JwtOptions}. Unknown options are reported, and the key rules that
 * cross options (secret length against the HS algorithms, algorithms against the key types, a
 * PEM given as a secret, RSA size, private keys) run even when other fields fail, so one error
 * lists every problem, with paths such as `jwt.secret[1]` when composed under `jwt`.
 */
export const jwtOptionsSchema = z
  .object({
    secret: z.custom<JwtOptions['secret']>().optional(),
    publicKey: z.custom<JwtOptions['publicKey']>().optional(),
    jwksUrl: z.custom<JwtOptions['jwksUrl']>().optional(),
    jwks: z
      .object({
        cooldown: durationField.optional(),
        timeout: field<Duration>((v) => durationProblem(v) ?? (toSeconds(v as Duration) === 0 ? 'must be more than 0, or every fetch would be aborted at once' : undefined)).optional(),
        cacheMaxAge: durationField.optional(),
      })
      .strict()
      .optional(),
    algorithms: field<string[]>((v) =>
      Array.isArray(v) && v.every((a) => typeof a === 'string') ? undefined : "must be a list of algorithm names, e.g. ['RS256']",
    ).optional(),
    issuer: field<string | string[]>(stringOrList("the issuer URL your tokens' iss claim carries")).optional(),
    audience: field<string | string[]>(stringOrList('the audience this service accepts')).optional(),
    clockTolerance: durationField.optional(),
    maxTokenAge: durationField.optional(),
    requiredClaims: field<string[]>((v) =>
      Array.isArray(v) && v.every((c) => typeof c === 'string' && c.length > 0) ? undefined : "must be a list of claim names, e.g. ['sub', 'tenant']",
    ).optional(),
    typ: field<string>(nonEmptyString("the expected header typ, e.g. 'at+jwt'")).optional(),
    requireExp: field<boolean>((v) => (typeof v === 'boolean' ? undefined : 'must be true or false')).optional(),
    maxTokenBytes: field<number>((v) =>
      Number.isSafeInteger(v) && (v as number) > 0 ? undefined : 'must be a positive whole number of bytes (default 8192)',
    ).optional(),
    from: z.custom<CredentialSource[]>().superRefine(sourcesProblems).optional(),
    claims: z
      .object({
        id: field<string>(nonEmptyString('the claim holding the principal id')).optional(),
        roles: field<string>(nonEmptyString('the claim holding the roles')).optional(),
        scopes: field<string>(nonEmptyString('the claim holding the scopes')).optional(),
      })
      .strict()
      .optional(),
    cache: field<{ max: number } | false>((v) => {
      if (v === false) return undefined
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'must be { max: entries } or false'
      const keys = Object.keys(v)
      if (keys.some((k) => k !== 'max')) return `unknown option ${keys.filter((k) => k !== 'max').map((k) => `'${k}'`).join(', ')}: the cache takes only { max }`
      const max = (v as { max?: unknown }).max
      return Number.isSafeInteger(max) && (max as number) > 0 ? undefined : 'max must be a positive whole number of entries (or set cache: false to turn the cache off)'
    }).optional(),
    isRevoked: field<NonNullable<JwtOptions['isRevoked']>>((v) =>
      typeof v === 'function' ? undefined : 'must be a function (claims) => boolean | Promise<boolean>',
    ).optional(),
  })
  .strict()
  .superRefine(
    (value, ctx) => {
      if (typeof value !== 'object' || value === null) return
      const { problems, keys } = resolveKeys(value as Record<string, unknown>)
      for (const problem of problems) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message })
      if (keys !== undefined) resolvedByOptions.set(value, keys)
    },
    // Run even when other fields failed, so one error lists every problem.
    { when: () => true },
  ) as unknown as z.ZodType<JwtOptions, JwtOptions>
