// Fault injection against a real JWKS server (node:http on 127.0.0.1) behind a real Express
// server: the identity provider is down, slow, hanging, resetting connections, answering garbage,
// or rotating its keys mid-load. While no key is known, tokens get 503 auth_unavailable (never an
// allow, never a 401 that would log the user out for the provider's fault); once keys are known
// they keep working through every fault; a rotated-out key stops verifying at once, cache
// included; and the service recovers without a restart.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Auth, createAuth } from '@gatehouse/core'
import { createTestIssuer } from '@gatehouse/core/testing'
import { type Idp, type IdpMode, startIdp } from './idp.js'
import { eventually, runLoop, sleep, summary } from './load.js'
import { AUDIENCE, CLAIMS, ISSUER, PUBLIC, RULES, unsignedToken } from './policy.js'
import { codeOf, keepAliveClient, type Running, startExpress } from './servers.js'
import { watchProcess } from './unhandled.js'

const watch = watchProcess()
const keyA = createTestIssuer({ alg: 'ES256', issuer: ISSUER, audience: AUDIENCE, kid: 'key-a' })
const keyB = createTestIssuer({ alg: 'ES256', issuer: ISSUER, audience: AUDIENCE, kid: 'key-b' })
/** Signs with another key under kid `key-a`: must never verify. */
const forger = createTestIssuer({ alg: 'ES256', issuer: ISSUER, audience: AUDIENCE, kid: 'key-a' })
const TIMEOUT_MS = 500

const tokenA = keyA.sign(CLAIMS.user, { expiresIn: '1h' })
const tokenB = keyB.sign(CLAIMS.user, { expiresIn: '1h' })
const forged = forger.sign(CLAIMS.admin, { expiresIn: '1h' })
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

function jwksAuth(url: string): Auth {
  return createAuth({
    jwt: { jwksUrl: url, issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: { timeout: `${TIMEOUT_MS / 1000}s`, cooldown: '0.2s', cacheMaxAge: '10m' } },
    public: PUBLIC,
    rules: RULES,
  })
}

let idp: Idp
let auth: Auth
let server: Running
let client: ReturnType<typeof keepAliveClient>

beforeEach(async () => {
  idp = await startIdp({ keys: [...keyA.jwks.keys] })
  auth = jwksAuth(idp.url)
  server = await startExpress(auth)
  client = keepAliveClient(server.url, 16)
})
afterEach(async () => {
  client.close()
  await server.close()
  await auth.close()
  await idp.close()
})
afterAll(async () => {
  // Late fetch completions and aborted bodies land after the tests; give them a moment.
  await sleep(200)
  watch.stop()
  expect(watch.events).toEqual([])
})

async function get(token?: string, path = '/api/me') {
  const started = performance.now()
  const res = await client.send('GET', path, token === undefined ? {} : bearer(token))
  return { status: res.status, code: codeOf(res.body), ms: performance.now() - started, body: res.body }
}

describe('no key known yet (cold start)', () => {
  it('IdP down: every token gets 503 auth_unavailable, keyless refusals stay 401, and the first fetch after it returns lets tokens in', async () => {
    await idp.down()
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => get(i % 2 ? tokenA : forged)))
    expect(burst.map((r) => `${r.status} ${r.code}`)).toEqual(Array(40).fill('503 auth_unavailable'))
    // Refusals that need no key do not depend on the provider.
    expect(await get()).toMatchObject({ status: 401, code: 'credentials_missing' })
    expect(await get('not-a-jwt')).toMatchObject({ status: 401, code: 'credentials_malformed' })
    expect(await get(unsignedToken(CLAIMS.admin))).toMatchObject({ status: 401, code: 'token_algorithm_rejected' })
    expect(await get(undefined, '/health')).toMatchObject({ status: 200 })

    await idp.up()
    expect(await eventually(async () => (await get(tokenA)).status === 200)).toBe(true)
    const after = await Promise.all(Array.from({ length: 20 }, () => get(tokenA)))
    expect(after.map((r) => r.status)).toEqual(Array(20).fill(200))
    expect(await get(forged, '/api/admin/users')).toMatchObject({ status: 401, code: 'token_signature_invalid' })
  })

  it.each<[string, IdpMode]>([
    ['slow beyond the timeout', { kind: 'slow', delayMs: 5000 }],
    ['hanging mid-body', { kind: 'hang' }],
  ])('IdP %s: each request waits about the jwks timeout, then 503; recovery when it is fast again', async (_name, mode) => {
    idp.mode = mode
    const burst = await Promise.all(Array.from({ length: 20 }, () => get(tokenA)))
    for (const r of burst) {
      expect(`${r.status} ${r.code}`).toBe('503 auth_unavailable')
      expect(r.ms).toBeLessThan(TIMEOUT_MS + 1500)
    }
    // Concurrent requests share one fetch instead of piling onto the provider.
    expect(idp.requests).toBeLessThanOrEqual(2)
    idp.mode = { kind: 'ok' }
    expect(await eventually(async () => (await get(tokenA)).status === 200)).toBe(true)
  })

  it.each<[string, IdpMode]>([
    ['not JSON', { kind: 'body', body: '<html>maintenance</html>', type: 'text/html' }],
    ['JSON without keys', { kind: 'body', body: '{"keys":5}' }],
    ['JSON null', { kind: 'body', body: 'null' }],
    ['keys that are not JWKs', { kind: 'body', body: '{"keys":[{"kty":"EC"},{"kty":"oct","k":"c2VjcmV0"},"x",null]}' }],
    ['an RSA key of 512 bits under the expected kid', { kind: 'body', body: JSON.stringify({ keys: [{ kty: 'RSA', kid: 'key-a', n: 'sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw', e: 'AQAB' }] }) }],
    ['2 MiB of whitespace', { kind: 'body', body: `{"keys":[]${' '.repeat(2 * 1024 * 1024)}}` }],
    ['HTTP 500', { kind: 'status', status: 500 }],
    ['HTTP 404', { kind: 'status', status: 404 }],
    ['a redirect to an attacker', { kind: 'status', status: 302, location: 'https://evil.example.com/jwks' }],
    ['connection resets', { kind: 'reset' }],
  ])('IdP answering %s: 503, never an allow, even for a forged token', async (_name, mode) => {
    idp.mode = mode
    const results = await Promise.all([get(tokenA), get(forged, '/api/admin/users'), get(tokenB)])
    expect(results.map((r) => `${r.status} ${r.code}`)).toEqual(Array(3).fill('503 auth_unavailable'))
  })
})

describe('keys known (warm cache)', () => {
  const faults: Array<[string, () => Promise<void> | void]> = [
    ['down', () => idp.down()],
    ['slow', () => void (idp.mode = { kind: 'slow', delayMs: 5000 })],
    ['hanging', () => void (idp.mode = { kind: 'hang' })],
    ['resetting', () => void (idp.mode = { kind: 'reset' })],
    ['answering 503', () => void (idp.mode = { kind: 'status', status: 503 })],
    ['answering garbage', () => void (idp.mode = { kind: 'body', body: '{"keys":"rotated"}' })],
    ['serving an empty set', () => void (idp.jwks = { keys: [] })],
  ]

  it.each(faults)('IdP %s: known tokens pass without waiting; unknown kids get 401 token_key_unknown, never 503 or an allow', async (_name, fault) => {
    expect((await get(tokenA)).status).toBe(200)
    await fault()
    await sleep(250) // past the cooldown (0.2 s), so the unknown kid below does cause a fetch
    const results = await Promise.all([...Array.from({ length: 20 }, () => get(tokenA)), get(tokenB), get(forged, '/api/admin/users')])
    const good = results.slice(0, 20)
    expect(good.map((r) => r.status)).toEqual(Array(20).fill(200))
    // They are verified with the cached keys, not held up behind the fetch for the unknown kid.
    for (const r of good) expect(r.ms).toBeLessThan(TIMEOUT_MS)
    expect(results[20]).toMatchObject({ status: 401, code: 'token_key_unknown' })
    expect(results[21]).toMatchObject({ status: 401, code: 'token_signature_invalid' })
  })
})

describe('key rotation under load', () => {
  it('a rotated-out key stops verifying as soon as the new set is fetched, verified-token cache included; the new key starts working', async () => {
    // Warm: token A verified and cached.
    expect((await get(tokenA)).status).toBe(200)
    let rotatedAt = Number.POSITIVE_INFINITY
    const loop = runLoop(server.url, 8, (i) => ({ kind: i % 2 ? 'A' : 'B', path: '/api/me', headers: bearer(i % 2 ? tokenA : tokenB) }))
    await sleep(300)
    idp.jwks = { keys: [...keyB.jwks.keys] }
    await sleep(800)
    const shots = await loop.stop()
    rotatedAt = Math.min(...shots.filter((s) => s.kind === 'B' && s.status === 200).map((s) => s.answered))
    const counts = summary(shots)
    expect(Number.isFinite(rotatedAt), JSON.stringify(counts)).toBe(true)
    // Before the new set: A passes, B is unknown. After: B passes, A is unknown. Nothing else.
    for (const s of shots) {
      const outcome = `${s.status} ${s.code}`.trim()
      if (s.sent > rotatedAt) expect(outcome, `${s.kind} sent after the rotation`).toBe(s.kind === 'B' ? '200' : '401 token_key_unknown')
      else expect(['200', '401 token_key_unknown'], `${s.kind} before the rotation`).toContain(outcome)
    }
    expect(counts.A?.['200'], JSON.stringify(counts)).toBeGreaterThan(0)
    expect(counts.A?.['401 token_key_unknown'], JSON.stringify(counts)).toBeGreaterThan(0)
    expect(counts.B?.['200'], JSON.stringify(counts)).toBeGreaterThan(0)
  })

  it('the IdP killed and restarted mid-load: no 5xx for known keys, no allow for forged tokens, and a rotation after it is picked up', async () => {
    expect((await get(tokenA)).status).toBe(200)
    const loop = runLoop(server.url, 8, (i) => (i % 3 === 0 ? { kind: 'forged', path: '/api/admin/users', headers: bearer(forged) } : { kind: 'good', path: '/api/me', headers: bearer(tokenA) }))
    await sleep(200)
    await idp.down()
    await sleep(600)
    await idp.up()
    await sleep(300)
    const shots = await loop.stop()
    const counts = summary(shots)
    expect(Object.keys(counts.good ?? {}), JSON.stringify(counts)).toEqual(['200'])
    expect(Object.keys(counts.forged ?? {}), JSON.stringify(counts)).toEqual(['401 token_signature_invalid'])
    // Still fetching: a token under a new kid is accepted once the provider serves it.
    idp.jwks = { keys: [...keyA.jwks.keys, ...keyB.jwks.keys] }
    expect(await eventually(async () => (await get(tokenB)).status === 200)).toBe(true)
  })
})
