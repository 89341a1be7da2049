import { constants, type KeyObject } from 'node:crypto'

/** How a JWS algorithm signs: decides which key type fits it and how node:crypto verifies it. */
export type AlgorithmFamily = 'hmac' | 'rsa' | 'rsa-pss' | 'ecdsa' | 'eddsa'

/** One JWS algorithm gatehouse verifies (RFC 7518 §3, RFC 8037, RFC 9864). */
export interface AlgorithmSpec {
  readonly name: string
  readonly family: AlgorithmFamily
  /** node:crypto digest name; `null` for EdDSA, whose hash is part of the scheme. */
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null
  /** Digest size in bytes: also the minimum HMAC secret length (RFC 7518 §3.2). */
  readonly hashBytes: number
  /** ECDSA only: the node:crypto curve name the key must have. */
  readonly curve?: 'prime256v1' | 'secp384r1' | 'secp521r1'
  /** ECDSA only: the IEEE P1363 signature length (r ‖ s). */
  readonly signatureBytes?: number
}

const spec = (name: string, family: AlgorithmFamily, bits: 256 | 384 | 512, extra: Partial<AlgorithmSpec> = {}): AlgorithmSpec =>
  Object.freeze({ name, family, hash: `sha${bits}` as const, hashBytes: bits / 8, ...extra })

const TABLE: readonly AlgorithmSpec[] = [
  spec('HS256', 'hmac', 256),
  spec('HS384', 'hmac', 384),
  spec('HS512', 'hmac', 512),
  spec('RS256', 'rsa', 256),
  spec('RS384', 'rsa', 384),
  spec('RS512', 'rsa', 512),
  spec('PS256', 'rsa-pss', 256),
  spec('PS384', 'rsa-pss', 384),
  spec('PS512', 'rsa-pss', 512),
  spec('ES256', 'ecdsa', 256, { curve: 'prime256v1', signatureBytes: 64 }),
  spec('ES384', 'ecdsa', 384, { curve: 'secp384r1', signatureBytes: 96 }),
  spec('ES512', 'ecdsa', 512, { curve: 'secp521r1', signatureBytes: 132 }),
  Object.freeze({ name: 'EdDSA', family: 'eddsa', hash: null, hashBytes: 64 }),
  Object.freeze({ name: 'Ed25519', family: 'eddsa', hash: null, hashBytes: 64 }),
]

/**
 * Every supported algorithm by its exact (case-sensitive) `alg` name. A Map, not an object, so
 * that a hostile `alg` such as `__proto__` or `constructor` can never resolve to anything.
 */
export const ALGORITHMS: ReadonlyMap<string, AlgorithmSpec> = new Map(TABLE.map((a) => [a.name, a]))

/** Every algorithm name gatehouse supports, in table order. */
export const SUPPORTED_ALGORITHMS: readonly string[] = TABLE.map((a) => a.name)

/** The asymmetric algorithms: the default allow-list for a JWKS. */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = TABLE.filter((a) => a.family !== 'hmac').map((a) => a.name)

/** The HMAC algorithms. */
export const HMAC_ALGORITHMS: readonly string[] = TABLE.filter((a) => a.family === 'hmac').map((a) => a.name)

/** Minimum RSA modulus, in bits (RFC 7518 §3.3 and NIST SP 800-131A). */
export const MIN_RSA_BITS = 2048

/** `none` in any casing: the unsigned "algorithm" that must never be accepted. */
export function isNoneAlgorithm(alg: string): boolean {
  return alg.length === 4 && alg.toLowerCase() === 'none'
}

const CURVE_LABEL: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }

/** A person-readable name of the key type an algorithm needs, for hints and config errors. */
export function keyTypeNeeded(alg: AlgorithmSpec): string {
  switch (alg.family) {
    case 'hmac':
      return `an HMAC secret of at least ${alg.hashBytes} bytes (jwt.secret)`
    case 'rsa':
      return 'an RSA public key'
    case 'rsa-pss':
      return 'an RSA public key'
    case 'ecdsa':
      return `an EC ${CURVE_LABEL[alg.curve ?? ''] ?? alg.curve} public key`
    case 'eddsa':
      return 'an Ed25519 public key'
  }
}

/** A short person-readable description of a key's type: `RSA-2048`, `EC P-256`, `Ed25519`, `HMAC secret (32 bytes)`. */
export function describeKeyType(key: KeyObject): string {
  if (key.type === 'secret') return `HMAC secret (${key.symmetricKeySize ?? 0} bytes)`
  const details = key.asymmetricKeyDetails
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return `${key.asymmetricKeyType === 'rsa' ? 'RSA' : 'RSA-PSS'}-${details?.modulusLength ?? '?'}`
    case 'ec':
      return `EC ${CURVE_LABEL[details?.namedCurve ?? ''] ?? details?.namedCurve ?? '?'}`
    case 'ed25519':
      return 'Ed25519'
    default:
      return String(key.asymmetricKeyType)
  }
}

/**
 * The algorithms a key can verify by its type alone (before the allow-list narrows them). An
 * HMAC secret fits the HS algorithms whose digest is no longer than the secret; RSA keys fit
 * RS* and PS*; an RSA-PSS key fits the PS algorithm of its own digest; an EC key fits the one
 * ES algorithm of its curve; Ed25519 fits EdDSA and Ed25519. Anything else fits nothing.
 */
export function algorithmsForKey(key: KeyObject): string[] {
  if (key.type === 'secret') {
    const size = key.symmetricKeySize ?? 0
    return TABLE.filter((a) => a.family === 'hmac' && size >= a.hashBytes).map((a) => a.name)
  }
  const details = key.asymmetricKeyDetails
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return TABLE.filter((a) => a.family === 'rsa' || a.family === 'rsa-pss').map((a) => a.name)
    case 'rsa-pss': {
      const hash = details?.hashAlgorithm
      return TABLE.filter((a) => a.family === 'rsa-pss' && (hash === undefined || a.hash === hash)).map((a) => a.name)
    }
    case 'ec':
      return TABLE.filter((a) => a.family === 'ecdsa' && a.curve === details?.namedCurve).map((a) => a.name)
    case 'ed25519':
      return TABLE.filter((a) => a.family === 'eddsa').map((a) => a.name)
    default:
      return []
  }
}

/** What `crypto.verify` takes as its key argument for one algorithm (built once per key and algorithm). */
export type VerifyKeyInput =
  | KeyObject
  | { key: KeyObject; padding: number; saltLength: number }
  | { key: KeyObject; dsaEncoding: 'ieee-p1363' }

/**
 * The key argument for `crypto.verify`: PSS with a salt as long as the digest (RFC 7518 §3.5,
 * as jose and WebCrypto check it), ECDSA signatures in the JWS r ‖ s form (RFC 7518 §3.4).
 */
export function verifyKeyInput(alg: AlgorithmSpec, key: KeyObject): VerifyKeyInput {
  if (alg.family === 'rsa-pss') return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
  if (alg.family === 'ecdsa') return { key, dsaEncoding: 'ieee-p1363' }
  return key
}
