// Interoperability: tokens minted by jsonwebtoken and fast-jwt verify with gatehouse, and a real
// local identity provider (node:http on 127.0.0.1) serves the JWKS through rotation, outage,
// garbage, slowness and an unknown-kid storm.
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import jsonwebtoken from 'jsonwebtoken'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { JwtOptions } from '../src/token/jwt-options.js'
import { createTokenVerifier, type TokenVerifier } from '../src/token/token-verifier.js'
import { type JwksServer, startJwksServer } from './fixtures/jwks-server.js'

const ISSUER = 'https://id.example.com'
const AUDIENCE = 'backend'
const SECRET = 'interop-secret-interop-secret-interop-secret'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
const ed = generateKeyPairSync('ed25519')
const pem = (key: KeyObject) => String(key.export({ type: key.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }))

describe('tokens minted by jsonwebtoken', () => {
  it.each([
    ['HS256', SECRET, { secret: SECRET }],
    ['HS512', 'x'.repeat(64), { secret: 'x'.repeat(64), algorithms: ['HS512'] }],
    ['RS256', pem(rsa.privateKey), { publicKey: pem(rsa.publicKey) }],
    ['PS256', pem(rsa.privateKey), { publicKey: pem(rsa.publicKey) }],
    ['ES256', pem(ec.privateKey), { publicKey: pem(ec.publicKey) }],
    ['ES384', pem(ec384.privateKey), { publicKey: pem(ec384.publicKey) }],
  ] as const)('%s verifies, with its claims', async (alg, key, options) => {
    const token = jsonwebtoken.sign({ roles: ['admin'], scope: 'reports:read' }, key, {
      algorithm: alg,
      expiresIn: '5m',
      notBefore: 0,
      issuer: ISSUER,
      audience: [AUDIENCE, 'other'],
      subject: 'user-1',
      keyid: 'k1',
      jwtid: 'j-1',
    })
    const verifier = createTokenVerifier({ ...(options as JwtOptions), issuer: ISSUER, audience: AUDIENCE })
    const result = await verifier.verify(token)
    expect(result).toMatchObject({ ok: true, claims: { sub: 'user-1', roles: ['admin'], aud: [AUDIENCE, 'other'], jti: 'j-1' }, header: { alg, kid: 'k1' } })
  })

  it('expired and wrong-audience jsonwebtoken tokens are refused with the right codes', async () => {
    const verifier = createTokenVerifier({ secret: SECRET, audience: AUDIENCE })
    const expired = jsonwebtoken.sign({ sub: 'u', exp: Math.floor(Date.now() / 1000) - 60 }, SECRET)
    expect(await verifier.verify(expired)).toMatchObject({ ok: false, code: 'token_expired' })
    const foreign = jsonwebtoken.sign({ sub: 'u' }, SECRET, { expiresIn: 60, audience: 'auth-service' })
    expect(await verifier.verify(foreign)).toMatchObject({ ok: false, code: 'token_audience_mismatch', hint: expect.stringContaining("token aud ['auth-service'] does not include 'backend'") })
    // jsonwebtoken mints exp-less tokens unless told otherwise: refused by default.
    expect(await verifier.verify(jsonwebtoken.sign({ sub: 'u', aud: AUDIENCE }, SECRET))).toMatchObject({ ok: false, code: 'token_claim_invalid' })
  })
})

describe('tokens minted by fast-jwt', () => {
  it.each([
    ['HS256', SECRET, { secret: SECRET }],
    ['RS256', pem(rsa.privateKey), { publicKey: rsa.publicKey }],
    ['PS512', pem(rsa.privateKey), { publicKey: rsa.publicKey }],
    ['ES256', pem(ec.privateKey), { publicKey: ec.publicKey.export({ format: 'jwk' }) }],
    ['EdDSA', pem(ed.privateKey), { publicKey: pem(ed.publicKey) }],
  ] as const)('%s verifies', async (algorithm, key, options) => {
    const signer = createSigner({ key, algorithm, expiresIn: 300_000, iss: ISSUER, aud: AUDIENCE, sub: 'user-1', kid: 'k1' })
    const verifier = createTokenVerifier({ ...(options as JwtOptions), issuer: ISSUER, audience: AUDIENCE })
    const result = await verifier.verify(signer({ roles: ['reader'] }))
    expect(result).toMatchObject({ ok: true, claims: { sub: 'user-1', iss: ISSUER, roles: ['reader'] }, header: { alg: algorithm } })
  })

  it('a fast-jwt token signed with another key is refused with the fingerprints tried', async () => {
    const other = generateKeyPairSync('ed25519')
    const signer = createSigner({ key: pem(other.privateKey), algorithm: 'EdDSA', expiresIn: 60_000 })
    const verifier = createTokenVerifier({ publicKey: ed.publicKey })
    const result = await verifier.verify(signer({ sub: 'u' }))
    expect(result).toMatchObject({ ok: false, code: 'token_signature_invalid', hint: expect.stringMatching(/does not verify with the 1 key tried \(sha256:[0-9a-f]{12}\)/) })
  })
})

describe('a real local identity provider serving the JWKS', () => {
  const first = { kid: 'rotate-1', privateKey: rsa.privateKey, jwk: { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rotate-1', alg: 'RS256', use: 'sig' } }
  const secondPair = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const second = { kid: 'rotate-2', privateKey: secondPair.privateKey, jwk: { ...secondPair.publicKey.export({ format: 'jwk' }), kid: 'rotate-2', alg: 'RS256', use: 'sig' } }
  const mint = (key: { kid: string; privateKey: KeyObject }, claims: Record<string, unknown> = {}) =>
    jsonwebtoken.sign({ sub: 'user-1', ...claims }, pem(key.privateKey), { algorithm: 'RS256', keyid: key.kid, expiresIn: 300, issuer: ISSUER, audience: AUDIENCE })

  let idp: JwksServer
  let verifier: TokenVerifier
  beforeEach(async () => {
    idp = await startJwksServer({ keys: [first.jwk] })
  })
  afterEach(async () => {
    await verifier?.close()
    await idp.close()
  })

  it('follows a key rotation mid-run without dropping a request', async () => {
    verifier = createTokenVerifier({ jwksUrl: idp.url, issuer: ISSUER, audience: AUDIENCE, jwks: { cooldown: 0.2 } })
    expect((await verifier.verify(mint(first))).ok).toBe(true)
    await sleep(250)
    // The IdP publishes the new key alongside the old one, then signs with it.
    idp.jwks = { keys: [first.jwk, second.jwk] }
    const mixed = await Promise.all([mint(first, { n: 1 }), mint(second, { n: 2 }), mint(first, { n: 3 }), mint(second, { n: 4 })].map((t) => verifier.verify(t)))
    expect(mixed.map((r) => r.ok)).toEqual([true, true, true, true])
    expect(idp.requests).toBe(2)
    // Then retires the old key.
    idp.jwks = { keys: [second.jwk] }
    await sleep(250)
    expect((await verifier.verify(mint(second, { n: 5 }))).ok).toBe(true)
    expect(await verifier.verify(mint({ kid: 'rotate-3', privateKey: first.privateKey }))).toMatchObject({ ok: false, code: 'token_key_unknown' })
    expect(verifier.keys().map((k) => k.kid)).toEqual(['rotate-2'])
    expect(await verifier.verify(mint(first, { n: 6 }))).toMatchObject({ ok: false, code: 'token_key_unknown' })
  })

  it('keeps verifying with the last good keys through an outage', async () => {
    verifier = createTokenVerifier({ jwksUrl: idp.url, jwks: { cooldown: 0.05, cacheMaxAge: 0.05, timeout: 0.3 } })
    expect((await verifier.verify(mint(first))).ok).toBe(true)
    for (const mode of [{ kind: 'status', status: 502 }, { kind: 'body', body: 'garbage{' }, { kind: 'slow', delayMs: 1000 }] as const) {
      idp.mode = mode
      for (let i = 0; i < 3; i++) {
        await sleep(70)
        expect((await verifier.verify(mint(first, { i, mode: mode.kind }))).ok, mode.kind).toBe(true)
      }
    }
  })

  it('answers 503 (not 401) when the IdP never served a usable key: garbage JSON', async () => {
    idp.mode = { kind: 'body', body: '{"keys": [' }
    verifier = createTokenVerifier({ jwksUrl: idp.url })
    expect(await verifier.verify(mint(first))).toMatchObject({ ok: false, code: 'auth_unavailable', hint: expect.stringMatching(/127\.0\.0\.1:\d+ .*bad JSON/) })
  })

  it('answers 503 (not 401) when the IdP is slower than the timeout', async () => {
    idp.mode = { kind: 'slow', delayMs: 3000 }
    verifier = createTokenVerifier({ jwksUrl: idp.url, jwks: { timeout: 0.3 } })
    const started = Date.now()
    expect(await verifier.verify(mint(first))).toMatchObject({ ok: false, code: 'auth_unavailable', hint: expect.stringMatching(/timeout after 300ms/) })
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('an unknown-kid storm of 1000 concurrent verifies causes at most one refetch', async () => {
    verifier = createTokenVerifier({ jwksUrl: idp.url, jwks: { cooldown: 1 } })
    expect((await verifier.verify(mint(first))).ok).toBe(true)
    expect(idp.requests).toBe(1)
    // Past the cooldown, so the storm is allowed its one refetch.
    await sleep(1050)
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    const distinct = Array.from({ length: 10 }, (_, i) => mint({ kid: `unknown-${i}`, privateKey: stranger }, { i }))
    const storm = Array.from({ length: 1000 }, (_, i) => distinct[i % 10]!)
    const results = await Promise.all(storm.map((t) => verifier.verify(t)))
    expect(results.every((r) => !r.ok && r.code === 'token_key_unknown')).toBe(true)
    expect(idp.requests - 1).toBe(1)
    // And a second storm inside the new cooldown causes none.
    await Promise.all(storm.map((t) => verifier.verify(t)))
    expect(idp.requests - 1).toBe(1)
    // Legitimate traffic is unaffected.
    expect((await verifier.verify(mint(first, { after: true }))).ok).toBe(true)
  })

  it('a storm right after start-up shares the first fetch and the refetch', async () => {
    verifier = createTokenVerifier({ jwksUrl: idp.url, jwks: { cooldown: 0 } })
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    const good = Array.from({ length: 10 }, (_, i) => mint(first, { i }))
    const bad = Array.from({ length: 10 }, (_, i) => mint({ kid: 'nope', privateKey: stranger }, { i }))
    const tokens = Array.from({ length: 1000 }, (_, i) => (i % 2 ? good[i % 10]! : bad[i % 10]!))
    const results = await Promise.all(tokens.map((t) => verifier.verify(t)))
    expect(results.filter((r) => r.ok)).toHaveLength(500)
    expect(idp.requests).toBeLessThanOrEqual(2)
  })
})
