import { createLocalJWKSet, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { createTokenVerifier } from '../token/token-verifier.js'
import { createTestIssuer } from './issuer.js'

const ALGS = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const

describe('createTestIssuer', () => {
  it.each(ALGS)('mints %s tokens that a verifier built from its options accepts', async (alg) => {
    const issuer = createTestIssuer({ alg, issuer: 'https://id.test', audience: ['backend', 'admin'] })
    const verifier = createTokenVerifier(issuer.options)
    const result = await verifier.verify(issuer.sign({ roles: ['admin'] }))
    expect(result).toMatchObject({ ok: true, claims: { sub: 'user-1', iss: 'https://id.test', aud: ['backend', 'admin'], roles: ['admin'] }, header: { alg, typ: 'JWT', kid: issuer.kid } })
    if (result.ok) expect((result.claims.exp as number) - (result.claims.iat as number)).toBe(300)
    expect(issuer.options.algorithms).toEqual([alg])
  })

  it.each(['RS256', 'ES256', 'EdDSA'] as const)('exposes a %s JWKS that jose accepts', async (alg) => {
    const issuer = createTestIssuer({ alg })
    expect(issuer.jwks.keys).toHaveLength(1)
    expect(issuer.jwks.keys[0]).toMatchObject({ kid: issuer.kid, alg, use: 'sig' })
    expect(JSON.stringify(issuer.jwks)).not.toMatch(/"d"/)
    const { payload } = await jwtVerify(issuer.sign(), createLocalJWKSet(issuer.jwks as never), { issuer: issuer.issuer, audience: issuer.audience })
    expect(payload.sub).toBe('user-1')
  })

  it('has an empty JWKS for HS256 and uses a given secret', async () => {
    const issuer = createTestIssuer({ secret: 'a-shared-secret-of-at-least-32-bytes' })
    expect(issuer.jwks.keys).toEqual([])
    expect(issuer.options.secret).toBe('a-shared-secret-of-at-least-32-bytes')
    expect(() => createTestIssuer({ secret: 'short' })).toThrow(/at least 32 bytes/)
    expect(() => createTestIssuer({ alg: 'RS256', secret: 'a-shared-secret-of-at-least-32-bytes' })).toThrow(TypeError)
  })

  it('mints expired, not-yet-valid, exp-less and overridden tokens', async () => {
    const issuer = createTestIssuer()
    const verifier = createTokenVerifier({ ...issuer.options, cache: false })
    expect(await verifier.verify(issuer.sign({}, { expiresIn: -60 }))).toMatchObject({ ok: false, code: 'token_expired' })
    expect(await verifier.verify(issuer.sign({}, { expiresIn: '1h' }))).toMatchObject({ ok: true })
    expect(await verifier.verify(issuer.sign({}, { notBefore: 120 }))).toMatchObject({ ok: false, code: 'token_not_yet_valid' })
    expect(await verifier.verify(issuer.sign({}, { omitExp: true }))).toMatchObject({ ok: false, code: 'token_claim_invalid' })
    expect(await verifier.verify(issuer.sign({ aud: 'someone-else' }))).toMatchObject({ ok: false, code: 'token_audience_mismatch' })
    const anonymous = await verifier.verify(issuer.sign({ sub: undefined }))
    expect(anonymous.ok && 'sub' in anonymous.claims).toBe(false)
    expect(anonymous.ok).toBe(true)
  })

  it('signs with its own key whatever the header claims (for attack tests)', async () => {
    const issuer = createTestIssuer({ alg: 'RS256' })
    const verifier = createTokenVerifier(issuer.options)
    expect(await verifier.verify(issuer.sign({}, { header: { alg: 'HS256' } }))).toMatchObject({ ok: false, code: 'token_algorithm_rejected' })
    expect(await verifier.verify(issuer.sign({}, { header: { kid: 'other' } }))).toMatchObject({ ok: false, code: 'token_key_unknown' })
  })

  it('gives each issuer a fresh key', async () => {
    const a = createTestIssuer({ alg: 'ES256' })
    const b = createTestIssuer({ alg: 'ES256' })
    expect(await createTokenVerifier(a.options).verify(b.sign())).toMatchObject({ ok: false, code: 'token_signature_invalid' })
  })
})
