/**
 * Every reason gatehouse can refuse a request, as a stable machine-readable code.
 *
 * Codes are public API: they appear in response bodies (`{ "error": code }`), in logs and in
 * `onDecision` events, and docs/errors.md explains each one. New codes may be added in a minor
 * release; existing ones never change meaning.
 */
export type DenyCode =
  | 'credentials_missing'
  | 'credentials_malformed'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_signature_invalid'
  | 'token_algorithm_rejected'
  | 'token_issuer_mismatch'
  | 'token_audience_mismatch'
  | 'token_claim_invalid'
  | 'token_key_unknown'
  | 'token_revoked'
  | 'session_invalid'
  | 'session_expired'
  | 'principal_rejected'
  | 'insufficient_role'
  | 'insufficient_scope'
  | 'forbidden'
  | 'origin_rejected'
  | 'csrf_rejected'
  | 'auth_unavailable'

/** The HTTP status each deny code answers with: the single source of truth for status mapping. */
export const DENY_STATUS = {
  credentials_missing: 401,
  credentials_malformed: 401,
  token_expired: 401,
  token_not_yet_valid: 401,
  token_signature_invalid: 401,
  token_algorithm_rejected: 401,
  token_issuer_mismatch: 401,
  token_audience_mismatch: 401,
  token_claim_invalid: 401,
  token_key_unknown: 401,
  token_revoked: 401,
  session_invalid: 401,
  session_expired: 401,
  principal_rejected: 401,
  insufficient_role: 403,
  insufficient_scope: 403,
  forbidden: 403,
  origin_rejected: 403,
  csrf_rejected: 403,
  auth_unavailable: 503,
} as const satisfies Record<DenyCode, 401 | 403 | 503>

/** Every deny code, in catalogue order. */
export const DENY_CODES = Object.keys(DENY_STATUS) as DenyCode[]

/**
 * Client-safe messages: they say what kind of failure happened, never why in detail (that is
 * the hint's job, which stays server-side unless `exposeHints` is on).
 */
export const DENY_MESSAGES: Record<DenyCode, string> = {
  credentials_missing: 'Authentication required.',
  credentials_malformed: 'The credentials could not be read.',
  token_expired: 'The access token has expired.',
  token_not_yet_valid: 'The access token is not valid yet.',
  token_signature_invalid: 'The access token signature is invalid.',
  token_algorithm_rejected: 'The access token algorithm is not accepted.',
  token_issuer_mismatch: 'The access token was issued by an unexpected issuer.',
  token_audience_mismatch: 'The access token is not meant for this service.',
  token_claim_invalid: 'The access token has an invalid claim.',
  token_key_unknown: 'The access token was signed with an unknown key.',
  token_revoked: 'The access token has been revoked.',
  session_invalid: 'The session is not valid.',
  session_expired: 'The session has expired.',
  principal_rejected: 'The authenticated user is not recognised.',
  insufficient_role: 'You do not have the role this resource requires.',
  insufficient_scope: 'The access token lacks a scope this resource requires.',
  forbidden: 'You are not allowed to access this resource.',
  origin_rejected: 'The request origin is not allowed.',
  csrf_rejected: 'Cross-site request refused.',
  auth_unavailable: 'Authentication is temporarily unavailable.',
}

/**
 * The outcome of one check inside the pipeline when it refuses: a code, an operator-facing hint
 * naming the cause, and optional machine-readable detail (`claim`, `reason`, …). Hints and
 * detail never contain a token, a cookie value or a secret.
 */
export interface Failure {
  ok: false
  code: DenyCode
  hint: string
  detail?: Record<string, unknown>
}

/** Shorthand for building a {@link Failure}. */
export function failure(code: DenyCode, hint: string, detail?: Record<string, unknown>): Failure {
  return detail === undefined ? { ok: false, code, hint } : { ok: false, code, hint, detail }
}
