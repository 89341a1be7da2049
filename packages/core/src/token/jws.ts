import { isUtf8 } from 'node:buffer'
import { createHmac, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { failure, type Failure } from '../deny-codes.js'
import type { AlgorithmSpec, VerifyKeyInput } from './algorithms.js'

/** A compact JWS split and decoded, before any signature or claim is trusted. */
export interface ParsedJws {
  ok: true
  header: Record<string, unknown>
  claims: Record<string, unknown>
  /** Index of the first `.`: the header segment is `token.slice(0, headerEnd)`. */
  headerEnd: number
  /** `true` when `header` came from the `knownHeaders` map (it is frozen and shared). */
  headerKnown: boolean
  /** Index of the second `.`: the signing input is `token.slice(0, signingInputEnd)`. */
  signingInputEnd: number
  signature: Buffer
}

// base64url alphabet (RFC 4648 §5) → 6-bit value; -1 for anything else. A lookup table and a
// charCode loop: linear, allocation-free, and no regular expression to backtrack on hostile input.
const ALPHABET = new Int8Array(128).fill(-1)
for (let i = 0; i < 64; i++) ALPHABET['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.charCodeAt(i)] = i

type SegmentName = 'header' | 'payload' | 'signature'

function malformed(reason: string, hint: string): Failure {
  return failure('credentials_malformed', hint, { reason })
}

/** What a stray character is, and (after the position) what probably put it there. */
function describeChar(code: number): [what: string, why: string] {
  if (code === 0x3d) return ["'=' padding", ' (JWS uses unpadded base64url, RFC 7515 §2)']
  if (code === 0x20 || (code >= 0x09 && code <= 0x0d)) return ['whitespace', ' (the token was probably wrapped, or copied with a line break or a space)']
  if (code === 0x2b || code === 0x2f) return [`'${String.fromCharCode(code)}'`, " (base64, not base64url: the issuer must use the URL-safe alphabet '-' and '_')"]
  return [`the character U+${code.toString(16).toUpperCase().padStart(4, '0')}`, ', outside the base64url alphabet']
}

function charReason(code: number): string {
  if (code === 0x3d) return 'base64url_padding'
  if (code === 0x20 || (code >= 0x09 && code <= 0x0d)) return 'base64url_whitespace'
  return 'base64url_alphabet'
}

/**
 * Names the fault of `token[start, end)` if it is not canonical unpadded base64url: a character
 * outside the alphabet, a length that cannot encode whole bytes, or non-zero padding bits in the
 * last character. A linear charCode loop with a lookup table, on the failure path only.
 */
function checkSegment(token: string, start: number, end: number, name: SegmentName): Failure | undefined {
  for (let i = start; i < end; i++) {
    const code = token.charCodeAt(i)
    if (code > 127 || ALPHABET[code]! < 0) {
      const [what, why] = describeChar(code)
      return malformed(charReason(code), `token ${name} is not base64url: ${what} at position ${i}${why}`)
    }
  }
  const rest = (end - start) % 4
  if (rest === 1) return malformed('base64url_length', `token ${name} is not base64url: its length (${end - start}) cannot encode whole bytes; the token was probably truncated`)
  if (rest !== 0) {
    const last = ALPHABET[token.charCodeAt(end - 1)]!
    if ((rest === 2 && (last & 0x0f) !== 0) || (rest === 3 && (last & 0x03) !== 0)) {
      return malformed('base64url_noncanonical', `token ${name} is not canonical base64url: its last character has non-zero padding bits (altered after signing?)`)
    }
  }
  return undefined
}

const INVALID_UTF8: unique symbol = Symbol('invalid utf-8')
const INVALID_JSON: unique symbol = Symbol('invalid json')
const NOT_BASE64URL: unique symbol = Symbol('not base64url')

/** A decoded segment must have exactly the bytes its length encodes (see {@link parseCompactJws}). */
const decodedLength = (chars: number): number => (chars * 3) >> 2

/** `true` when the last character of a segment carries only zero padding bits. */
function canonicalEnd(token: string, start: number, end: number): boolean {
  const rest = (end - start) & 3
  if (rest === 0) return true
  if (rest === 1) return false
  const last = ALPHABET[token.charCodeAt(end - 1)] ?? -1
  return last >= 0 && (last & (rest === 2 ? 0x0f : 0x03)) === 0
}

/** Decodes one segment to a JSON value, or a sentinel (JSON never yields a symbol). */
function decodeJson(token: string, start: number, end: number): unknown {
  const bytes = Buffer.from(start === 0 ? token.slice(0, end) : token.slice(start, end), 'base64url')
  if (bytes.length !== decodedLength(end - start)) return NOT_BASE64URL
  // JWS text is UTF-8 (RFC 7515 §5.2); jose decodes it strictly as well.
  if (!isUtf8(bytes)) return INVALID_UTF8
  try {
    return JSON.parse(bytes.toString('utf8'))
  } catch {
    return INVALID_JSON
  }
}

function notAnObject(value: unknown, name: 'header' | 'payload', empty: boolean): Failure {
  if (empty) return malformed('empty_segment', `token ${name} segment is empty`)
  if (value === INVALID_UTF8) return malformed('invalid_utf8', `token ${name} is not valid UTF-8`)
  if (value === INVALID_JSON) return malformed('invalid_json', `token ${name} is not JSON`)
  const found = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value
  return malformed('not_an_object', `token ${name} is JSON but not an object (found ${found})`)
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Names the first base64url fault of a token that failed the fast checks (the slow, exact path). */
function explain(token: string, d1: number, d2: number): Failure {
  return (
    checkSegment(token, 0, d1, 'header') ??
    checkSegment(token, d1 + 1, d2, 'payload') ??
    checkSegment(token, d2 + 1, token.length, 'signature') ??
    malformed('base64url_alphabet', 'token is not base64url')
  )
}

/**
 * Splits and decodes a compact JWS (RFC 7515 §7.1) without trusting any of it. Every failure is
 * `credentials_malformed` with a `detail.reason`; nothing here throws on client input.
 * `knownHeaders` maps header segments already decoded (from verified tokens) to their objects.
 *
 * Each segment must be canonical unpadded base64url. A charCode loop over a typical 400-byte
 * token costs ~0.6 µs, a fifth of a whole HS256 verification, so the hot path proves it with
 * native operations instead, and the loop only runs to name the fault of a token already refused:
 * - the token is ASCII (`Buffer.byteLength` equals its length): Node's decoder would otherwise
 *   read U+0144 as `D`, its low byte;
 * - it has no `+` or `/` (Node's base64url decoder also takes the base64 alphabet);
 * - no segment length leaves a remainder of 1 mod 4, and each last character has zero padding
 *   bits, so one token has exactly one spelling (jose and Node accept the variants);
 * - each segment decodes to exactly `⌊3·length/4⌋` bytes: Node skips any other character
 *   (whitespace, `=`, NUL, `.`…), which would shorten the output. The unit tests try every
 *   ASCII character at every position to hold the runtime to this.
 */
export function parseCompactJws(token: string, maxBytes: number, knownHeaders?: ReadonlyMap<string, Record<string, unknown>>): ParsedJws | Failure {
  const length = token.length
  if (length === 0) return malformed('empty', 'token is empty')
  if (length > maxBytes) return malformed('too_large', `token is ${length} characters, over jwt.maxTokenBytes (${maxBytes}); raise it if your identity provider issues large tokens`)
  const d1 = token.indexOf('.')
  const d2 = d1 === -1 ? -1 : token.indexOf('.', d1 + 1)
  if (d2 === -1 || token.indexOf('.', d2 + 1) !== -1) {
    let segments = 1
    for (let i = token.indexOf('.'); i !== -1; i = token.indexOf('.', i + 1)) segments++
    const what = segments === 5 ? ' (5 segments is an encrypted JWE, which gatehouse does not decrypt)' : ''
    return malformed('segment_count', `token is not a compact JWS: it has ${segments} segment${segments === 1 ? '' : 's'} separated by '.', a JWS has 3${what}`)
  }
  if (
    Buffer.byteLength(token, 'utf8') !== length ||
    token.indexOf('+') !== -1 ||
    token.indexOf('/') !== -1 ||
    !canonicalEnd(token, 0, d1) ||
    !canonicalEnd(token, d1 + 1, d2) ||
    !canonicalEnd(token, d2 + 1, length)
  ) {
    return explain(token, d1, d2)
  }
  // An issuer puts the same header on every token it signs with one key: the verifier passes the
  // headers of tokens it has verified, and an identical segment needs no second decode.
  const known = knownHeaders === undefined || knownHeaders.size === 0 ? undefined : knownHeaders.get(token.slice(0, d1))
  const header = known ?? decodeJson(token, 0, d1)
  if (header === NOT_BASE64URL) return explain(token, d1, d2)
  if (!isObject(header)) return notAnObject(header, 'header', d1 === 0)
  const claims = decodeJson(token, d1 + 1, d2)
  if (claims === NOT_BASE64URL) return explain(token, d1, d2)
  if (!isObject(claims)) return notAnObject(claims, 'payload', d2 === d1 + 1)
  const signature = Buffer.from(token.slice(d2 + 1), 'base64url')
  if (signature.length !== decodedLength(length - d2 - 1)) return explain(token, d1, d2)
  return { ok: true, header, claims, headerEnd: d1, headerKnown: known !== undefined, signingInputEnd: d2, signature }
}

/** HMAC check in constant time over the signature bytes (a length mismatch reveals only the length). */
export function verifyHmac(alg: AlgorithmSpec, key: KeyObject, token: string, signingInputEnd: number, signature: Buffer): boolean {
  if (signature.length !== alg.hashBytes) return false
  // The token is ASCII (checked by the parser), so its UTF-8 encoding is its bytes.
  const expected = createHmac(alg.hash as string, key).update(token.slice(0, signingInputEnd)).digest()
  return timingSafeEqual(expected, signature)
}

/** RSA, RSA-PSS, ECDSA and EdDSA checks with node:crypto; a key or signature node rejects is a failed check. */
export function verifyAsymmetric(alg: AlgorithmSpec, key: VerifyKeyInput, data: Buffer, signature: Buffer): boolean {
  if (alg.signatureBytes !== undefined && signature.length !== alg.signatureBytes) return false
  try {
    return cryptoVerify(alg.hash, data, key, signature)
  } catch {
    return false
  }
}
