import { createSessionManager, type SessionManager } from '@gatehouse/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasRedisServer, type RedisServer, startRedis } from '../../../test/redis-server.js'
import { redisStore } from '../src/index.js'
import { connect, disconnectAll, valueOf } from './helpers.js'

const available = hasRedisServer()
const secret = 'shared-secret-between-instances-0123456789'

const request = (m: SessionManager, value: string) => ({ method: 'POST', url: '/logout', headers: { cookie: `${m.cookieName}=${value}` } })
const codeOf = (r: Awaited<ReturnType<SessionManager['authenticate']>>) => (r.ok ? 'ok' : r.code)

describe.skipIf(!available)('two instances sharing one Redis', () => {
  let server: RedisServer
  let a: SessionManager
  let b: SessionManager

  beforeAll(async () => {
    server = await startRedis()
    // Each instance has its own connection, as two processes would.
    a = createSessionManager({ secret, store: redisStore(await connect(server)), ttl: '10m', touchAfter: '1m' })
    b = createSessionManager({ secret, store: redisStore(await connect(server)), ttl: '10m', touchAfter: '1m' })
  })
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()])
    await disconnectAll()
    await server?.stop()
  })

  it('a session created on one instance is accepted by the other at once', async () => {
    const { session, setCookie } = await a.create({ userId: 'u1', roles: ['admin'] })
    const r = await b.authenticate([valueOf(setCookie)])
    expect(r.ok && r.session).toEqual(session)
  })

  it('a logout on one instance is refused by the other at once', async () => {
    const value = valueOf((await a.create({ userId: 'u2' })).setCookie)
    expect(codeOf(await b.authenticate([value]))).toBe('ok')
    await b.destroy(request(b, value))
    expect(codeOf(await a.authenticate([value]))).toBe('session_invalid')
    expect(codeOf(await b.authenticate([value]))).toBe('session_invalid')
  })

  it('revokeUser on one instance ends that user\'s sessions everywhere', async () => {
    const values = [valueOf((await a.create({ userId: 'u3' })).setCookie), valueOf((await b.create({ userId: 'u3' })).setCookie)]
    const other = valueOf((await a.create({ userId: 'u4' })).setCookie)
    expect(await a.revokeUser('u3')).toBe(2)
    for (const value of values) {
      expect(codeOf(await a.authenticate([value]))).toBe('session_invalid')
      expect(codeOf(await b.authenticate([value]))).toBe('session_invalid')
    }
    expect(codeOf(await b.authenticate([other]))).toBe('ok')
  })

  it('a regenerate on one instance kills the old id on the other', async () => {
    const first = await a.create({ userId: 'u5' })
    const next = await b.regenerate(request(b, valueOf(first.setCookie)), { roles: ['member'] })
    expect(codeOf(await a.authenticate([valueOf(first.setCookie)]))).toBe('session_invalid')
    const r = await a.authenticate([valueOf(next.setCookie)])
    expect(r.ok && r.session.roles).toEqual(['member'])
  })

  it('a rolling refresh on one instance is seen by the other, which does not write again', async () => {
    const { session, setCookie } = await a.create({ userId: 'u6' })
    const value = valueOf(setCookie)
    const now = session.createdAt + 2 * 60_000
    const rolled = await a.authenticate([value], { now })
    expect(rolled.ok && rolled.setCookie).toBeTypeOf('string')
    const seen = await b.authenticate([value], { now: now + 1000 })
    expect(seen.ok && seen.session.expiresAt).toBe(now + 10 * 60_000)
    expect(seen.ok && seen.setCookie).toBeUndefined()
  })

  it('a logout racing refreshes on the other instance stays a logout', async () => {
    for (let i = 0; i < 20; i++) {
      const { session, setCookie } = await a.create({ userId: `race${i}` })
      const value = valueOf(setCookie)
      const now = session.createdAt + 2 * 60_000
      await Promise.all([b.authenticate([value], { now }), a.destroy(request(a, value)), b.authenticate([value], { now: now + 61_000 })])
      expect(codeOf(await b.authenticate([value], { now: now + 200_000 }))).toBe('session_invalid')
    }
  })
})
