// Fault injection against a real Redis (test/redis-server.ts) behind a real Express server that
// keeps its sessions in @gatehouse/redis, under a concurrent request loop: Redis killed and
// restarted, and Redis hanging (SIGSTOP). While Redis is unreachable, session requests get 503
// auth_unavailable (never an allow, never a 401 that would log users out); bearer tokens and
// refusals that need no store are unaffected; the service recovers without a restart.
import { once } from 'node:events'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Auth, createAuth } from '@gatehouse/core'
import { redisStore } from '@gatehouse/redis'
import { hasRedisServer, type RedisServer, startRedis } from '../redis-server.js'
import { cookieValue } from './book.js'
import { Redis, type RedisClient } from './deps.js'
import { type Next, runLoop, type Shot, sleep, summary } from './load.js'
import { CLAIMS, issuer, policyOptions, SESSION_COOKIE } from './policy.js'
import { type Running, startExpress } from './servers.js'
import { watchProcess } from './unhandled.js'

const available = hasRedisServer()
const STORE_TIMEOUT_MS = 400
const PREFIX = 'gatehouse:sess:'

describe.skipIf(!available)('Redis faults under load', () => {
  const watch = watchProcess()
  let redis: RedisServer
  let client: RedisClient & { errors: Error[] }
  let auth: Auth
  let server: Running

  beforeAll(async () => {
    redis = await startRedis()
  })
  beforeEach(async () => {
    // The client options @gatehouse/redis recommends, with a fast reconnect.
    client = Object.assign(new Redis({ host: '127.0.0.1', port: redis.port, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 50 }), { errors: [] as Error[] })
    client.on('error', (error: Error) => client.errors.push(error))
    await once(client, 'ready')
    const options = policyOptions()
    auth = createAuth({ ...options, session: { ...options.session, secret: options.session?.secret as string, store: redisStore(client), storeTimeout: `${STORE_TIMEOUT_MS / 1000}s` } })
    server = await startExpress(auth)
  })
  afterEach(async () => {
    await server.close()
    await auth.close()
    client.disconnect()
    await redis.restart()
  })
  afterAll(async () => {
    await sleep(300)
    await redis?.stop()
    watch.stop()
    expect(watch.events).toEqual([])
  })

  async function ready(): Promise<void> {
    if (client.status !== 'ready') await once(client, 'ready')
  }

  /** Copies every session key with its TTL, as a Redis with persistence would keep it. */
  async function snapshot(): Promise<Array<[string, number, Buffer]>> {
    const keys = await client.keys(`${PREFIX}*`)
    return Promise.all(keys.map(async (key): Promise<[string, number, Buffer]> => [key, await client.pttl(key), (await client.dumpBuffer(key)) as Buffer]))
  }

  async function restore(saved: Array<[string, number, Buffer]>): Promise<void> {
    for (const [key, ttl, dump] of saved) await client.restore(key, ttl > 0 ? ttl : 0, dump)
  }

  async function sessionCookie(userId: string, roles: string[]): Promise<string> {
    const { setCookie } = await (auth.sessions as NonNullable<Auth['sessions']>).create({ userId, roles })
    return `${SESSION_COOKIE}=${cookieValue(setCookie)}`
  }

  /** The mix every outage test sends: a live session, a bearer token, a tampered cookie, nothing, and a cross-site write. */
  function mix(session: string, tampered: string): Next {
    const token = issuer.sign(CLAIMS.user, { expiresIn: '1h' })
    return (i: number): ReturnType<Next> => {
      switch (i % 5) {
        case 0:
          return { kind: 'session', path: '/api/me', headers: { cookie: session } }
        case 1:
          return { kind: 'bearer', path: '/api/me', headers: { authorization: `Bearer ${token}` } }
        case 2:
          return { kind: 'tampered', path: '/api/me', headers: { cookie: tampered } }
        case 3:
          return { kind: 'none', path: '/api/me' }
        default:
          return { kind: 'csrf', method: 'POST', path: '/api/me', headers: { cookie: session, origin: 'https://evil.example' } }
      }
    }
  }

  function tamper(cookie: string): string {
    const at = cookie.length - 5
    return cookie.slice(0, at) + (cookie[at] === 'A' ? 'B' : 'A') + cookie.slice(at + 1)
  }

  /** Every shot of `kind` sent in [from, to) has one of `outcomes`. */
  function expectOutcomes(shots: readonly Shot[], kind: string, outcomes: string[], from = -Infinity, to = Infinity): number {
    let n = 0
    for (const s of shots) {
      if (s.kind !== kind || s.sent < from || s.sent >= to) continue
      n++
      expect(outcomes, `${kind} sent at ${s.sent.toFixed(0)}`).toContain(`${s.status} ${s.code}`.trim())
    }
    return n
  }

  it('killed and restarted (data kept): 503 for sessions while it is down, other requests unaffected, sessions back after the restart', async () => {
    const session = await sessionCookie('user-1', ['user'])
    const loop = runLoop(server.url, 8, mix(session, tamper(session)))
    await sleep(300)
    const saved = await snapshot()
    await redis.kill()
    const down = performance.now()
    await sleep(800)
    const restarting = performance.now()
    await redis.restart()
    await ready()
    await restore(saved)
    const recovered = performance.now()
    await sleep(500)
    const shots = await loop.stop()
    const counts = summary(shots)
    console.log(`${expect.getState().currentTestName}: ${JSON.stringify(counts)}`)

    // Throughout: nothing but the intended outcomes, and never a 5xx other than 503. Between the
    // restart and the restore the store is up but empty, so a session may be unknown there.
    expectOutcomes(shots, 'session', ['200', '503 auth_unavailable'], -Infinity, restarting)
    expectOutcomes(shots, 'session', ['200', '503 auth_unavailable', '401 session_invalid'], restarting, recovered)
    expectOutcomes(shots, 'bearer', ['200'])
    expectOutcomes(shots, 'tampered', ['401 session_invalid'])
    expectOutcomes(shots, 'none', ['401 credentials_missing'])
    expectOutcomes(shots, 'csrf', ['403 csrf_rejected', '503 auth_unavailable'], -Infinity, restarting)
    expectOutcomes(shots, 'csrf', ['403 csrf_rejected', '503 auth_unavailable', '401 session_invalid'], restarting, recovered)
    // While Redis is down (give the client 100 ms to notice): sessions are unavailable, not invalid.
    expect(expectOutcomes(shots, 'session', ['503 auth_unavailable'], down + 100, restarting), JSON.stringify(counts)).toBeGreaterThan(5)
    // After the restore, without restarting the app: sessions work again, and only work.
    expect(expectOutcomes(shots, 'session', ['200'], recovered), JSON.stringify(counts)).toBeGreaterThan(5)
    expect(expectOutcomes(shots, 'csrf', ['403 csrf_rejected'], recovered), JSON.stringify(counts)).toBeGreaterThan(0)
  })

  it('killed and restarted empty: old sessions are refused with 401 session_invalid (fail closed), new logins work', async () => {
    const session = await sessionCookie('user-1', ['user'])
    const loop = runLoop(server.url, 8, mix(session, tamper(session)))
    await sleep(200)
    await redis.kill()
    await sleep(500)
    await redis.restart()
    await ready()
    const recovered = performance.now()
    await sleep(400)
    const shots = await loop.stop()
    console.log(`${expect.getState().currentTestName}: ${JSON.stringify(summary(shots))}`)
    expectOutcomes(shots, 'session', ['200', '503 auth_unavailable', '401 session_invalid'])
    expect(expectOutcomes(shots, 'session', ['401 session_invalid'], recovered), JSON.stringify(summary(shots))).toBeGreaterThan(5)
    expectOutcomes(shots, 'bearer', ['200'])
    const fresh = await sessionCookie('user-1', ['user'])
    const res = await fetch(`${server.url}/api/me`, { headers: { cookie: fresh } })
    expect(res.status).toBe(200)
  })

  it('hanging (SIGSTOP): session requests get 503 within storeTimeout, then service resumes on SIGCONT', async () => {
    const session = await sessionCookie('user-2', ['user'])
    const loop = runLoop(server.url, 8, mix(session, tamper(session)))
    await sleep(200)
    process.kill(redis.pid, 'SIGSTOP')
    const stopped = performance.now()
    try {
      await sleep(1200)
    } finally {
      process.kill(redis.pid, 'SIGCONT')
    }
    const resumed = performance.now()
    await sleep(500)
    const shots = await loop.stop()
    console.log(`${expect.getState().currentTestName}: ${JSON.stringify(summary(shots))}`)
    expectOutcomes(shots, 'session', ['200', '503 auth_unavailable'])
    expectOutcomes(shots, 'bearer', ['200'])
    expectOutcomes(shots, 'tampered', ['401 session_invalid'])
    const hung = shots.filter((s) => s.kind === 'session' && s.sent > stopped + 50 && s.answered < resumed)
    expect(hung.length, JSON.stringify(summary(shots))).toBeGreaterThan(3)
    for (const s of hung) {
      expect(`${s.status} ${s.code}`).toBe('503 auth_unavailable')
      expect(s.answered - s.sent).toBeLessThan(STORE_TIMEOUT_MS + 1000)
    }
    // Requests sent well after SIGCONT are served (the late replies of the hung ones were dropped).
    expect(expectOutcomes(shots, 'session', ['200'], resumed + 200), JSON.stringify(summary(shots))).toBeGreaterThan(5)
  })
})
