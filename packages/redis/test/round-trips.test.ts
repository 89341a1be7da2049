import { createSessionManager, type SessionManager } from '@gatehouse/core'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasRedisServer, type RedisServer, startRedis } from '../../../test/redis-server.js'
import { redisStore } from '../src/index.js'
import { connect, disconnectAll, valueOf } from './helpers.js'

const available = hasRedisServer()

describe.skipIf(!available)('Redis round trips per authenticate (counted with MONITOR)', () => {
  let server: RedisServer
  let client: Redis
  let admin: Redis
  let monitor: Redis
  let m: SessionManager
  const seen: string[][] = []

  beforeAll(async () => {
    server = await startRedis()
    client = await connect(server)
    admin = await connect(server)
    monitor = await admin.monitor()
    // Commands a script runs inside Redis show up with source 'lua': they are not round trips.
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua') seen.push(args)
    })
    m = createSessionManager({ secret: 'round-trip-secret-0123456789abcdef', store: redisStore(client), ttl: '10m', touchAfter: '1m' })
  })
  afterAll(async () => {
    await m?.close()
    monitor?.disconnect()
    await disconnectAll()
    await server?.stop()
  })

  /** Runs `work` and returns the commands the server received meanwhile, in order. */
  async function commandsDuring(work: () => Promise<void>): Promise<string[][]> {
    await flushMonitor()
    seen.length = 0
    await work()
    await flushMonitor()
    return seen.filter((args) => !isMarker(args))
  }
  const isMarker = (args: string[]) => args[0]?.toLowerCase() === 'echo' && args[1]?.startsWith('monitor-marker-')
  async function flushMonitor(): Promise<void> {
    const marker = `monitor-marker-${Math.random()}`
    await admin.echo(marker)
    const deadline = Date.now() + 2000
    while (!seen.some((args) => args[1] === marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  }

  it('exactly one GET per authenticate when no refresh is due', async () => {
    const { setCookie } = await m.create({ userId: 'u1' })
    const value = valueOf(setCookie)
    const commands = await commandsDuring(async () => {
      for (let i = 0; i < 100; i++) expect((await m.authenticate([value])).ok).toBe(true)
    })
    expect(commands).toHaveLength(100)
    expect(new Set(commands.map((args) => args[0]?.toLowerCase()))).toEqual(new Set(['get']))
  })

  it('a due refresh adds exactly one script call, once per touchAfter', async () => {
    const { session, setCookie } = await m.create({ userId: 'u2' })
    const value = valueOf(setCookie)
    const now = session.createdAt + 2 * 60_000
    const commands = await commandsDuring(async () => {
      for (let i = 0; i < 10; i++) expect((await m.authenticate([value], { now: now + i * 1000 })).ok).toBe(true)
    })
    const names = commands.map((args) => args[0]?.toLowerCase())
    expect(names.filter((n) => n === 'get')).toHaveLength(10)
    expect(names.filter((n) => n === 'evalsha' || n === 'eval')).toHaveLength(1)
    expect(commands).toHaveLength(11)
  })

  it('a forged cookie costs no round trip at all', async () => {
    const commands = await commandsDuring(async () => {
      for (let i = 0; i < 20; i++) expect((await m.authenticate([`${'A'.repeat(43)}.${'B'.repeat(43)}`])).ok).toBe(false)
    })
    expect(commands).toEqual([])
  })
})
