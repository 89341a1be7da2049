import { createPublicKey, createSecretKey, type JsonWebKey, KeyObject, webcrypto } from 'node:crypto'
import {
  ALGORITHMS,
  algorithmsForKey,
  ASYMMETRIC_ALGORITHMS,
  describeKeyType,
  HMAC_ALGORITHMS,
  isNoneAlgorithm,
  keyTypeNeeded,
  MIN_RSA_BITS,
  SUPPORTED_ALGORITHMS,
  verifyKeyInput,
  type VerifyKeyInput,
} from './algorithms.js'
import { fingerprintKey } from './fingerprint.js'
import { clean } from '../hint-format.js'

/** A verification key, imported once, with everything the hot path and the hints need. */
export interface PreparedKey {
  readonly key: KeyObject
  readonly kind: 'secret' | 'public' | 'jwks'
  readonly kid: string | undefined
  readonly fingerprint: string
  /** Where it came from, as an option path: `jwt.secret[0]`, `jwt.jwksUrl kid=abc`. */
  readonly source: string
  /** `RSA-2048`, `EC P-256`, `HMAC secret (32 bytes)`, … */
  readonly type: string
  /** The algorithms this key verifies: its type's algorithms ∩ the allow-list ∩ its JWK `alg`. */
  readonly algorithms: readonly string[]
}

/** A key ready for one algorithm: the argument `crypto.verify` / `createHmac` takes, built once. */
export interface Candidate {
  readonly key: PreparedKey
  readonly input: VerifyKeyInput
}

/** A configuration problem, with its path inside the `jwt` options. */
export interface KeyProblem {
  path: Array<string | number>
  message: string
}

/** The key material of a verifier, resolved and checked at creation. */
export interface ResolvedKeys {
  /** The effective allow-list (configured, or derived from the key types). */
  readonly algorithms: readonly string[]
  readonly secrets: readonly PreparedKey[]
  readonly publicKeys: readonly PreparedKey[]
  readonly jwksUrls: readonly { readonly url: URL; readonly source: string }[]
  /** The allow-list's asymmetric algorithms: what a JWKS key may verify. */
  readonly jwksAlgorithms: readonly string[]
}

const NONE: readonly Candidate[] = Object.freeze([])

function push<K>(map: Map<K, Candidate[]>, key: K, candidate: Candidate): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [candidate])
  else list.push(candidate)
}

/**
 * Keys grouped for selection on the hot path, with each key's verify argument built once.
 * Selection: a token `kid` that names keys picks those keys only; a `kid` that names none (or a
 * token without `kid`) tries the keys that have no `kid` of their own, or every key when no key
 * has a `kid` at all. Always narrowed to keys whose type fits the token's `alg`.
 */
export class KeyIndex {
  readonly keys: readonly PreparedKey[]
  readonly kids: ReadonlySet<string>
  readonly #byAlg = new Map<string, Candidate[]>()
  readonly #byKid = new Map<string, Map<string, Candidate[]>>()
  readonly #withoutKid = new Map<string, Candidate[]>()

  constructor(keys: readonly PreparedKey[]) {
    this.keys = keys
    const kids = new Set<string>()
    for (const key of keys) {
      if (key.kid !== undefined) kids.add(key.kid)
      for (const alg of key.algorithms) {
        const spec = ALGORITHMS.get(alg)
        if (spec === undefined) continue
        const candidate: Candidate = { key, input: key.kind === 'secret' ? key.key : verifyKeyInput(spec, key.key) }
        push(this.#byAlg, alg, candidate)
        if (key.kid === undefined) push(this.#withoutKid, alg, candidate)
        else {
          let byAlg = this.#byKid.get(key.kid)
          if (byAlg === undefined) this.#byKid.set(key.kid, (byAlg = new Map()))
          push(byAlg, alg, candidate)
        }
      }
    }
    this.kids = kids
  }

  /** The keys to try for a token's `alg` and `kid` (see the class comment). */
  select(alg: string, kid: string | undefined): readonly Candidate[] {
    if (this.kids.size === 0) return this.#byAlg.get(alg) ?? NONE
    if (kid !== undefined) {
      const named = this.#byKid.get(kid)
      if (named !== undefined) return named.get(alg) ?? NONE
      return this.#withoutKid.get(alg) ?? NONE
    }
    return this.#byAlg.get(alg) ?? NONE
  }

  /** The key types a `kid` names, when the token's `alg` fits none of them (for the hint). */
  typesForKid(kid: string): string[] {
    return this.keys.filter((k) => k.kid === kid).map((k) => k.type)
  }
}

// ---------------------------------------------------------------------------------------------
// Public keys and JWKs

const CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1'])
// Brand check as jose does it: CryptoKey is not a constructor in every Node 20 context.
const isCryptoKey = (value: unknown): value is webcrypto.CryptoKey =>
  typeof value === 'object' && value !== null && (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'CryptoKey'
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype

const PRIVATE_KEY = 'is a private key: a verifier needs only the public key, and the private key should stay with the issuer. Derive the public key (e.g. `openssl pkey -in key.pem -pubout`) and configure that'

/** A public key read from a JWK object, with the JWK's `kid` and `alg` when it has them. */
export interface ImportedKey {
  key: KeyObject
  kid?: string
  alg?: string
}

/** Checks that an imported asymmetric key is one JWS can verify with; returns the problem otherwise. */
function keyProblem(key: KeyObject): string | undefined {
  const type = key.asymmetricKeyType
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    return bits < MIN_RSA_BITS ? `is a ${bits}-bit RSA key; RSA keys must have at least ${MIN_RSA_BITS} bits (RFC 7518 §3.3): have the issuer use a larger key` : undefined
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve
    return curve !== undefined && CURVES.has(curve) ? undefined : `is an EC key on curve ${clean(String(curve))}, which JWS does not use; ES256, ES384 and ES512 need P-256, P-384 or P-521`
  }
  if (type === 'ed25519') return undefined
  return `is a key of type ${clean(String(type))}, which cannot verify JWS signatures; use an RSA, EC (P-256, P-384, P-521) or Ed25519 public key`
}

/** Reads a JWK object as a public key, or says why it cannot be used. */
export function importJwk(jwk: Record<string, unknown>): ImportedKey | string {
  const { kty, kid, alg, use } = jwk
  if (kty === 'oct') return "is a symmetric ('oct') JWK: HMAC keys are never taken from public key material; pass its bytes as jwt.secret (Buffer.from(jwk.k, 'base64url'))"
  if (typeof kty !== 'string') return "is not a JWK: it has no 'kty' member"
  if (jwk.d !== undefined) return PRIVATE_KEY
  if (kid !== undefined && typeof kid !== 'string') return "has a 'kid' that is not a string"
  if (use !== undefined && use !== 'sig') return `has use '${clean(String(use))}', so it is not meant for signatures ('use' must be 'sig' or absent)`
  const ops = jwk.key_ops
  if (ops !== undefined && (!Array.isArray(ops) || !ops.includes('verify'))) return "has 'key_ops' without 'verify', so it is not meant for verifying signatures"
  if (alg !== undefined) {
    if (typeof alg !== 'string' || !ALGORITHMS.has(alg) || ALGORITHMS.get(alg)?.family === 'hmac') {
      return `has alg ${clean(String(alg))}, which is not a supported signature algorithm for a public key (${ASYMMETRIC_ALGORITHMS.join(', ')})`
    }
  }
  let key: KeyObject
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
  } catch (error) {
    return `is not a usable ${clean(kty)} JWK (${clean(error instanceof Error ? error.message : String(error))})`
  }
  const problem = keyProblem(key)
  if (problem) return problem
  if (typeof alg === 'string' && !algorithmsForKey(key).includes(alg)) return `has alg ${alg}, which does not fit its own key type (${describeKeyType(key)})`
  const out: ImportedKey = { key }
  if (typeof kid === 'string') out.kid = kid
  if (typeof alg === 'string') out.alg = alg
  return out
}

/**
 * Reads one `jwt.publicKey` entry: a PEM string (SPKI `PUBLIC KEY`, PKCS#1 `RSA PUBLIC KEY` or an
 * X.509 `CERTIFICATE`), a JWK object (or its JSON text), a public `KeyObject` or a public
 * `CryptoKey`. Returns the imported key or the problem.
 */
export function importPublicKey(value: unknown): ImportedKey | string {
  if (value instanceof KeyObject) {
    if (value.type === 'secret') return 'is a secret KeyObject: HMAC secrets go in jwt.secret'
    if (value.type === 'private') return PRIVATE_KEY
    return keyProblem(value) ?? { key: value }
  }
  if (isCryptoKey(value)) {
    if (value.type === 'secret') return 'is a secret CryptoKey: HMAC secrets go in jwt.secret'
    if (value.type === 'private') return PRIVATE_KEY
    let key: KeyObject
    try {
      key = KeyObject.from(value)
    } catch (error) {
      return `could not be read as a CryptoKey (${clean(error instanceof Error ? error.message : String(error))})`
    }
    return keyProblem(key) ?? { key }
  }
  if (typeof value === 'string') {
    const text = value.trim()
    if (text.startsWith('{')) {
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        return 'looks like JSON but does not parse; give a PEM string or a JWK object'
      }
      return isPlainObject(parsed) ? importJwk(parsed) : 'is JSON but not a JWK object'
    }
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return PRIVATE_KEY
    if (!text.startsWith('-----BEGIN ')) {
      return "is not a PEM key: expected text starting with '-----BEGIN PUBLIC KEY-----', '-----BEGIN RSA PUBLIC KEY-----' or '-----BEGIN CERTIFICATE-----' (or give a JWK object, a KeyObject or a CryptoKey)"
    }
    if (text.includes('\\n')) return "contains literal '\\n' sequences instead of line breaks (common when a PEM is stored in an environment variable): replace them, e.g. key.replace(/\\\\n/g, '\\n')"
    let key: KeyObject
    try {
      key = createPublicKey(text)
    } catch (error) {
      return `could not be read as a PEM public key or certificate (${clean(error instanceof Error ? error.message : String(error))})`
    }
    return keyProblem(key) ?? { key }
  }
  if (isPlainObject(value)) return importJwk(value)
  if (value instanceof Uint8Array) return 'is bytes: give the public key as a PEM string, a JWK object, a KeyObject or a CryptoKey (an HMAC secret goes in jwt.secret)'
  return 'must be a PEM string, a JWK object, a KeyObject or a CryptoKey'
}

// ---------------------------------------------------------------------------------------------
// Secrets

/** Checks one `jwt.secret` entry and returns its bytes, or the problem. */
function readSecret(value: unknown): Buffer | string {
  let bytes: Buffer
  if (typeof value === 'string') {
    const text = value.trim()
    if (text.startsWith('-----BEGIN ')) return 'looks like a PEM key: a public key goes in jwt.publicKey (jwt.secret is a shared HMAC secret, and HMAC must never be verified with public key material)'
    if (text.startsWith('{')) {
      try {
        const parsed: unknown = JSON.parse(text)
        if (isPlainObject(parsed) && 'kty' in parsed) return "looks like a JWK: a public JWK goes in jwt.publicKey; for an 'oct' JWK pass its decoded bytes (Buffer.from(jwk.k, 'base64url'))"
      } catch {
        // Not JSON: an unusual but legitimate secret.
      }
    }
    bytes = Buffer.from(value, 'utf8')
  } else if (value instanceof Uint8Array) {
    bytes = Buffer.from(value)
    if (bytes.toString('latin1').includes('-----BEGIN ')) return 'contains a PEM key: a public key goes in jwt.publicKey (jwt.secret is a shared HMAC secret)'
  } else {
    return 'must be a string or a Uint8Array (the shared HMAC secret); public keys go in jwt.publicKey'
  }
  if (bytes.length === 0) return 'is empty: give the shared HMAC secret (at least 32 random bytes, e.g. `openssl rand -base64 48`)'
  return bytes
}

// ---------------------------------------------------------------------------------------------
// The whole key configuration

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

function listOf(value: unknown): { items: unknown[]; array: boolean } {
  return Array.isArray(value) ? { items: value, array: true } : { items: value === undefined ? [] : [value], array: false }
}

const pathOf = (name: string, index: number, array: boolean): Array<string | number> => (array ? [name, index] : [name])
const sourceOf = (name: string, index: number, array: boolean): string => (array ? `jwt.${name}[${index}]` : `jwt.${name}`)

function suggestAlgorithm(alg: string): string {
  const match = SUPPORTED_ALGORITHMS.find((a) => a.toLowerCase() === alg.toLowerCase())
  return match ? `; did you mean '${match}'? (names are case-sensitive)` : `; supported: ${SUPPORTED_ALGORITHMS.join(', ')}`
}

/**
 * Reads and checks every key option of `jwt` (`secret`, `publicKey`, `jwksUrl`, `algorithms`,
 * `jwks`) together, because their rules cross: a secret's minimum length depends on the HS
 * algorithms allowed, an algorithm needs a key that fits it, and the default allow-list comes
 * from the key types. Defensive about shapes: it also runs when other options failed to parse.
 */
export function resolveKeys(options: Record<string, unknown>): { problems: KeyProblem[]; keys?: ResolvedKeys } {
  const problems: KeyProblem[] = []
  const add = (path: Array<string | number>, message: string) => problems.push({ path, message })

  // Algorithms (as configured, when they are)
  let configured: string[] | undefined
  if (Array.isArray(options.algorithms)) {
    configured = []
    options.algorithms.forEach((alg: unknown, i: number) => {
      if (typeof alg !== 'string') return
      if (isNoneAlgorithm(alg)) add(['algorithms', i], "'none' is never accepted: it means an unsigned token, which anyone can forge; remove it")
      else if (!ALGORITHMS.has(alg)) add(['algorithms', i], `'${clean(alg)}' is not a supported algorithm${suggestAlgorithm(alg)}`)
      else if (!configured!.includes(alg)) configured!.push(alg)
    })
    if (options.algorithms.length === 0) {
      add(['algorithms'], 'is empty: list the algorithms your issuer signs with (e.g. [\'RS256\']), or leave it unset to derive them from the keys')
      configured = undefined
    }
  }

  // Secrets
  const secretList = listOf(options.secret)
  const secrets: Array<{ bytes: Buffer; path: Array<string | number>; source: string }> = []
  if (secretList.array && secretList.items.length === 0) add(['secret'], 'is an empty list: give at least one secret, or remove the option')
  secretList.items.forEach((value, i) => {
    const read = readSecret(value)
    if (typeof read === 'string') add(pathOf('secret', i, secretList.array), read)
    else secrets.push({ bytes: read, path: pathOf('secret', i, secretList.array), source: sourceOf('secret', i, secretList.array) })
  })

  // Public keys
  const publicList = listOf(options.publicKey)
  const publicKeys: Array<{ imported: ImportedKey; path: Array<string | number>; source: string }> = []
  if (publicList.array && publicList.items.length === 0) add(['publicKey'], 'is an empty list: give at least one public key, or remove the option')
  publicList.items.forEach((value, i) => {
    const imported = importPublicKey(value)
    if (typeof imported === 'string') add(pathOf('publicKey', i, publicList.array), imported)
    else publicKeys.push({ imported, path: pathOf('publicKey', i, publicList.array), source: sourceOf('publicKey', i, publicList.array) })
  })

  // JWKS URLs
  const urlList = listOf(options.jwksUrl)
  const jwksUrls: Array<{ url: URL; source: string }> = []
  if (urlList.array && urlList.items.length === 0) add(['jwksUrl'], 'is an empty list: give at least one JWKS URL, or remove the option')
  urlList.items.forEach((value, i) => {
    const path = pathOf('jwksUrl', i, urlList.array)
    if (typeof value !== 'string') return add(path, "must be a URL string, e.g. 'https://id.example.com/.well-known/jwks.json'")
    let url: URL
    try {
      url = new URL(value)
    } catch {
      return add(path, `'${clean(value)}' is not a URL; give the full JWKS URL, e.g. 'https://id.example.com/.well-known/jwks.json'`)
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
      return add(path, `must use https (plain http is allowed only for localhost): keys fetched over ${clean(url.protocol)} could be replaced in transit`)
    }
    if (url.username || url.password) return add(path, 'must not contain credentials; gatehouse fetches the JWKS without authentication')
    if (jwksUrls.some((u) => u.url.href === url.href)) return add(path, 'is listed twice; remove the duplicate')
    jwksUrls.push({ url, source: sourceOf('jwksUrl', i, urlList.array) })
  })
  if (options.jwks !== undefined && options.jwksUrl === undefined) add(['jwks'], 'has no effect without jwt.jwksUrl: set jwksUrl or remove jwks')

  const anyKey = options.secret !== undefined || options.publicKey !== undefined || options.jwksUrl !== undefined
  if (!anyKey) {
    add([], 'no key is configured: set jwt.secret (shared HMAC secret), jwt.publicKey (PEM, JWK, KeyObject or CryptoKey) or jwt.jwksUrl (the identity provider\'s JWKS endpoint)')
  }

  // The effective allow-list
  let algorithms: string[]
  if (configured !== undefined) {
    algorithms = configured
  } else {
    const derived = new Set<string>()
    if (options.secret !== undefined) derived.add('HS256')
    for (const { imported } of publicKeys) for (const alg of imported.alg ? [imported.alg] : algorithmsForKey(imported.key)) derived.add(alg)
    if (options.jwksUrl !== undefined) for (const alg of ASYMMETRIC_ALGORITHMS) derived.add(alg)
    algorithms = SUPPORTED_ALGORITHMS.filter((a) => derived.has(a))
  }
  const hmacAllowed = algorithms.filter((a) => HMAC_ALGORITHMS.includes(a))
  const asymmetricAllowed = algorithms.filter((a) => !HMAC_ALGORITHMS.includes(a))

  // Cross-checks
  if (configured !== undefined) {
    const list = options.algorithms as unknown[]
    configured.forEach((alg) => {
      const i = list.indexOf(alg)
      const spec = ALGORITHMS.get(alg)!
      if (spec.family === 'hmac') {
        if (options.secret === undefined) add(['algorithms', i], `${alg} verifies with jwt.secret, which is not set; HMAC is never tried with public keys or a JWKS`)
      } else if (options.jwksUrl === undefined) {
        if (options.publicKey === undefined) add(['algorithms', i], `${alg} needs ${keyTypeNeeded(spec)} in jwt.publicKey or a jwt.jwksUrl`)
        else if (publicKeys.length > 0 && !publicKeys.some(({ imported }) => algorithmsForKey(imported.key).includes(alg) && (imported.alg ?? alg) === alg)) {
          add(['algorithms', i], `no jwt.publicKey can verify ${alg}: it needs ${keyTypeNeeded(spec)} (configured: ${publicKeys.map(({ imported }) => describeKeyType(imported.key)).join(', ')})`)
        }
      }
    })
    if (options.secret !== undefined && hmacAllowed.length === 0) add(['secret'], `is set, but jwt.algorithms allows no HMAC algorithm (${HMAC_ALGORITHMS.join(', ')}): add one, or remove the secret`)
    if (options.jwksUrl !== undefined && asymmetricAllowed.length === 0) add(['jwksUrl'], `is set, but jwt.algorithms allows no asymmetric algorithm (${ASYMMETRIC_ALGORITHMS.join(', ')}): add the one your identity provider signs with`)
  }
  const needed = Math.max(0, ...hmacAllowed.map((a) => ALGORITHMS.get(a)!.hashBytes))
  for (const secret of secrets) {
    if (secret.bytes.length < needed) {
      const alg = hmacAllowed.find((a) => ALGORITHMS.get(a)!.hashBytes === needed)
      add(secret.path, `is ${secret.bytes.length} bytes; ${alg} needs a secret of at least ${needed} bytes (RFC 7518 §3.2), or it can be brute-forced from any token: use ${needed} or more random bytes, e.g. \`openssl rand -base64 ${needed + needed / 2}\``)
    }
  }
  const prepared: PreparedKey[] = []
  for (const { imported, path, source } of publicKeys) {
    const fits = algorithmsForKey(imported.key).filter((a) => asymmetricAllowed.includes(a) && (imported.alg === undefined || imported.alg === a))
    if (fits.length === 0) {
      if (configured !== undefined) {
        const own = imported.alg ? `its JWK alg ${imported.alg}` : algorithmsForKey(imported.key).join(' or ')
        add(path, `this ${describeKeyType(imported.key)} key verifies none of jwt.algorithms (${configured.join(', ')}); add ${own} to jwt.algorithms, or remove the key`)
      }
      continue
    }
    prepared.push({
      key: imported.key,
      kind: 'public',
      kid: imported.kid,
      fingerprint: fingerprintKey(imported.key),
      source: imported.kid === undefined ? source : `${source} kid=${clean(imported.kid)}`,
      type: describeKeyType(imported.key),
      algorithms: fits,
    })
  }
  if (problems.length > 0) return { problems }

  const preparedSecrets: PreparedKey[] = secrets.map(({ bytes, source }) => {
    const key = createSecretKey(bytes)
    return { key, kind: 'secret', kid: undefined, fingerprint: fingerprintKey(key), source, type: describeKeyType(key), algorithms: hmacAllowed }
  })
  return {
    problems,
    keys: { algorithms, secrets: preparedSecrets, publicKeys: prepared, jwksUrls, jwksAlgorithms: jwksUrls.length > 0 ? asymmetricAllowed : [] },
  }
}
