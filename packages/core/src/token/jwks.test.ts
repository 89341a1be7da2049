import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type JwksServer, startJwksServer } from '../../test/fixtures/jwks-server.js'
import { createTokenVerifier, type TokenResult, type TokenVerifier } from './token-verifier.js'

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function keyPair(kid: string, type: 'rsa' | 'ec' = 'rsa') {
  const pair = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const alg = type === 'rsa' ? 'RS256' : 'ES256'
  return { kid, alg, privateKey: pair.privateKey, jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } }
}

function token(key: { kid: string; alg: string; privateKey: KeyObject }, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: key.alg, kid: key.kid, ...header })}.${b64({ sub: 'u', iat: now, exp: now + 300, ...claims })}`
  const signature = sign('sha256', Buffer.from(input), key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey)
  return `${input}.${signature.toString('base64url')}`
}

function expectFailure(result: TokenResult, code: string, hint?: RegExp) {
  expect(result.ok, result.ok ? 'accepted' : result.hint).toBe(false)
  if (result.ok) return
  expect(result.code, result.hint).toBe(code)
  if (hint) expect(result.hint).toMatch(hint)
}

const k1 = keyPair('k1')
const k2 = keyPair('k2')
const e1 = keyPair('e1', 'ec')

describe('JWKS', () => {
  let server: JwksServer
  const verifiers: TokenVerifier[] = []
  const verifier = (jwks: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => {
    const v = createTokenVerifier({ jwksUrl: server.url, jwks: { cooldown: 0.3, timeout: 0.5, ...jwks }, ...extra })
    verifiers.push(v)
    return v
  }

  beforeEach(async () => {
    server = await startJwksServer({ keys: [k1.jwk] })
  })
  afterEach(async () => {
    await Promise.all(verifiers.splice(0).map((v) => v.close()))
    await server.close()
  })

  it('fetches lazily, once for concurrent first requests, and lists the fetched keys', async () => {
    const v = verifier()
    expect(server.requests).toBe(0)
    expect(v.keys()).toEqual([])
    const results = await Promise.all(Array.from({ length: 50 }, () => v.verify(token(k1))))
    expect(results.every((r) => r.ok)).toBe(true)
    expect(server.requests).toBe(1)
    expect(v.keys()).toEqual([{ fingerprint: expect.stringMatching(/^sha256:/), kind: 'jwks', algorithms: ['RS256'], kid: 'k1', source: 'jwt.jwksUrl kid=k1' }])
  })

  it('refuses an HS256 token before any fetch', async () => {
    const v = verifier()
    const input = `${b64({ alg: 'HS256', kid: 'k1' })}.${b64({ sub: 'u', exp: 9e9 })}`
    const forged = `${input}.${createHmac('sha256', JSON.stringify(k1.jwk)).update(input).digest('base64url')}`
    expectFailure(await v.verify(forged), 'token_algorithm_rejected', /HMAC/)
    expect(server.requests).toBe(0)
  })

  it('refuses an algorithm outside jwt.algorithms before any fetch', async () => {
    const v = verifier({}, { algorithms: ['RS256'] })
    expectFailure(await v.verify(token(e1)), 'token_algorithm_rejected')
    expect(server.requests).toBe(0)
  })

  it('refetches for an unknown kid at most once per cooldown, and picks up rotated keys', async () => {
    const v = verifier({ cooldown: 0.6 })
    expect((await v.verify(token(k1))).ok).toBe(true)
    expect(server.requests).toBe(1)
    server.jwks = { keys: [k1.jwk, k2.jwk] }
    // Inside the cooldown: no fetch, and the hint says when one is allowed.
    expectFailure(await v.verify(token(k2)), 'token_key_unknown', /token kid 'k2' matches no key for RS256 \(known kids: \['k1'\] in the JWKS at 127\.0\.0\.1:\d+, fetched \S+ ago; another fetch for an unknown kid is allowed in \S+\)/)
    expect(server.requests).toBe(1)
    await sleep(650)
    expect((await v.verify(token(k2))).ok).toBe(true)
    expect(server.requests).toBe(2)
    // A bad signature with a known kid is not a reason to fetch.
    await sleep(650)
    const forged = token({ ...k2, privateKey: k1.privateKey })
    expectFailure(await v.verify(forged), 'token_signature_invalid')
    expect(server.requests).toBe(2)
  })

  it('keeps the last good keys while the identity provider is down', async () => {
    const v = verifier({ cacheMaxAge: 0.05 })
    expect((await v.verify(token(k1))).ok).toBe(true)
    server.mode = { kind: 'status', status: 503 }
    for (let i = 0; i < 5; i++) {
      await sleep(80)
      expect((await v.verify(token(k1, { jti: String(i) }))).ok).toBe(true)
    }
    expect(server.requests).toBeGreaterThan(1)
    // An unknown kid during the outage: 401 naming the failed refresh, not a 503.
    await sleep(350)
    expectFailure(await v.verify(token(k2)), 'token_key_unknown', /last refresh failed: HTTP 503/)
  })

  it.each([
    [{ kind: 'status', status: 500 } as const, /127\.0\.0\.1:\d+ \(jwt\.jwksUrl\): HTTP 500/],
    [{ kind: 'body', body: '<html>not json' } as const, /bad JSON/],
    [{ kind: 'body', body: '{"keys": "nope"}' } as const, /no 'keys' array/],
    [{ kind: 'body', body: '{"keys": []}' } as const, /no usable key in the JWK Set \(the set is empty\)/],
    [{ kind: 'redirect', location: 'https://elsewhere.example/jwks' } as const, /HTTP 302 \(redirects are not followed/],
    [{ kind: 'slow', delayMs: 2000 } as const, /timeout after 500ms/],
    [{ kind: 'body', body: `{"keys":[],"pad":"${'x'.repeat(1024 * 1024)}"}` } as const, /over the 1 MiB limit/],
    [{ kind: 'stream', bytes: 8 * 1024 * 1024 } as const, /response over the 1 MiB limit/],
  ])('answers 503 auth_unavailable with no usable key: %j', async (mode, hint) => {
    server.mode = mode
    const v = verifier()
    const result = await v.verify(token(k1))
    expectFailure(result, 'auth_unavailable', hint)
    expect(!result.ok && result.hint).toMatch(/keeps the last good keys/)
  })

  it('answers 503 when the JWKS host refuses connections', async () => {
    const url = server.url
    await server.close()
    const v = createTokenVerifier({ jwksUrl: url })
    verifiers.push(v)
    expectFailure(await v.verify(token(k1)), 'auth_unavailable', /network error \(ECONNREFUSED\)/)
    server = await startJwksServer()
  })

  it('retries a failed first fetch at most once a second while it has no key', async () => {
    server.mode = { kind: 'status', status: 500 }
    const v = verifier({ cooldown: 30 })
    for (let i = 0; i < 20; i++) expectFailure(await v.verify(token(k1)), 'auth_unavailable')
    expect(server.requests).toBe(1)
    server.mode = { kind: 'ok' }
    await sleep(1050)
    expect((await v.verify(token(k1))).ok).toBe(true)
    expect(server.requests).toBe(2)
  })

  it('skips unusable keys in the set and uses the rest', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' })
    server.jwks = { keys: [{ kty: 'oct', k: 'AAAA', kid: 'sym' }, { ...weak, kid: 'weak' }, { ...k2.jwk, use: 'enc' }, 'junk', k1.jwk] }
    const v = verifier()
    expect((await v.verify(token(k1))).ok).toBe(true)
    expect(v.keys().map((k) => k.kid)).toEqual(['k1'])
    // A token naming a skipped key is told why that key cannot be used.
    const weakToken = token({ kid: 'weak', alg: 'RS256', privateKey: k1.privateKey })
    await sleep(350)
    expectFailure(await v.verify(weakToken), 'token_key_unknown', /token kid 'weak' is in the JWKS at 127\.0\.0\.1:\d+, but that key cannot be used: it is a 1024-bit RSA key/)
    // The HMAC forgery with the oct key's bytes is still refused.
    const input = `${b64({ alg: 'HS256', kid: 'sym' })}.${b64({ sub: 'u', exp: 9e9 })}`
    expectFailure(await v.verify(`${input}.${createHmac('sha256', Buffer.from('AAAA', 'base64url')).update(input).digest('base64url')}`), 'token_algorithm_rejected')
  })

  it('refetches (once) when no key fits the token alg, then reports token_key_unknown', async () => {
    const v = verifier()
    expect((await v.verify(token(k1))).ok).toBe(true)
    await sleep(350)
    const noKid = token({ ...e1, kid: undefined as unknown as string })
    expectFailure(await v.verify(noKid), 'token_key_unknown', /no key verifies ES256/)
    expect(server.requests).toBe(2)
  })

  it('forgets cached tokens when a refetch drops the key that verified them', async () => {
    const v = verifier()
    const t = token(k1)
    expect(await v.verify(t)).toMatchObject({ ok: true, cached: false })
    expect(await v.verify(t)).toMatchObject({ ok: true, cached: true })
    server.jwks = { keys: [k2.jwk] }
    await sleep(350)
    expect((await v.verify(token(k2))).ok).toBe(true)
    expectFailure(await v.verify(t), 'token_key_unknown')
  })

  it('close() aborts a fetch in flight and stops fetching', async () => {
    server.mode = { kind: 'slow', delayMs: 5000 }
    const v = createTokenVerifier({ jwksUrl: server.url, jwks: { timeout: 10 } })
    const started = Date.now()
    const pending = v.verify(token(k1))
    await sleep(50)
    await v.close()
    expectFailure(await pending, 'auth_unavailable', /closed/)
    expect(Date.now() - started).toBeLessThan(2000)
    const requests = server.requests
    expectFailure(await v.verify(token(k1)), 'auth_unavailable')
    expect(server.requests).toBe(requests)
    await v.close()
  })

  it('verifies with static public keys and a JWKS together', async () => {
    const v = verifier({}, { publicKey: k2.jwk })
    expect((await v.verify(token(k2))).ok).toBe(true)
    expect(server.requests).toBe(0)
    expect((await v.verify(token(k1))).ok).toBe(true)
    expect(server.requests).toBe(1)
  })

  it('uses several JWKS URLs as one set', async () => {
    const other = await startJwksServer({ keys: [k2.jwk] })
    try {
      const v = createTokenVerifier({ jwksUrl: [server.url, other.url] })
      verifiers.push(v)
      expect((await v.verify(token(k1))).ok).toBe(true)
      expect((await v.verify(token(k2))).ok).toBe(true)
      expect(v.keys().map((k) => k.source)).toEqual(['jwt.jwksUrl[0] kid=k1', 'jwt.jwksUrl[1] kid=k2'])
    } finally {
      await other.close()
    }
  })
})
