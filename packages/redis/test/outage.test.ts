import { createSessionManager, type Duration, type SessionManager } from '@gatehouse/core'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { hasRedisServer, type RedisServer, startRedis } from '../../../test/redis-server.js'
import { redisStore } from '../src/index.js'
import { connect, disconnectAll, ready, valueOf } from './helpers.js'

const available = hasRedisServer()
const secret = 'outage-secret-0123456789-0123456789'
const ID_LIKE = /[A-Za-z0-9_-]{43}/

type Result = Awaited<ReturnType<SessionManager['authenticate']>>
const codeOf = (r: Result) => (r.ok ? 'ok' : r.code)
const hintOf = (r: Result) => (r.ok ? '' : r.hint)

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now()
  const value = await run()
  return { value, ms: performance.now() - started }
}

describe.skipIf(!available)('Redis outage and recovery', () => {
  let server: RedisServer
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  const managers: SessionManager[] = []

  beforeAll(async () => {
    server = await startRedis()
    process.on('unhandledRejection', onUnhandled)
  })
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()))
    // Each test starts from a running, empty server, whatever the previous one left behind.
    await server.restart()
  })
  afterAll(async () => {
    // Late replies and rejections of timed-out calls land after the tests; give them a moment.
    await new Promise((r) => setTimeout(r, 300))
    process.off('unhandledRejection', onUnhandled)
    await disconnectAll()
    await server?.stop()
    expect(unhandled).toEqual([])
  })

  function manager(client: Redis, storeTimeout: Duration = '1s'): SessionManager {
    const m = createSessionManager({ secret, store: redisStore(client), storeTimeout, ttl: '10m', touchAfter: '1m' })
    managers.push(m)
    return m
  }

  it('Redis killed (recommended client options): every call fails fast with auth_unavailable, then recovers on restart', async () => {
    const client = await connect(server)
    const m = manager(client)
    const created = await m.create({ userId: 'u1' })
    const before = valueOf(created.setCookie)
    expect(codeOf(await m.authenticate([before]))).toBe('ok')

    await server.kill()
    const { value: results, ms } = await timed(() => Promise.all(Array.from({ length: 50 }, () => m.authenticate([before]))))
    expect(results.map(codeOf)).toEqual(Array(50).fill('auth_unavailable'))
    expect(hintOf(results[0] as Result)).toMatch(/^session store get (failed: |timed out)/)
    // No offline queue: the client refuses at once instead of waiting for storeTimeout.
    expect(ms).toBeLessThan(900)

    const errors = await Promise.all([
      m.create({ userId: 'u1' }).catch((e: Error) => e),
      m.destroy(created.session.id).catch((e: Error) => e),
      m.revokeUser('u1').catch((e: Error) => e),
    ])
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error)
      expect((error as Error).message).toMatch(/^sessions\.(create|destroy|revokeUser): session store /)
      expect((error as Error).message).not.toMatch(ID_LIKE)
    }

    await server.restart()
    await ready(client)
    // Redis ran without persistence, so the old session is gone; that is a 401, not a 503.
    expect(codeOf(await m.authenticate([before]))).toBe('session_invalid')
    const after = valueOf((await m.create({ userId: 'u1' })).setCookie)
    expect(codeOf(await m.authenticate([after]))).toBe('ok')
  })

  it('Redis killed (default ioredis options, offline queue on): storeTimeout bounds the wait, recovery after restart', async () => {
    const client = await connect(server, { enableOfflineQueue: true, maxRetriesPerRequest: 20 })
    const m = manager(client, '0.3s')
    const value = valueOf((await m.create({ userId: 'u2' })).setCookie)

    await server.kill()
    const { value: r, ms } = await timed(() => m.authenticate([value]))
    expect(codeOf(r)).toBe('auth_unavailable')
    expect(ms).toBeLessThan(1000)

    await server.restart()
    await ready(client)
    const fresh = valueOf((await m.create({ userId: 'u2' })).setCookie)
    expect(codeOf(await m.authenticate([fresh]))).toBe('ok')
  })

  it('Redis hangs (process stopped): auth_unavailable within storeTimeout, then service resumes', async () => {
    const client = await connect(server)
    const m = manager(client, '0.3s')
    const { session, setCookie } = await m.create({ userId: 'u3' })
    const value = valueOf(setCookie)

    process.kill(server.pid, 'SIGSTOP')
    try {
      const { value: r, ms } = await timed(() => m.authenticate([value]))
      expect(codeOf(r)).toBe('auth_unavailable')
      expect(hintOf(r)).toBe('session store get timed out after 300 ms (storeTimeout)')
      expect(ms).toBeGreaterThanOrEqual(290)
      expect(ms).toBeLessThan(1000)
      await expect(m.create({ userId: 'u3' })).rejects.toThrow('sessions.create: session store set timed out after 300 ms (storeTimeout)')
      const burst = await Promise.all(Array.from({ length: 20 }, () => m.authenticate([value], { now: session.createdAt + 2 * 60_000 })))
      expect(burst.map(codeOf)).toEqual(Array(20).fill('auth_unavailable'))
    } finally {
      process.kill(server.pid, 'SIGCONT')
    }
    const r = await m.authenticate([value])
    expect(codeOf(r)).toBe('ok')
  })
})
