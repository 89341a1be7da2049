import { failure, type Failure } from '../deny-codes.js'
import { formatDuration, isoTime, show, showList } from '../hint-format.js'

/** The claim rules of one verifier, normalised once at creation. Times are in seconds. */
export interface ClaimPolicy {
  readonly tolerance: number
  readonly requireExp: boolean
  readonly issuers: readonly string[] | undefined
  readonly audiences: readonly string[] | undefined
  readonly maxTokenAge: number | undefined
  readonly requiredClaims: readonly string[]
  /** The configured `typ` as given (for hints) and normalised (for comparison). */
  readonly typ: { readonly given: string; readonly normalized: string } | undefined
}

/**
 * `typ` compares as a media type: case-insensitive, with the `application/` prefix optional
 * (RFC 7515 §4.1.9), the same rule jose applies.
 */
export function normalizeTyp(value: string): string {
  const lower = value.toLowerCase()
  return value.includes('/') ? lower : `application/${lower}`
}

const toleranceText = (seconds: number): string => `clock tolerance ${formatDuration(seconds)}`

const isNumericDate = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)

function invalid(claim: string, reason: string, hint: string): Failure {
  return failure('token_claim_invalid', hint, { reason, claim })
}

function badDate(claim: string, value: unknown): Failure {
  const found = typeof value === 'number' ? String(value) : typeof value === 'string' ? `the string ${show(value)}` : show(value)
  return invalid(claim, 'claim_type', `token ${claim} must be a finite number of seconds since the epoch (NumericDate, RFC 7519 §2); found ${found}`)
}

function checkIssuer(iss: unknown, expected: readonly string[]): Failure | undefined {
  if (typeof iss === 'string' && expected.includes(iss)) return undefined
  const want = expected.length === 1 ? `the expected ${show(expected[0])}` : `one of ${showList(expected)}`
  let hint: string
  if (iss === undefined) hint = `token has no iss claim; expected ${want}`
  else if (Array.isArray(iss)) hint = `token iss is an array ${show(iss)}; it must be exactly one string, ${want}`
  else hint = `token iss ${show(iss)} is not ${want}`
  return failure('token_issuer_mismatch', `${hint} (jwt.issuer)`, { reason: 'issuer', claim: 'iss' })
}

function checkAudience(aud: unknown, expected: readonly string[]): Failure | undefined {
  if (typeof aud === 'string') {
    if (expected.includes(aud)) return undefined
  } else if (Array.isArray(aud)) {
    if (aud.some((v) => typeof v !== 'string')) return invalid('aud', 'claim_type', `token aud must be a string or an array of strings; found ${show(aud)}`)
    if (aud.some((v: string) => expected.includes(v))) return undefined
  } else if (aud !== undefined) {
    return invalid('aud', 'claim_type', `token aud must be a string or an array of strings; found ${show(aud)}`)
  }
  const want = expected.length === 1 ? show(expected[0]) : `any of ${showList(expected)}`
  const hint = aud === undefined ? `token has no aud claim; expected ${want}` : `token aud ${show(Array.isArray(aud) ? aud : [aud])} does not include ${want}`
  return failure('token_audience_mismatch', `${hint} (jwt.audience)`, { reason: 'audience', claim: 'aud' })
}

/**
 * Applies the claim rules to a token whose signature has been verified. Times compare in whole
 * seconds (`now` is floored, as RFC 7519 NumericDates and jose do), with `tolerance` applied to
 * `exp`, `nbf`, `iat` and `maxTokenAge`. Returns the first failure, or `undefined` when the
 * claims pass.
 */
export function checkClaims(claims: Record<string, unknown>, header: Record<string, unknown>, policy: ClaimPolicy, nowMs: number): Failure | undefined {
  const typ = policy.typ
  if (typ !== undefined) {
    const given = header.typ
    if (typeof given !== 'string' || normalizeTyp(given) !== typ.normalized) {
      return invalid('typ', 'typ', `token header typ ${show(given)} is not the expected ${show(typ.given)} (jwt.typ)`)
    }
  }
  const { exp, nbf, iat } = claims
  if (exp !== undefined && !isNumericDate(exp)) return badDate('exp', exp)
  if (nbf !== undefined && !isNumericDate(nbf)) return badDate('nbf', nbf)
  if (iat !== undefined && !isNumericDate(iat)) return badDate('iat', iat)

  const now = Math.floor(nowMs / 1000)
  const tol = policy.tolerance
  if (exp === undefined) {
    if (policy.requireExp) return invalid('exp', 'claim_missing', 'token has no exp claim, so it would never expire; have the issuer set one, or set jwt.requireExp: false')
  } else if (exp <= now - tol) {
    return failure('token_expired', `token expired ${formatDuration(nowMs / 1000 - exp)} ago (exp ${isoTime(exp)}, ${toleranceText(tol)})`, { reason: 'expired', claim: 'exp' })
  }
  if (nbf !== undefined && nbf > now + tol) {
    return failure('token_not_yet_valid', `token is not valid for another ${formatDuration(nbf - nowMs / 1000)} (nbf ${isoTime(nbf)}, ${toleranceText(tol)}); is this server's clock behind the issuer's?`, { reason: 'not_yet_valid', claim: 'nbf' })
  }
  if (iat !== undefined && iat > now + tol) {
    return failure('token_not_yet_valid', `token was issued ${formatDuration(iat - nowMs / 1000)} in the future (iat ${isoTime(iat)}, ${toleranceText(tol)}); the issuer's clock is ahead of this server's`, { reason: 'issued_in_future', claim: 'iat' })
  }
  const maxAge = policy.maxTokenAge
  if (maxAge !== undefined) {
    if (iat === undefined) return invalid('iat', 'claim_missing', 'token has no iat claim, which jwt.maxTokenAge needs to tell the token\'s age')
    if (now - iat - tol > maxAge) {
      return failure('token_expired', `token was issued ${formatDuration(nowMs / 1000 - iat)} ago (iat ${isoTime(iat)}), more than jwt.maxTokenAge ${formatDuration(maxAge)} (${toleranceText(tol)})`, { reason: 'too_old', claim: 'iat' })
    }
  }
  if (policy.issuers !== undefined) {
    const bad = checkIssuer(claims.iss, policy.issuers)
    if (bad) return bad
  }
  if (policy.audiences !== undefined) {
    const bad = checkAudience(claims.aud, policy.audiences)
    if (bad) return bad
  }
  for (const name of policy.requiredClaims) {
    // Own properties only: `constructor` or `toString` must not count as present.
    if (!Object.hasOwn(claims, name) || claims[name] === null || claims[name] === undefined) {
      return invalid(name, 'claim_missing', `token has no ${show(name)} claim, which jwt.requiredClaims lists`)
    }
  }
  return undefined
}

/**
 * The epoch-millisecond window in which a verified token may be served from the cache: not
 * before `nbf` or `iat`, and not from the moment `exp` or `iat + maxTokenAge` is reached. The
 * window ignores the clock tolerance, so the cache never accepts what a fresh check would not.
 */
export function cacheWindow(claims: Record<string, unknown>, policy: ClaimPolicy): { from: number; until: number } {
  const { exp, nbf, iat } = claims as { exp?: number; nbf?: number; iat?: number }
  let from = -Infinity
  if (nbf !== undefined) from = nbf * 1000
  if (iat !== undefined && iat * 1000 > from) from = iat * 1000
  let until = exp === undefined ? Infinity : exp * 1000
  if (policy.maxTokenAge !== undefined && iat !== undefined) until = Math.min(until, (iat + policy.maxTokenAge) * 1000)
  return { from, until }
}
