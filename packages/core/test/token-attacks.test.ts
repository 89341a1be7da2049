// Attacks on JWT verification, each tried for real against createTokenVerifier. Every test
// builds the hostile token the way an attacker would (raw bytes, own keys, own servers).
import { createHmac, generateKeyPairSync, sign } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestIssuer } from '../src/testing/issuer.js'
import { createTokenVerifier, type TokenResult } from '../src/token/token-verifier.js'
import { type JwksServer, startJwksServer } from './fixtures/jwks-server.js'

const ISSUER = 'https://id.example.com'
const AUDIENCE = 'backend'
const now = () => Math.floor(Date.now() / 1000)
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const goodClaims = () => ({ sub: 'user-1', iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 300 })

const victim = generateKeyPairSync('rsa', { modulusLength: 2048 })
const victimJwk = { ...victim.publicKey.export({ format: 'jwk' }), kid: 'victim-1', alg: 'RS256', use: 'sig' }
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 })
const attackerJwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'victim-1', alg: 'RS256' }
const SPKI_PEM = String(victim.publicKey.export({ type: 'spki', format: 'pem' }))
const PKCS1_PEM = String(victim.publicKey.export({ type: 'pkcs1', format: 'pem' }))

function hmacToken(key: string | Buffer, header: Record<string, unknown>, claims: Record<string, unknown> = goodClaims()): string {
  const input = `${b64(header)}.${b64(claims)}`
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`
}

function rsaToken(privateKey: typeof victim.privateKey, header: Record<string, unknown>, claims: Record<string, unknown> = goodClaims()): string {
  const input = `${b64(header)}.${b64(claims)}`
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
}

/** A token signed by the victim's issuer over the exact payload text given (for raw JSON numbers). */
function rawPayloadToken(payloadJson: string): string {
  const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(payloadJson)}`
  return `${input}.${sign('sha256', Buffer.from(input), victim.privateKey).toString('base64url')}`
}

function refused(result: TokenResult, code: string) {
  expect(result.ok, result.ok ? 'the attack was ACCEPTED' : result.hint).toBe(false)
  if (!result.ok) expect(result.code, result.hint).toBe(code)
}

const pemVerifier = createTokenVerifier({ publicKey: SPKI_PEM, issuer: ISSUER, audience: AUDIENCE })
const legit = () => rsaToken(victim.privateKey, { alg: 'RS256', typ: 'JWT' })

describe('attacks on token verification', () => {
  let jwks: JwksServer
  let evil: JwksServer
  let jwksVerifier: ReturnType<typeof createTokenVerifier>

  beforeAll(async () => {
    jwks = await startJwksServer({ keys: [victimJwk] })
    evil = await startJwksServer({ keys: [attackerJwk] })
    jwksVerifier = createTokenVerifier({ jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE })
  })
  afterAll(async () => {
    await jwksVerifier.close()
    await Promise.all([jwks.close(), evil.close()])
  })

  it('control: a legitimate token verifies with the PEM and with the JWKS', async () => {
    expect((await pemVerifier.verify(legit())).ok).toBe(true)
    expect((await jwksVerifier.verify(rsaToken(victim.privateKey, { alg: 'RS256', kid: 'victim-1' }))).ok).toBe(true)
  })

  it('alg none, in every casing, with and without a signature', async () => {
    const hmacVerifier = createTokenVerifier({ secret: 'a-shared-secret-of-at-least-32-bytes', issuer: ISSUER, audience: AUDIENCE })
    for (const alg of ['none', 'None', 'NONE', 'nOnE', 'NoNe', 'nONE', 'noNE']) {
      for (const signature of ['', 'AAAA', legit().split('.')[2]!]) {
        const forged = `${b64({ alg, typ: 'JWT' })}.${b64(goodClaims())}.${signature}`
        for (const v of [pemVerifier, jwksVerifier, hmacVerifier]) refused(await v.verify(forged), 'token_algorithm_rejected')
      }
    }
  })

  it('HS256 signed with the RSA public key (PEM, PKCS#1, JWK, with and without a trailing newline)', async () => {
    const keys: Array<string | Buffer> = [SPKI_PEM, SPKI_PEM.trim(), PKCS1_PEM, PKCS1_PEM.trim(), JSON.stringify(victimJwk), victim.publicKey.export({ type: 'spki', format: 'der' })]
    const before = jwks.requests
    for (const key of keys) {
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        const forged = hmacToken(key, { alg, typ: 'JWT', kid: 'victim-1' })
        refused(await pemVerifier.verify(forged), 'token_algorithm_rejected')
        refused(await jwksVerifier.verify(forged), 'token_algorithm_rejected')
      }
    }
    // Refused before any key was looked up remotely.
    expect(jwks.requests).toBe(before)
    // Even when the operator lists HS256 next to the public key, the PEM is never an HMAC secret.
    expect(() => createTokenVerifier({ publicKey: SPKI_PEM, algorithms: ['RS256', 'HS256'] })).toThrow(/HS256 verifies with jwt\.secret/)
    expect(() => createTokenVerifier({ secret: SPKI_PEM })).toThrow(/looks like a PEM key/)
  })

  it('jwk header injection: the attacker embeds their own public key', async () => {
    const forged = rsaToken(attacker.privateKey, { alg: 'RS256', kid: 'victim-1', jwk: attackerJwk })
    refused(await pemVerifier.verify(forged), 'token_signature_invalid')
    refused(await jwksVerifier.verify(forged), 'token_signature_invalid')
  })

  it('jku / x5u header injection: the attacker points at their own key server', async () => {
    const forged = rsaToken(attacker.privateKey, { alg: 'RS256', kid: 'attacker-kid', jku: evil.url, x5u: evil.url })
    refused(await jwksVerifier.verify(forged), 'token_key_unknown')
    const sameKid = rsaToken(attacker.privateKey, { alg: 'RS256', kid: 'victim-1', jku: evil.url })
    refused(await jwksVerifier.verify(sameKid), 'token_signature_invalid')
    refused(await pemVerifier.verify(sameKid), 'token_signature_invalid')
    expect(evil.requests).toBe(0)
  })

  it('x5c header injection: a certificate chain in the header is not a key source', async () => {
    const forged = rsaToken(attacker.privateKey, { alg: 'RS256', x5c: [attacker.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')] })
    refused(await pemVerifier.verify(forged), 'token_signature_invalid')
  })

  it('unknown crit: a critical extension gatehouse does not understand', async () => {
    for (const crit of [['exp'], ['http://evil.example/ext'], ['b64'], [], 'exp', [1]]) {
      refused(await pemVerifier.verify(rsaToken(victim.privateKey, { alg: 'RS256', crit, b64: true, 'http://evil.example/ext': 1 })), 'token_claim_invalid')
    }
  })

  it('exp of 0, NaN, a string and 1e400 (Infinity)', async () => {
    const base = `"sub":"user-1","iss":"${ISSUER}","aud":"${AUDIENCE}"`
    refused(await pemVerifier.verify(rawPayloadToken(`{${base},"exp":0}`)), 'token_expired')
    refused(await pemVerifier.verify(rawPayloadToken(`{${base},"exp":NaN}`)), 'credentials_malformed') // not JSON
    refused(await pemVerifier.verify(rawPayloadToken(`{${base},"exp":null}`)), 'token_claim_invalid') // what JSON.stringify(NaN) gives
    refused(await pemVerifier.verify(rawPayloadToken(`{${base},"exp":"99999999999"}`)), 'token_claim_invalid')
    refused(await pemVerifier.verify(rawPayloadToken(`{${base},"exp":1e400}`)), 'token_claim_invalid')
    refused(await pemVerifier.verify(rawPayloadToken(`{${base},"exp":9e9,"nbf":-1e400}`)), 'token_claim_invalid')
    refused(await pemVerifier.verify(rawPayloadToken(`{${base},"exp":9e9,"iat":1e400}`)), 'token_claim_invalid')
    refused(await pemVerifier.verify(rawPayloadToken(`{${base},"exp":[9e9]}`)), 'token_claim_invalid')
  })

  it('iss as an array holding the expected issuer', async () => {
    refused(await pemVerifier.verify(rsaToken(victim.privateKey, { alg: 'RS256' }, { ...goodClaims(), iss: [ISSUER] })), 'token_issuer_mismatch')
    refused(await pemVerifier.verify(rsaToken(victim.privateKey, { alg: 'RS256' }, { ...goodClaims(), iss: ['https://evil.example', ISSUER] })), 'token_issuer_mismatch')
  })

  it('aud as an array with one good value: accepted only when every member is a string', async () => {
    // RFC 7519 §4.1.3: an array aud is valid when it names this service among others.
    expect((await pemVerifier.verify(rsaToken(victim.privateKey, { alg: 'RS256' }, { ...goodClaims(), aud: ['other', AUDIENCE] }))).ok).toBe(true)
    refused(await pemVerifier.verify(rsaToken(victim.privateKey, { alg: 'RS256' }, { ...goodClaims(), aud: [AUDIENCE, { evil: true }] })), 'token_claim_invalid')
    refused(await pemVerifier.verify(rsaToken(victim.privateKey, { alg: 'RS256' }, { ...goodClaims(), aud: [`${AUDIENCE} `] })), 'token_audience_mismatch')
    refused(await pemVerifier.verify(rsaToken(victim.privateKey, { alg: 'RS256' }, { ...goodClaims(), aud: { 0: AUDIENCE, length: 1 } })), 'token_claim_invalid')
  })

  it('signature stripped', async () => {
    const [h, p] = legit().split('.')
    refused(await pemVerifier.verify(`${h}.${p}.`), 'token_signature_invalid')
    refused(await pemVerifier.verify(`${h}.${p}`), 'credentials_malformed')
  })

  it('extra segments', async () => {
    const t = legit()
    for (const forged of [`${t}.`, `${t}.${t.split('.')[2]}`, `${t}.e30`, `${t}..`, `e30.${t}`]) refused(await pemVerifier.verify(forged), 'credentials_malformed')
  })

  it('whitespace, padding and base64 characters in any segment', async () => {
    const parts = legit().split('.')
    for (let segment = 0; segment < 3; segment++) {
      for (const change of [(s: string) => `${s.slice(0, 8)} ${s.slice(8)}`, (s: string) => `${s.slice(0, 8)}\r\n${s.slice(8)}`, (s: string) => `${s}\t`, (s: string) => ` ${s}`, (s: string) => `${s}=`, (s: string) => `${s}==`, (s: string) => s.replace(/-/g, '+').replace(/_/g, '/')]) {
        const copy = [...parts]
        copy[segment] = change(copy[segment]!)
        if (copy.join('.') === parts.join('.')) continue
        refused(await pemVerifier.verify(copy.join('.')), 'credentials_malformed')
      }
    }
  })

  it('a 1 MiB token is refused quickly, before parsing, with a bounded hint', async () => {
    const huge = `${b64({ alg: 'RS256' })}.${b64({ ...goodClaims(), pad: 'x'.repeat(1024 * 1024) })}.${legit().split('.')[2]}`
    const start = performance.now()
    const result = await pemVerifier.verify(huge)
    refused(result, 'credentials_malformed')
    expect(performance.now() - start).toBeLessThan(100)
    expect(!result.ok && result.hint.length).toBeLessThan(200)
    // With the bound raised, a megabyte claim value still yields a bounded hint.
    const big = createTokenVerifier({ publicKey: SPKI_PEM, issuer: ISSUER, maxTokenBytes: 16 * 1024 * 1024 })
    const hostile = rsaToken(victim.privateKey, { alg: 'RS256' }, { ...goodClaims(), iss: `evil${'\u0007\n'.repeat(500_000)}` })
    const mismatch = await big.verify(hostile)
    refused(mismatch, 'token_issuer_mismatch')
    expect(!mismatch.ok && mismatch.hint.length).toBeLessThan(300)
  })

  it('ECDSA "psychic signature" (r = s = 0, CVE-2022-21449) and other zero signatures', async () => {
    const es = createTestIssuer({ alg: 'ES256' })
    const v = createTokenVerifier(es.options)
    const [h, p] = es.sign().split('.')
    refused(await v.verify(`${h}.${p}.${Buffer.alloc(64).toString('base64url')}`), 'token_signature_invalid')
    const ed = createTestIssuer({ alg: 'EdDSA' })
    const [eh, ep] = ed.sign().split('.')
    refused(await createTokenVerifier(ed.options).verify(`${eh}.${ep}.${Buffer.alloc(64).toString('base64url')}`), 'token_signature_invalid')
  })

  it('algorithm swap with the same key: an RS256 signature relabelled PS256 or RS512', async () => {
    const [, p, s] = legit().split('.')
    for (const alg of ['PS256', 'RS512', 'RS384']) refused(await pemVerifier.verify(`${b64({ alg })}.${p}.${s}`), 'token_signature_invalid')
  })

  it('prototype pollution through claims does not grant anything', async () => {
    const t = rawPayloadToken(`{"sub":"user-1","iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${now() + 60},"__proto__":{"roles":["admin"],"isAdmin":true}}`)
    const result = await pemVerifier.verify(t)
    expect(result.ok).toBe(true)
    if (result.ok) {
      expect(result.claims.roles).toBeUndefined()
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
    }
  })

  it('duplicate header members resolve like every JSON parser (last wins), so alg none cannot hide', async () => {
    const header = b64('{"alg":"RS256","alg":"none"}')
    const [, p, s] = legit().split('.')
    refused(await pemVerifier.verify(`${header}.${p}.${s}`), 'token_algorithm_rejected')
  })

  it('hostile kid values are only looked up, never interpreted', async () => {
    for (const kid of ['../../../../dev/null', "' OR 1=1 --", '__proto__', 'constructor', '\u0000', 'x'.repeat(4000)]) {
      refused(await jwksVerifier.verify(rsaToken(attacker.privateKey, { alg: 'RS256', kid })), 'token_key_unknown')
    }
  })

  it('cache confusion: a token that reuses a cached token’s signature is verified in full', async () => {
    const cached = createTokenVerifier({ publicKey: SPKI_PEM, issuer: ISSUER, audience: AUDIENCE })
    const original = legit()
    expect(await cached.verify(original)).toMatchObject({ ok: true, cached: false })
    expect(await cached.verify(original)).toMatchObject({ ok: true, cached: true })
    const [, , signature] = original.split('.')
    const elevated = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ ...goodClaims(), sub: 'admin', roles: ['admin'] })}.${signature}`
    refused(await cached.verify(elevated), 'token_signature_invalid')
    expect(await cached.verify(original)).toMatchObject({ ok: true, cached: true })
  })

  it('a signature bit flip anywhere is refused', async () => {
    const t = legit()
    const sig = Buffer.from(t.split('.')[2]!, 'base64url')
    for (let bit = 0; bit < sig.length * 8; bit += 97) {
      const flipped = Buffer.from(sig)
      flipped[bit >> 3] = flipped[bit >> 3]! ^ (1 << (bit & 7))
      refused(await pemVerifier.verify(`${t.split('.').slice(0, 2).join('.')}.${flipped.toString('base64url')}`), 'token_signature_invalid')
    }
  })
})
