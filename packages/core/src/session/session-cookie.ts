import { createHmac, createSecretKey, hash, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto'
import { serialize } from 'cookie'

/** Longer cookie values are refused before any parsing or hashing (browsers cap a cookie at ~4 KiB). */
export const MAX_COOKIE_VALUE = 4096

// 32 random bytes (256 bits) encode to 43 base64url characters; an HMAC-SHA256 does too.
const SIGNED_VALUE = /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/
const ID_LENGTH = 43

/** The length of every cookie value gatehouse writes: `<43>.<43>`. */
export const SIGNED_VALUE_LENGTH = 87

/** A new session id: 256 bits from the CSPRNG, base64url. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url')
}

/** Whether `value` has the shape of a session id (not whether such a session exists). */
export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value)
}

/**
 * The key a session is stored under: SHA-256 of the id. A dump of the store (a Redis `KEYS *`,
 * a backup) then yields no id that a cookie could carry.
 */
export function storeKey(id: string): string {
  return hash('sha256', id, 'base64url')
}

/** A signing secret: the configured string, or the key object {@link signingKeys} prepares from it. */
export type SigningSecret = string | KeyObject

/** Turns secrets into key objects once, which makes each HMAC cheaper than passing the string. */
export function signingKeys(secrets: readonly string[]): KeyObject[] {
  return secrets.map((secret) => createSecretKey(Buffer.from(secret, 'utf8')))
}

function mac(id: string, secret: SigningSecret): string {
  return createHmac('sha256', secret).update(id).digest('base64url')
}

/** The cookie value for a session id: `<id>.<base64url HMAC-SHA256(secret, id)>`. */
export function signSessionId(id: string, secret: SigningSecret): string {
  return `${id}.${mac(id, secret)}`
}

/** The outcome of {@link unsignSessionCookie}. */
export type Unsigned =
  | { ok: true; id: string; /** Index of the secret that matched; 0 is the signing secret. */ secretIndex: number }
  | { ok: false; reason: 'oversized' | 'malformed' | 'signature' }

/**
 * Checks a cookie value's signature against every secret (rotation) in constant time per secret.
 * Never throws: any string a client sends yields a result.
 */
export function unsignSessionCookie(value: string, secrets: readonly SigningSecret[]): Unsigned {
  if (value.length > MAX_COOKIE_VALUE) return { ok: false, reason: 'oversized' }
  // The strict shape check also guarantees equal lengths for timingSafeEqual below.
  if (!SIGNED_VALUE.test(value)) return { ok: false, reason: 'malformed' }
  const id = value.slice(0, ID_LENGTH)
  // Compare the base64url text, not decoded bytes: decoding ignores the spare low bits of the
  // last character, which would let a flipped bit there pass as the same signature.
  const given = Buffer.from(value.slice(ID_LENGTH + 1), 'latin1')
  for (let i = 0; i < secrets.length; i++) {
    if (timingSafeEqual(Buffer.from(mac(id, secrets[i] as SigningSecret), 'latin1'), given)) return { ok: true, id, secretIndex: i }
  }
  return { ok: false, reason: 'signature' }
}

/** The attributes every session cookie is written with. */
export interface CookieAttributes {
  name: string
  secure: boolean
  sameSite: 'lax' | 'strict' | 'none'
  domain?: string
  path: string
}

/** Writes `Set-Cookie` values with fixed attributes; the clearing value is built once. */
export interface CookieWriter {
  /** A `Set-Cookie` value carrying `value` for `maxAgeSeconds` (rounded down, at least 0). */
  write(value: string, maxAgeSeconds: number): string
  /** A `Set-Cookie` value that removes the cookie: empty, `Max-Age=0`, the same attributes. */
  readonly clear: string
}

/** Builds a {@link CookieWriter}: HttpOnly always, the configured Secure, SameSite, Domain and Path. */
export function createCookieWriter(attributes: CookieAttributes): CookieWriter {
  const base = {
    httpOnly: true,
    secure: attributes.secure,
    sameSite: attributes.sameSite,
    path: attributes.path,
    ...(attributes.domain === undefined ? {} : { domain: attributes.domain }),
  } as const
  return {
    write: (value, maxAgeSeconds) => serialize(attributes.name, value, { ...base, maxAge: Math.max(0, Math.floor(maxAgeSeconds)) }),
    clear: serialize(attributes.name, '', { ...base, maxAge: 0 }),
  }
}
