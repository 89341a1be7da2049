import { type DecodeArgs, EXIT, readTokenArg } from './args.js'
import { clean, columns, createScrubber, describeTime, type Io, paint, redact, showValue, TIME_CLAIMS } from './format.js'

/** A token's readable parts. Nothing here is verified: the signature has not been checked. */
export interface DecodedToken {
  ok: true
  header: Record<string, unknown>
  claims: Record<string, unknown>
  /** Length of the signature segment, which is never shown. */
  signatureLength: number
}

/** Why a string is not a decodable JWT. Never contains the token. */
export interface DecodeFailure {
  ok: false
  reason: string
}

const BASE64URL = /^[A-Za-z0-9_-]*$/

function segment(part: string, name: 'header' | 'payload'): Record<string, unknown> | DecodeFailure {
  if (part === '') return { ok: false, reason: `the ${name} segment is empty` }
  if (!BASE64URL.test(part)) {
    const why = part.includes('=') ? ' (padding "=" is not allowed in a JWT)' : part.includes('+') || part.includes('/') ? ' (it uses base64 "+" or "/" instead of base64url "-" and "_")' : ''
    return { ok: false, reason: `the ${name} segment is not base64url${why}` }
  }
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  } catch {
    return { ok: false, reason: `the ${name} segment does not decode to JSON` }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: `the ${name} segment is JSON but not an object (found ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value})` }
  }
  return value as Record<string, unknown>
}

/**
 * Splits a compact JWS into its header and claims without verifying anything, for display.
 * A leading `Bearer ` is tolerated, so a copied header value works too.
 */
export function decodeToken(input: string): DecodedToken | DecodeFailure {
  const token = stripBearer(input.trim())
  if (token === '') return { ok: false, reason: 'the token is empty' }
  const parts = token.split('.')
  if (parts.length === 5) return { ok: false, reason: 'it has 5 segments: it is a JWE (an encrypted token), whose claims cannot be read without the decryption key' }
  if (parts.length !== 3) return { ok: false, reason: `it has ${parts.length} segment${parts.length === 1 ? '' : 's'}; a JWT has 3 (header.payload.signature)` }
  const header = segment(parts[0] as string, 'header')
  if ('ok' in header && header.ok === false) return header as DecodeFailure
  const claims = segment(parts[1] as string, 'payload')
  if ('ok' in claims && claims.ok === false) return claims as DecodeFailure
  const signature = parts[2] as string
  if (!BASE64URL.test(signature)) return { ok: false, reason: 'the signature segment is not base64url' }
  return { ok: true, header: header as Record<string, unknown>, claims: claims as Record<string, unknown>, signatureLength: signature.length }
}

/** The token without a `Bearer ` prefix (any case), as people paste it from a header. */
export function stripBearer(value: string): string {
  return /^bearer\s+/i.test(value) ? value.replace(/^bearer\s+/i, '') : value
}

/** The secrets a token string carries, for the output scrubber: the token and its signature segment. */
export function tokenSecrets(token: string): string[] {
  const bare = stripBearer(token.trim())
  const signature = bare.split('.')[2]
  return signature ? [bare, signature] : [bare]
}

/** Header and claims as aligned lines, NumericDate claims shown as times relative to now. */
export function tokenLines(decoded: DecodedToken, nowMs: number): string[] {
  const header = Object.entries(decoded.header).map(([k, v]) => [clean(k), showValue(v)] as const)
  const claims = Object.entries(decoded.claims).map(([k, v]) => [clean(k), TIME_CLAIMS.has(k) ? describeTime(k, v, nowMs) : showValue(v)] as const)
  const signature = decoded.signatureLength === 0 ? 'none (empty segment: an unsecured token)' : `${decoded.signatureLength} chars (never shown)`
  return [
    '  header',
    ...columns(header, '    '),
    '  claims',
    ...(claims.length ? columns(claims, '    ') : ['    (none)']),
    `  signature  ${signature}`,
  ]
}

export const UNVERIFIED = 'UNVERIFIED: decoded without checking the signature; anyone can forge these values'

/** `gatehouse decode <token>`: header and claims, times humanised, clearly unverified. */
export async function runDecode(args: DecodeArgs, io: Io): Promise<number> {
  const token = await readTokenArg(args.token, 'decode')
  const scrub = createScrubber(tokenSecrets(token))
  const decoded = decodeToken(token)
  if (!decoded.ok) {
    io.err(scrub(`gatehouse decode: not a JWT: ${decoded.reason} (token ${redact(stripBearer(token.trim()))})`))
    return EXIT.usage
  }
  if (args.json) {
    io.out(scrub(JSON.stringify({ unverified: true, header: decoded.header, claims: decoded.claims }, null, 2)))
    return EXIT.allow
  }
  const p = paint(io.color)
  io.out(p.yellow(p.bold(UNVERIFIED)))
  io.out(`  token  ${redact(stripBearer(token.trim()))}`)
  for (const line of tokenLines(decoded, io.now())) io.out(scrub(line))
  return EXIT.allow
}
