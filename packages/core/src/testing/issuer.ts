import { createHmac, generateKeyPairSync, type JsonWebKey, type KeyObject, randomBytes, sign as cryptoSign } from 'node:crypto'
import type { JWTPayload } from '../decision.js'
import { type Duration, toSeconds } from '../duration.js'
import type { JwtOptions } from '../token/jwt-options.js'

/** A token issuer for tests: mints tokens that a verifier configured with its `options` accepts. */
export interface TestIssuer {
  alg: 'HS256' | 'RS256' | 'ES256' | 'EdDSA'
  issuer: string
  audience: string | string[]
  kid: string
  /**
   * Mints a signed token, synchronously. Defaults: `sub` `'user-1'`, `iat` now, `exp` in 5
   * minutes, `iss` and `aud` from the issuer; `claims` override them (a claim set to `undefined`
   * is left out). The header is `{ alg, typ: 'JWT', kid }` merged with `options.header`; the
   * signature always uses the issuer's own key and algorithm, whatever `header.alg` says.
   */
  sign(
    claims?: JWTPayload,
    options?: {
      /** Lifetime from now (a negative number of seconds mints an already expired token). Default 5 minutes. */
      expiresIn?: Duration | number
      /** Seconds from now until the token becomes valid (sets `nbf`). */
      notBefore?: number
      /** Header parameters to add or override. */
      header?: Record<string, unknown>
      /** Leave `exp` out. */
      omitExp?: boolean
    },
  ): string
  /** The public key set (with `kid`, `alg` and `use: 'sig'`); empty for HS256. */
  jwks: { keys: JsonWebKey[] }
  /** The `jwt` options under which its tokens verify: key, algorithms, issuer and audience. */
  options: JwtOptions
}

const SIGNING_HASH = { HS256: 'sha256', RS256: 'sha256', ES256: 'sha256', EdDSA: null } as const

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')

/**
 * Creates an issuer with a fresh key (a random 32-byte secret for HS256, RSA-2048, P-256 or
 * Ed25519), for tests and demos.
 *
 * @example
 * ```ts
 * const issuer = createTestIssuer({ alg: 'RS256', audience: 'backend' })
 * const auth = createAuth({ jwt: issuer.options })
 * await auth.check(request('GET', '/api/me', { authorization: `Bearer ${issuer.sign({ roles: ['admin'] })}` }))
 * ```
 */
export function createTestIssuer(options: { alg?: TestIssuer['alg']; issuer?: string; audience?: string | string[]; kid?: string; secret?: string } = {}): TestIssuer {
  const alg = options.alg ?? 'HS256'
  if (!(alg in SIGNING_HASH)) throw new TypeError(`createTestIssuer: alg must be one of ${Object.keys(SIGNING_HASH).join(', ')}`)
  const issuer = options.issuer ?? 'https://issuer.test'
  const audience = options.audience ?? 'gatehouse-test'
  const kid = options.kid ?? `test-${alg.toLowerCase()}`
  if (options.secret !== undefined && alg !== 'HS256') throw new TypeError('createTestIssuer: secret applies only to alg HS256')

  let signWith: (input: string) => Buffer
  let jwks: { keys: JsonWebKey[] }
  let jwt: JwtOptions
  if (alg === 'HS256') {
    const secret = options.secret ?? randomBytes(32).toString('base64url')
    if (Buffer.byteLength(secret) < 32) throw new TypeError('createTestIssuer: secret must be at least 32 bytes, as HS256 verification requires')
    signWith = (input) => createHmac('sha256', secret).update(input).digest()
    jwks = { keys: [] }
    jwt = { secret, algorithms: [alg], issuer, audience }
  } else {
    let pair: { publicKey: KeyObject; privateKey: KeyObject }
    if (alg === 'RS256') pair = generateKeyPairSync('rsa', { modulusLength: 2048 })
    else if (alg === 'ES256') pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    else pair = generateKeyPairSync('ed25519')
    const { privateKey } = pair
    const key = alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' as const } : privateKey
    signWith = (input) => cryptoSign(SIGNING_HASH[alg], Buffer.from(input), key)
    const jwk: JsonWebKey = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' }
    jwks = { keys: [jwk] }
    jwt = { publicKey: { ...jwk }, algorithms: [alg], issuer, audience }
  }

  return {
    alg,
    issuer,
    audience,
    kid,
    jwks,
    options: jwt,
    sign(claims = {}, opts = {}) {
      const now = Math.floor(Date.now() / 1000)
      const payload: JWTPayload = { sub: 'user-1', iat: now, iss: issuer, aud: audience }
      if (!opts.omitExp) {
        const lifetime = typeof opts.expiresIn === 'number' ? opts.expiresIn : toSeconds(opts.expiresIn ?? 300, 'expiresIn')
        payload.exp = now + lifetime
      }
      if (opts.notBefore !== undefined) payload.nbf = now + opts.notBefore
      Object.assign(payload, claims)
      const input = `${b64({ alg, typ: 'JWT', kid, ...opts.header })}.${b64(payload)}`
      return `${input}.${signWith(input).toString('base64url')}`
    },
  }
}
