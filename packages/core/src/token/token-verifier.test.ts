import { constants, createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'
import { GatehouseConfigError } from '../config-error.js'
import type { JWTPayload } from '../decision.js'
import type { TraceStep } from '../trace.js'
import type { JwtOptions } from './jwt-options.js'
import { createTokenVerifier, fingerprintKey, type TokenResult } from './token-verifier.js'

const NOW = Date.UTC(2026, 10, 30, 10, 0, 0)
const NOW_S = NOW / 1000
const SECRET = 'test-secret-test-secret-test-secret!'
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

type Signer = { alg: string; key: KeyObject | string; hash?: string | null; pss?: boolean; ecdsa?: boolean }

function token(signer: Signer, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  const input = `${b64({ alg: signer.alg, typ: 'JWT', ...header })}.${b64({ sub: 'user-1', iat: NOW_S, exp: NOW_S + 300, ...claims })}`
  let signature: Buffer
  if (typeof signer.key === 'string') signature = createHmac(signer.hash ?? 'sha256', signer.key).update(input).digest()
  else if (signer.pss) signature = sign(signer.hash ?? 'sha256', Buffer.from(input), { key: signer.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })
  else if (signer.ecdsa) signature = sign(signer.hash ?? 'sha256', Buffer.from(input), { key: signer.key, dsaEncoding: 'ieee-p1363' })
  else signature = sign(signer.hash === undefined ? 'sha256' : signer.hash, Buffer.from(input), signer.key)
  return `${input}.${signature.toString('base64url')}`
}

const hs = (claims?: Record<string, unknown>, header?: Record<string, unknown>, key = SECRET) => token({ alg: 'HS256', key }, claims, header)
const verifyAt = (v: ReturnType<typeof createTokenVerifier>, t: string, now = NOW) => v.verify(t, { now })

function expectFailure(result: TokenResult, code: string, hint?: RegExp) {
  expect(result.ok).toBe(false)
  if (result.ok) return
  expect(result.code, result.hint).toBe(code)
  if (hint) expect(result.hint).toMatch(hint)
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 })
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' })
const ed = generateKeyPairSync('ed25519')

describe('createTokenVerifier: algorithms', () => {
  it.each([
    ['HS256', { secret: SECRET }, { alg: 'HS256', key: SECRET }],
    ['HS384', { secret: 'x'.repeat(48), algorithms: ['HS384'] }, { alg: 'HS384', key: 'x'.repeat(48), hash: 'sha384' }],
    ['HS512', { secret: 'x'.repeat(64), algorithms: ['HS512'] }, { alg: 'HS512', key: 'x'.repeat(64), hash: 'sha512' }],
    ['RS256', { publicKey: rsa.publicKey }, { alg: 'RS256', key: rsa.privateKey }],
    ['RS512', { publicKey: rsa.publicKey }, { alg: 'RS512', key: rsa.privateKey, hash: 'sha512' }],
    ['PS256', { publicKey: rsa.publicKey }, { alg: 'PS256', key: rsa.privateKey, pss: true }],
    ['PS384', { publicKey: rsa.publicKey }, { alg: 'PS384', key: rsa.privateKey, pss: true, hash: 'sha384' }],
    ['ES256', { publicKey: p256.publicKey }, { alg: 'ES256', key: p256.privateKey, ecdsa: true }],
    ['ES384', { publicKey: p384.publicKey }, { alg: 'ES384', key: p384.privateKey, ecdsa: true, hash: 'sha384' }],
    ['ES512', { publicKey: p521.publicKey }, { alg: 'ES512', key: p521.privateKey, ecdsa: true, hash: 'sha512' }],
    ['EdDSA', { publicKey: ed.publicKey }, { alg: 'EdDSA', key: ed.privateKey, hash: null }],
    ['Ed25519', { publicKey: ed.publicKey }, { alg: 'Ed25519', key: ed.privateKey, hash: null }],
  ] as const)('verifies %s', async (_alg, options, signer) => {
    const v = createTokenVerifier({ ...(options as JwtOptions), cache: false })
    const result = await verifyAt(v, token(signer as Signer, { roles: ['admin'] }))
    expect(result).toMatchObject({ ok: true, cached: false, claims: { sub: 'user-1', roles: ['admin'] } })
  })

  it('refuses alg none in every casing, before looking at the signature', async () => {
    const v = createTokenVerifier({ secret: SECRET })
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const unsigned = `${b64({ alg })}.${b64({ sub: 'x', exp: NOW_S + 60 })}.`
      expectFailure(await verifyAt(v, unsigned), 'token_algorithm_rejected', /unsigned token/)
    }
  })

  it('refuses an alg outside the allow-list, naming the presented and allowed algorithms', async () => {
    const v = createTokenVerifier({ publicKey: rsa.publicKey, algorithms: ['RS256'] })
    expectFailure(await verifyAt(v, token({ alg: 'RS512', key: rsa.privateKey, hash: 'sha512' })), 'token_algorithm_rejected', /RS512.*not allowed.*allowed: RS256/)
    expectFailure(await verifyAt(v, `${b64({ typ: 'JWT' })}.${b64({ exp: NOW_S + 60 })}.AAAA`), 'token_algorithm_rejected', /no alg/)
    expectFailure(await verifyAt(v, `${b64({ alg: 'XS999' })}.${b64({ exp: NOW_S + 60 })}.AAAA`), 'token_algorithm_rejected', /not an algorithm gatehouse supports/)
  })

  it('never verifies HS256 with a public key (algorithm confusion)', async () => {
    const v = createTokenVerifier({ publicKey: rsa.publicKey })
    const pem = String(rsa.publicKey.export({ type: 'spki', format: 'pem' }))
    expectFailure(await verifyAt(v, hs({}, {}, pem)), 'token_algorithm_rejected', /HMAC.*never verified with a public key/)
  })

  it('refuses a token whose kid names a key of another type', async () => {
    const v = createTokenVerifier({ publicKey: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'r1' }, { ...p256.publicKey.export({ format: 'jwk' }), kid: 'e1' }] })
    const t = token({ alg: 'ES256', key: p256.privateKey, ecdsa: true }, {}, { kid: 'r1' })
    expectFailure(await verifyAt(v, t), 'token_algorithm_rejected', /does not fit the key with kid 'r1' \(RSA-2048\)/)
  })

  it('refuses a token with a crit header, and a non-string kid', async () => {
    const v = createTokenVerifier({ secret: SECRET })
    expectFailure(await verifyAt(v, hs({}, { crit: ['exp'], exp: 1 })), 'token_claim_invalid', /crit/)
    expectFailure(await verifyAt(v, hs({}, { crit: ['b64'], b64: true })), 'token_claim_invalid', /crit/)
    expectFailure(await verifyAt(v, hs({}, { kid: 7 })), 'credentials_malformed', /kid must be a string/)
  })

  it('ignores jwk, jku, x5u and x5c headers when choosing the key', async () => {
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const v = createTokenVerifier({ publicKey: rsa.publicKey })
    const header = { jwk: attacker.publicKey.export({ format: 'jwk' }), jku: 'https://evil.example/jwks', x5u: 'https://evil.example/cert', x5c: ['MIIB'] }
    expectFailure(await verifyAt(v, token({ alg: 'RS256', key: attacker.privateKey }, {}, header)), 'token_signature_invalid')
    expect((await verifyAt(v, token({ alg: 'RS256', key: rsa.privateKey }, {}, header))).ok).toBe(true)
  })
})

describe('createTokenVerifier: keys and rotation', () => {
  it('verifies with any secret of a rotation list and names every fingerprint tried when none fits', async () => {
    const other = 'another-secret-another-secret-another!'
    const v = createTokenVerifier({ secret: [SECRET, other] })
    expect((await verifyAt(v, hs({}, {}, other))).ok).toBe(true)
    const result = await verifyAt(v, hs({}, {}, 'a-third-secret-a-third-secret-a-third'))
    expectFailure(result, 'token_signature_invalid')
    const fps = v.keys().map((k) => k.fingerprint)
    expect(!result.ok && result.hint).toBe(`HS256 signature does not verify with any of the 2 keys tried (${fps.join(', ')}); if another service signs these tokens, compare its key fingerprint ('gatehouse fingerprint' or auth.keys())`)
  })

  it('matches kid first: only the named key is tried', async () => {
    const v = createTokenVerifier({
      publicKey: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1' }, { ...rsa2.publicKey.export({ format: 'jwk' }), kid: 'k2' }],
    })
    expect((await verifyAt(v, token({ alg: 'RS256', key: rsa2.privateKey }, {}, { kid: 'k2' }))).ok).toBe(true)
    const wrong = await verifyAt(v, token({ alg: 'RS256', key: rsa.privateKey }, {}, { kid: 'k2' }))
    expectFailure(wrong, 'token_signature_invalid', /the 1 key tried/)
    // Without a kid, every key of the right type is tried.
    expect((await verifyAt(v, token({ alg: 'RS256', key: rsa2.privateKey }))).ok).toBe(true)
  })

  it('names the presented and the known kids for an unknown kid', async () => {
    const v = createTokenVerifier({ publicKey: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1' }, { ...rsa2.publicKey.export({ format: 'jwk' }), kid: 'k2' }] })
    const result = await verifyAt(v, token({ alg: 'RS256', key: rsa.privateKey }, {}, { kid: 'k9' }))
    expectFailure(result, 'token_key_unknown', /token kid 'k9' matches no key for RS256 \(known kids: \['k1', 'k2'\]\)/)
  })

  it('tries only the keys whose type fits the token alg among mixed keys', async () => {
    const v = createTokenVerifier({ publicKey: [rsa.publicKey, p256.publicKey, rsa2.publicKey] })
    expect((await verifyAt(v, token({ alg: 'ES256', key: p256.privateKey, ecdsa: true }))).ok).toBe(true)
    const forged = await verifyAt(v, token({ alg: 'RS256', key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey }))
    expectFailure(forged, 'token_signature_invalid', /any of the 2 keys tried/)
  })

  it('lists keys by fingerprint and source, never their material', () => {
    const v = createTokenVerifier({ secret: [SECRET, Buffer.from('b'.repeat(32))], publicKey: { ...p256.publicKey.export({ format: 'jwk' }), kid: 'e1' } })
    const keys = v.keys()
    expect(keys).toEqual([
      { fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{12}$/), kind: 'secret', algorithms: ['HS256'], source: 'jwt.secret[0]' },
      { fingerprint: expect.stringMatching(/^sha256:/), kind: 'secret', algorithms: ['HS256'], source: 'jwt.secret[1]' },
      { fingerprint: fingerprintKey(p256.publicKey), kind: 'public', algorithms: ['ES256'], kid: 'e1', source: 'jwt.publicKey kid=e1' },
    ])
    expect(JSON.stringify(keys)).not.toContain(SECRET)
  })

  it('throws GatehouseConfigError at creation for bad options', () => {
    expect(() => createTokenVerifier({ secret: 'short' })).toThrow(GatehouseConfigError)
    expect(() => createTokenVerifier({ secret: 'short' })).toThrow(/jwt\.secret: is 5 bytes; HS256 needs/)
    expect(() => createTokenVerifier({ algorithms: ['none'], secret: SECRET })).toThrow(/jwt\.algorithms\[0\]/)
  })
})

describe('createTokenVerifier: claims', () => {
  const v = createTokenVerifier({ secret: SECRET, issuer: 'https://id.example.com', audience: 'backend', cache: false })
  const good = { iss: 'https://id.example.com', aud: 'backend' }

  it('accepts a valid token and refuses each bad claim with its code', async () => {
    expect((await verifyAt(v, hs(good))).ok).toBe(true)
    expectFailure(await verifyAt(v, hs({ ...good, exp: NOW_S - 600 })), 'token_expired', /expired 10m ago/)
    expectFailure(await verifyAt(v, hs({ ...good, nbf: NOW_S + 600 })), 'token_not_yet_valid')
    expectFailure(await verifyAt(v, hs({ ...good, iss: 'https://other.example' })), 'token_issuer_mismatch', /'https:\/\/other.example' is not the expected 'https:\/\/id.example.com'/)
    expectFailure(await verifyAt(v, hs({ ...good, iss: ['https://id.example.com'] })), 'token_issuer_mismatch')
    expectFailure(await verifyAt(v, hs({ ...good, aud: ['auth-service'] })), 'token_audience_mismatch', /token aud \['auth-service'\] does not include 'backend'/)
    expect((await verifyAt(v, hs({ ...good, aud: ['auth-service', 'backend'] }))).ok).toBe(true)
    expectFailure(await verifyAt(v, hs({ ...good, exp: '9999999999' })), 'token_claim_invalid')
    expectFailure(await verifyAt(v, hs({ ...good, exp: undefined })), 'token_claim_invalid', /no exp/)
  })

  it('checks the signature before the claims: a forged expired token is a bad signature', async () => {
    expectFailure(await verifyAt(v, hs({ ...good, exp: NOW_S - 600 }, {}, 'wrong-secret-wrong-secret-wrong-secret')), 'token_signature_invalid')
  })

  it('applies typ, requiredClaims, maxTokenAge, requireExp and clockTolerance options', async () => {
    const strict = createTokenVerifier({ secret: SECRET, typ: 'at+jwt', requiredClaims: ['tenant'], maxTokenAge: '1h', clockTolerance: 0, cache: false })
    expectFailure(await verifyAt(strict, hs({ tenant: 't' })), 'token_claim_invalid', /typ 'JWT' is not the expected 'at\+jwt'/)
    expect((await verifyAt(strict, hs({ tenant: 't' }, { typ: 'at+JWT' }))).ok).toBe(true)
    expectFailure(await verifyAt(strict, hs({}, { typ: 'at+jwt' })), 'token_claim_invalid', /'tenant'/)
    expectFailure(await verifyAt(strict, hs({ tenant: 't', iat: NOW_S - 3601 }, { typ: 'at+jwt' })), 'token_expired', /maxTokenAge 1h/)
    expectFailure(await verifyAt(strict, hs({ tenant: 't', exp: NOW_S }, { typ: 'at+jwt' })), 'token_expired')
    const lax = createTokenVerifier({ secret: SECRET, requireExp: false })
    expect((await verifyAt(lax, hs({ exp: undefined }))).ok).toBe(true)
  })

  it('refuses tokens over maxTokenBytes', async () => {
    const small = createTokenVerifier({ secret: SECRET, maxTokenBytes: 200 })
    expectFailure(await verifyAt(small, hs({ pad: 'x'.repeat(300) })), 'credentials_malformed', /over jwt\.maxTokenBytes \(200\)/)
  })

  it('deep-freezes the claims and header it caches, so no handler can change what the next request sees', async () => {
    const cached = createTokenVerifier({ secret: SECRET })
    const result = await verifyAt(cached, hs({ ...good, roles: ['reader'], profile: { name: 'n' } }))
    if (!result.ok) throw new Error(result.hint)
    expect(Object.isFrozen(result.claims)).toBe(true)
    expect(Object.isFrozen(result.claims.roles)).toBe(true)
    expect(Object.isFrozen(result.claims.profile)).toBe(true)
    expect(Object.isFrozen(result.header)).toBe(true)
    expect(() => (result.claims.roles as string[]).push('admin')).toThrow(TypeError)
  })

  it('shares one frozen header object between tokens with the same header', async () => {
    const a = await verifyAt(v, hs({ ...good, sub: 'a' }))
    const b = await verifyAt(v, hs({ ...good, sub: 'b' }))
    if (!a.ok || !b.ok) throw new Error('expected both to verify')
    expect(b.header).toBe(a.header)
    expect(Object.isFrozen(a.header)).toBe(true)
    // A forged token with the same header is still refused.
    expectFailure(await verifyAt(v, hs({ ...good, sub: 'c' }, {}, 'forged-forged-forged-forged-forged-forged')), 'token_signature_invalid')
  })

  it('returns fresh, unshared claims with cache: false', async () => {
    const t = hs({ ...good, roles: ['reader'] })
    const first = await verifyAt(v, t)
    const second = await verifyAt(v, t)
    if (!first.ok || !second.ok) throw new Error('expected both to verify')
    expect(second.claims).not.toBe(first.claims)
    ;(first.claims.roles as string[]).push('admin')
    expect(second.claims.roles).toEqual(['reader'])
  })
})

describe('createTokenVerifier: verified-token cache', () => {
  it('serves a hit with the same frozen claims object, marked cached', async () => {
    const v = createTokenVerifier({ secret: SECRET })
    const t = hs({ roles: ['a'] })
    const first = await verifyAt(v, t)
    const second = await verifyAt(v, t)
    expect(first).toMatchObject({ ok: true, cached: false })
    expect(second).toMatchObject({ ok: true, cached: true })
    if (first.ok && second.ok) expect(second.claims).toBe(first.claims)
    expect(await verifyAt(v, t)).toBe(second)
  })

  it('never serves an entry once exp has passed, even inside the clock tolerance', async () => {
    const v = createTokenVerifier({ secret: SECRET })
    const t = hs({ exp: NOW_S + 60 })
    await verifyAt(v, t)
    expect(await verifyAt(v, t, NOW + 59_999)).toMatchObject({ ok: true, cached: true })
    // Past exp, inside the 5 s tolerance: verified afresh (accepted, not from the cache).
    expect(await verifyAt(v, t, NOW + 62_000)).toMatchObject({ ok: true, cached: false })
    expectFailure(await verifyAt(v, t, NOW + 66_000), 'token_expired')
  })

  it('does not cache a token before its nbf, and ends entries at iat + maxTokenAge', async () => {
    const v = createTokenVerifier({ secret: SECRET, maxTokenAge: 30 })
    const early = hs({ nbf: NOW_S + 3 })
    await verifyAt(v, early)
    expect(await verifyAt(v, early)).toMatchObject({ ok: true, cached: false })
    expect(await verifyAt(v, early, NOW + 4000)).toMatchObject({ ok: true, cached: false })
    expect(await verifyAt(v, early, NOW + 4001)).toMatchObject({ ok: true, cached: true })
    const t = hs({ iat: NOW_S })
    await verifyAt(v, t)
    expect(await verifyAt(v, t, NOW + 29_000)).toMatchObject({ cached: true })
    expect(await verifyAt(v, t, NOW + 31_000)).toMatchObject({ ok: true, cached: false })
    expectFailure(await verifyAt(v, t, NOW + 36_000), 'token_expired')
  })

  it('is bounded by cache.max (the least recently used go first) and off with cache: false', async () => {
    const v = createTokenVerifier({ secret: SECRET, cache: { max: 4 } })
    const [a, b, c] = ['a', 'b', 'c'].map((sub) => hs({ sub }))
    for (const t of [a!, b!, a!, c!]) await verifyAt(v, t)
    expect(await verifyAt(v, a!)).toMatchObject({ cached: true })
    expect(await verifyAt(v, b!)).toMatchObject({ cached: false })
    const off = createTokenVerifier({ secret: SECRET, cache: false })
    await verifyAt(off, a!)
    expect(await verifyAt(off, a!)).toMatchObject({ ok: true, cached: false })
  })

  it('keys the cache per verifier: a token cached by one configuration is not accepted by another', async () => {
    const t = hs({ aud: 'backend' })
    const loose = createTokenVerifier({ secret: SECRET })
    const strict = createTokenVerifier({ secret: SECRET, audience: 'admin' })
    await verifyAt(loose, t)
    expect(await verifyAt(loose, t)).toMatchObject({ cached: true })
    expectFailure(await verifyAt(strict, t), 'token_audience_mismatch')
  })

  it('does not cache failures', async () => {
    const v = createTokenVerifier({ secret: SECRET, issuer: 'https://id.example.com' })
    const t = hs({ iss: 'https://other.example' })
    expectFailure(await verifyAt(v, t), 'token_issuer_mismatch')
    expectFailure(await verifyAt(v, t), 'token_issuer_mismatch')
  })
})

describe('createTokenVerifier: isRevoked', () => {
  it('refuses revoked tokens with the sub and jti, and checks revocation on cache hits too', async () => {
    let revoked = false
    const isRevoked = vi.fn((_claims: JWTPayload) => revoked)
    const v = createTokenVerifier({ secret: SECRET, isRevoked })
    const t = hs({ jti: 'j-1' })
    expect(await verifyAt(v, t)).toMatchObject({ ok: true, cached: false })
    expect(await verifyAt(v, t)).toMatchObject({ ok: true, cached: true })
    revoked = true
    expectFailure(await verifyAt(v, t), 'token_revoked', /isRevoked returned true for this token \(sub 'user-1', jti 'j-1'\)/)
    expect(isRevoked).toHaveBeenCalledTimes(3)
    expect(isRevoked.mock.calls[0]![0]).toMatchObject({ sub: 'user-1', jti: 'j-1' })
  })

  it('never stores a revoked token in the cache', async () => {
    let revoked = true
    const v = createTokenVerifier({ secret: SECRET, isRevoked: async () => revoked })
    const t = hs()
    expectFailure(await verifyAt(v, t), 'token_revoked')
    revoked = false
    expect(await verifyAt(v, t)).toMatchObject({ ok: true, cached: false })
    expect(await verifyAt(v, t)).toMatchObject({ ok: true, cached: true })
  })

  it('answers 503 auth_unavailable when isRevoked throws, rejects or returns a non-boolean', async () => {
    for (const hook of [
      () => {
        throw new Error('redis down')
      },
      () => Promise.reject(new Error('redis down')),
      () => undefined as unknown as boolean,
      () => Promise.resolve('no' as unknown as boolean),
    ]) {
      const v = createTokenVerifier({ secret: SECRET, isRevoked: hook })
      expectFailure(await verifyAt(v, hs()), 'auth_unavailable', /jwt\.isRevoked/)
    }
  })
})

describe('createTokenVerifier: robustness and hints', () => {
  it('never throws, whatever it is given', async () => {
    const v = createTokenVerifier({ secret: SECRET })
    for (const input of [undefined, null, 42, {}, [], '', '.', '..', '...', 'a.b.c', '\u0000', 'x'.repeat(100_000)]) {
      const result = await v.verify(input as string)
      expect(result.ok).toBe(false)
    }
  })

  it('never puts the token, its signature or a secret in a hint', async () => {
    const v = createTokenVerifier({ secret: SECRET, issuer: 'https://id.example.com', audience: 'backend', isRevoked: () => true })
    const samples = [
      hs({ iss: 'https://id.example.com', aud: 'backend' }),
      hs({ exp: NOW_S - 100 }),
      hs({}, {}, 'wrong-secret-wrong-secret-wrong-secret'),
      hs({ iss: 'x' }),
      `${hs()}x`,
      hs().split('.').slice(0, 2).join('.'),
    ]
    for (const t of samples) {
      const result = await verifyAt(v, t)
      expect(result.ok).toBe(false)
      if (result.ok) continue
      const text = JSON.stringify(result)
      expect(text).not.toContain(SECRET)
      for (const segment of t.split('.')) if (segment.length > 16) expect(text).not.toContain(segment.slice(0, 16))
    }
  })

  it('reports each step to a trace sink', async () => {
    const v = createTokenVerifier({ secret: SECRET, isRevoked: () => false })
    const steps: TraceStep[] = []
    const t = hs()
    await v.verify(t, { now: NOW, trace: (s) => steps.push(s) })
    expect(steps.map((s) => `${s.step}:${s.outcome}`)).toEqual(['algorithm:pass', 'signature:pass', 'claims:pass', 'revocation:pass'])
    steps.length = 0
    await v.verify(t, { now: NOW, trace: (s) => steps.push(s) })
    expect(steps.map((s) => `${s.step}:${s.outcome}`)).toEqual(['cache:pass', 'revocation:pass'])
    steps.length = 0
    await v.verify(hs({ exp: NOW_S - 60 }), { now: NOW, trace: (s) => steps.push(s) })
    expect(steps.at(-1)).toMatchObject({ step: 'claims', outcome: 'fail', data: { code: 'token_expired', reason: 'expired' } })
  })

  it('refuses a clock that is not a finite number (it would pass every expiry check)', async () => {
    const v = createTokenVerifier({ secret: SECRET })
    await expect(v.verify(hs(), { now: Number.NaN })).rejects.toThrow(/options\.now must be a finite number/)
  })

  it('closes idempotently', async () => {
    const v = createTokenVerifier({ secret: SECRET })
    await v.close()
    await v.close()
  })
})
