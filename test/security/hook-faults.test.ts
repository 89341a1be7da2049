// Fault injection in the application's hooks, through real Express and Fastify servers: a
// principal hook that throws, rejects, hangs past hookTimeout, answers after the timeout
// (with a principal that must not be used), or returns garbage; and a revocation hook that throws
// or hangs. Every fault is 503 auth_unavailable within its bound, never an allow; a null
// principal is 401 principal_rejected; nothing rejects unhandled; no timer outlives its request;
// the service recovers as soon as the hook does, without a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Auth, createAuth, type JWTPayload, type Principal, type PrincipalInput } from '@gatehouse/core'
import { request } from '@gatehouse/core/testing'
import { sleep } from './load.js'
import { CLAIMS, issuer, policyOptions } from './policy.js'
import { codeOf, keepAliveClient, type Running, startExpress, startFastify } from './servers.js'
import { watchProcess } from './unhandled.js'

const TIMEOUT_MS = 200
const watch = watchProcess()

type PrincipalMode = 'ok' | 'null' | 'throw' | 'throw-string' | 'reject' | 'hang' | 'late-admin' | 'late-reject' | 'garbage' | 'thenable-throws'
type RevokedMode = 'no' | 'yes' | 'throw' | 'reject' | 'hang'

const state: { principal: PrincipalMode; revoked: RevokedMode; lateSettled: number } = { principal: 'ok', revoked: 'no', lateSettled: 0 }

function principalHook({ claims }: PrincipalInput): Principal | null | Promise<Principal | null> {
  const id = String(claims?.sub)
  const roles = (claims?.roles as string[] | undefined) ?? []
  switch (state.principal) {
    case 'ok':
      return Promise.resolve({ id, roles, scopes: [] })
    case 'null':
      return Promise.resolve(null)
    case 'throw':
      throw new Error('connection pool exhausted')
    case 'throw-string':
      // What careless code throws: not an Error.
      throw 'ECONNREFUSED'
    case 'reject':
      return Promise.reject(new Error('user service answered 502'))
    case 'hang':
      return new Promise<never>(() => undefined)
    case 'late-admin':
      // Answers after the timeout, with a principal that would open the admin paths.
      return new Promise((resolve) =>
        setTimeout(() => {
          state.lateSettled++
          resolve({ id: 'root', roles: ['admin'], scopes: [] })
        }, TIMEOUT_MS * 2),
      )
    case 'late-reject':
      return new Promise((_, reject) =>
        setTimeout(() => {
          state.lateSettled++
          reject(new Error('user service timed out, eventually'))
        }, TIMEOUT_MS * 2),
      )
    case 'garbage':
      return Promise.resolve({ id: 42, roles: 'admin' } as unknown as Principal)
    case 'thenable-throws':
      return {
        then() {
          throw new Error('a broken thenable')
        },
      } as unknown as Promise<Principal>
  }
}

function isRevoked(_claims: JWTPayload): boolean | Promise<boolean> {
  switch (state.revoked) {
    case 'no':
      return false
    case 'yes':
      return true
    case 'throw':
      throw new Error('revocation list unavailable')
    case 'reject':
      return Promise.reject(new Error('revocation list unavailable'))
    case 'hang':
      return new Promise<never>(() => undefined)
  }
}

const options = policyOptions()
const auth: Auth = createAuth({
  ...options,
  jwt: { ...options.jwt, isRevoked },
  principal: principalHook,
  hookTimeout: `${TIMEOUT_MS / 1000}s`,
})
const userToken = issuer.sign(CLAIMS.user, { expiresIn: '1h' })

afterAll(async () => {
  await auth.close()
  await sleep(TIMEOUT_MS * 3)
  watch.stop()
  expect(watch.events).toEqual([])
})

describe.each([
  { name: 'Express', start: startExpress },
  { name: 'Fastify', start: (a: Auth) => startFastify(a) },
])('$name with failing hooks', ({ start }) => {
  let server: Running
  let client: ReturnType<typeof keepAliveClient>

  beforeAll(async () => {
    state.principal = 'ok'
    state.revoked = 'no'
    server = await start(auth)
    client = keepAliveClient(server.url, 32)
  })
  afterAll(async () => {
    client.close()
    await server.close()
  })

  /** 30 concurrent requests, half to a user path and half to the admin path, with a user token. */
  async function burst() {
    return Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const started = performance.now()
        const res = await client.send('GET', i % 2 ? '/api/admin/users' : '/api/me', { authorization: `Bearer ${userToken}` })
        return { outcome: `${res.status} ${codeOf(res.body)}`.trim(), ms: performance.now() - started }
      }),
    )
  }

  const outcomesOf = (results: Array<{ outcome: string }>) => [...new Set(results.map((r) => r.outcome))].sort()

  it.each<[PrincipalMode, string[]]>([
    ['ok', ['200', '403 insufficient_role']],
    ['null', ['401 principal_rejected']],
    ['throw', ['503 auth_unavailable']],
    ['throw-string', ['503 auth_unavailable']],
    ['reject', ['503 auth_unavailable']],
    ['garbage', ['503 auth_unavailable']],
    ['thenable-throws', ['503 auth_unavailable']],
  ])('principal hook %s → %j', async (mode, expected) => {
    state.principal = mode
    const results = await burst()
    expect(outcomesOf(results)).toEqual(expected)
  })

  it.each<PrincipalMode>(['hang', 'late-admin', 'late-reject'])('principal hook %s: 503 after hookTimeout, and a late answer changes nothing', async (mode) => {
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    state.principal = mode
    state.lateSettled = 0
    const results = await burst()
    expect(outcomesOf(results)).toEqual(['503 auth_unavailable'])
    for (const r of results) {
      expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20)
      expect(r.ms).toBeLessThan(TIMEOUT_MS + 1000)
    }
    // Let the late answers land: a late admin principal must not open anything afterwards either.
    state.principal = 'ok'
    await sleep(TIMEOUT_MS * 2.5)
    if (mode !== 'hang') expect(state.lateSettled).toBe(30)
    expect(outcomesOf(await burst())).toEqual(['200', '403 insufficient_role'])
    // gatehouse's timeout timers are cleared with their requests.
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(timersBefore)
  })

  it.each<[RevokedMode, string[]]>([
    ['yes', ['401 token_revoked']],
    ['throw', ['503 auth_unavailable']],
    ['reject', ['503 auth_unavailable']],
  ])('revocation hook %s → %j, then recovery', async (mode, expected) => {
    state.principal = 'ok'
    state.revoked = mode
    try {
      expect(outcomesOf(await burst())).toEqual(expected)
    } finally {
      state.revoked = 'no'
    }
    expect(outcomesOf(await burst())).toEqual(['200', '403 insufficient_role'])
  })
})

// A revocation list or permission service that stops answering must not hold every request
// forever (sockets and memory pile up): hookTimeout bounds jwt.isRevoked and rule checks too.
describe('hooks that hang are bounded by hookTimeout', () => {
  const answer = (run: Promise<string>) => Promise.race([run, sleep(6000).then(() => 'no answer after 6 s')])

  it('jwt.isRevoked that never settles: 503 auth_unavailable within the default hookTimeout (5 s), through Express', async () => {
    const server = await startExpress(auth)
    const client = keepAliveClient(server.url, 4)
    state.principal = 'ok'
    state.revoked = 'hang'
    try {
      const started = performance.now()
      const got = await answer(client.send('GET', '/api/me', { authorization: `Bearer ${userToken}` }).then((r) => `${r.status} ${codeOf(r.body)}`))
      expect(got).toBe('503 auth_unavailable')
      expect(performance.now() - started).toBeLessThan(5500)
    } finally {
      state.revoked = 'no'
      client.close()
      await server.close()
    }
  }, 15_000)

  it("a rule's check that never settles: 503 auth_unavailable within the default hookTimeout (5 s)", async () => {
    const hanging = createAuth({ ...options, rules: [{ match: '/api/**', check: () => new Promise<boolean>(() => undefined) }] })
    try {
      const started = performance.now()
      const got = await answer(hanging.check(request('GET', '/api/me', { authorization: `Bearer ${userToken}` })).then((d) => (d.ok ? 'allowed' : `${d.status} ${d.code}`)))
      expect(got).toBe('503 auth_unavailable')
      expect(performance.now() - started).toBeLessThan(5500)
    } finally {
      await hanging.close()
    }
  }, 15_000)
})
