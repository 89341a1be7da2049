import { createSessionManager, type StoredSession } from '@gatehouse/core'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeStoreContract } from '../../core/src/session/store-contract.js'
import { hasRedisServer, type RedisServer, startRedis } from '../../../test/redis-server.js'
import { redisStore } from '../src/index.js'
import { connect, disconnectAll, valueOf } from './helpers.js'

const available = hasRedisServer()
const secret = 'r'.repeat(32)

const session = (userId: string, over: Partial<StoredSession> = {}): StoredSession => {
  const now = Date.now()
  return { userId, roles: ['r'], data: {}, createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 600_000, ...over }
}

describe.skipIf(!available)('redisStore against a real redis-server', () => {
  let server: RedisServer
  let client: Redis
  let admin: Redis

  beforeAll(async () => {
    server = await startRedis()
    client = await connect(server)
    admin = await connect(server)
  })
  afterAll(async () => {
    await disconnectAll()
    await server?.stop()
  })

  describeStoreContract('redisStore', () => redisStore(client))
  describeStoreContract('redisStore with a custom prefix and a client keyPrefix', async () => redisStore(await connect(server, { keyPrefix: 'app1:' }), { prefix: 'auth:' }))

  it('lays keys out under the prefix, hashed ids only, with the user index', async () => {
    const m = createSessionManager({ secret, store: redisStore(client, { prefix: 'layout:' }) })
    const { session: s } = await m.create({ userId: 'alice' })
    const keys = await admin.keys('layout:*')
    expect(keys).toHaveLength(2)
    expect(keys).toContain('layout:user:alice')
    // The session key is a hash, which may sort before or after the index key.
    const sessionKey = keys.find((k) => k !== 'layout:user:alice') as string
    expect(sessionKey).toMatch(/^layout:[A-Za-z0-9_-]{43}$/)
    expect(keys.join(' ')).not.toContain(s.id)
    expect(await admin.smembers('layout:user:alice')).toEqual([sessionKey.slice('layout:'.length)])
    expect(JSON.parse((await admin.get(sessionKey)) as string)).toMatchObject({ userId: 'alice', expiresAt: s.expiresAt })
    await m.close()
  })

  it('expires sessions in Redis too (PX), and keeps the user index at least as long', async () => {
    const store = redisStore(client, { prefix: 'ttl:' })
    await store.set('k1', session('bob'), 30)
    await store.set('k2', session('bob'), 90)
    // Both TTLs read in one transaction, so no time passes between them.
    const ttls = async (a: string, b: string) => ((await admin.multi().pttl(a).pttl(b).exec()) ?? []).map(([, v]) => v as number)
    const [sessionTtl, indexTtl] = await ttls('ttl:k2', 'ttl:user:bob')
    expect(sessionTtl).toBeGreaterThan(89_000)
    expect(sessionTtl).toBeLessThanOrEqual(90_000)
    expect(indexTtl).toBeGreaterThanOrEqual(sessionTtl as number)
    // A touch that outlives the index extends the index too, or revocation could miss it.
    expect(await store.touch('k1', session('bob'), 600)).toBe(true)
    expect(await admin.pttl('ttl:user:bob')).toBeGreaterThan(599_000)
    expect(await store.destroyByUser('bob')).toBe(2)
  })

  it('prunes index members whose sessions Redis already expired', async () => {
    const store = redisStore(client, { prefix: 'prune:' })
    await store.set('gone', session('carol'), 60)
    await admin.del('prune:gone')
    await store.set('live', session('carol'), 60)
    expect(await admin.smembers('prune:user:carol')).toEqual(['live'])
  })

  it('moves a session to its new user index when a key is rewritten for another user', async () => {
    const store = redisStore(client, { prefix: 'move:' })
    await store.set('k', session('dave'), 60)
    await store.set('k', session('erin'), 60)
    expect(await store.destroyByUser('dave')).toBe(0)
    expect(await store.destroyByUser('erin')).toBe(1)
  })

  it('with a client keyPrefix, the keys a script derives carry it too', async () => {
    const store = redisStore(await connect(server, { keyPrefix: 'tenant:' }), { prefix: 'kp:' })
    await store.set('k1', session('hank'), 60)
    await store.set('k2', session('hank'), 60)
    expect((await admin.smembers('tenant:kp:user:hank')).sort()).toEqual(['k1', 'k2'])
    await store.destroy('k1')
    expect(await admin.smembers('tenant:kp:user:hank')).toEqual(['k2'])
    expect(await store.destroyByUser('hank')).toBe(1)
    expect(await admin.keys('tenant:kp:*')).toEqual([])
    expect(await admin.keys('kp:*')).toEqual([])
  })

  it('answers undefined for a value gatehouse did not write', async () => {
    const store = redisStore(client, { prefix: 'junk:' })
    await admin.set('junk:k', 'not json')
    expect(await store.get('k')).toBeUndefined()
  })

  it('keeps working after Redis forgets its scripts (SCRIPT FLUSH, as after a restart)', async () => {
    const store = redisStore(client, { prefix: 'flush:' })
    await store.set('k', session('frank'), 60)
    await admin.script('FLUSH')
    expect(await store.touch('k', session('frank'), 60)).toBe(true)
    await admin.script('FLUSH')
    expect(await store.destroyByUser('frank')).toBe(1)
  })

  it('stores with different prefixes do not see each other', async () => {
    const a = redisStore(client, { prefix: 'appA:' })
    const b = redisStore(client, { prefix: 'appB:' })
    await a.set('same', session('gina'), 60)
    expect(await b.get('same')).toBeUndefined()
    expect(await b.destroyByUser('gina')).toBe(0)
    expect(await a.destroyByUser('gina')).toBe(1)
  })

  it('works end to end through createSessionManager', async () => {
    const m = createSessionManager({ secret, store: redisStore(client) })
    const { setCookie } = await m.create({ userId: 'u1', roles: ['admin'], data: { nested: { n: 1 } } })
    const r = await m.authenticate([valueOf(setCookie)])
    expect(r.ok && r.session).toMatchObject({ userId: 'u1', roles: ['admin'], data: { nested: { n: 1 } } })
    await m.close()
    // Closing the manager leaves the application's client open.
    expect(client.status).toBe('ready')
  })

  it('refuses something that is not an ioredis client', () => {
    expect(() => redisStore({} as Redis)).toThrow('redisStore: expected an ioredis client (new Redis(url, options))')
  })
})
