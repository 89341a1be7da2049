import { afterEach, describe, expect, it, vi } from 'vitest'
import { GatehouseConfigError } from '../config-error.js'
import { isInProcessStore, memoryStore } from './memory-store.js'
import type { StoredSession } from './store.js'
import { describeStoreContract } from './store-contract.js'

describeStoreContract('memoryStore', () => memoryStore())

const session = (userId: string): StoredSession => {
  const now = Date.now()
  return { userId, roles: ['r'], data: { n: 1 }, createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 600_000 }
}

describe('memoryStore', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('evicts the least recently used session beyond max, and drops it from the user index', async () => {
    const store = memoryStore({ max: 3 })
    await store.set('a', session('u1'), 60)
    await store.set('b', session('u1'), 60)
    await store.set('c', session('u2'), 60)
    await store.get('a') // a is now the most recently used; b is the coldest
    await store.set('d', session('u2'), 60)
    expect(await store.get('b')).toBeUndefined()
    for (const k of ['a', 'c', 'd']) expect(await store.get(k)).toBeDefined()
    expect(await store.destroyByUser('u1')).toBe(1)
    expect(await store.destroyByUser('u2')).toBe(2)
  })

  it('a touch counts as a use for eviction', async () => {
    const store = memoryStore({ max: 2 })
    await store.set('a', session('u'), 60)
    await store.set('b', session('u'), 60)
    expect(await store.touch('a', session('u'), 60)).toBe(true)
    await store.set('c', session('u'), 60)
    expect(await store.get('b')).toBeUndefined()
    expect(await store.get('a')).toBeDefined()
  })

  it('stays bounded under many writes', async () => {
    const store = memoryStore({ max: 100 })
    for (let i = 0; i < 1000; i++) await store.set(`k${i}`, session(`u${i % 7}`), 60)
    let live = 0
    for (let i = 0; i < 1000; i++) if (await store.get(`k${i}`)) live++
    expect(live).toBe(100)
    let revoked = 0
    for (let u = 0; u < 7; u++) revoked += await store.destroyByUser(`u${u}`)
    expect(revoked).toBe(100)
  })

  it('hands out deep-frozen copies, so a read cannot change the stored session', async () => {
    const store = memoryStore()
    await store.set('k', { ...session('u'), data: { prefs: { theme: 'dark' } } }, 60)
    const got = (await store.get('k')) as StoredSession
    expect(() => got.roles.push('admin')).toThrow(TypeError)
    expect(() => {
      ;(got.data.prefs as Record<string, unknown>).theme = 'light'
    }).toThrow(TypeError)
    expect((await store.get('k'))?.data).toEqual({ prefs: { theme: 'dark' } })
  })

  it('starts no timers (nothing keeps the process alive)', async () => {
    const timeout = vi.spyOn(globalThis, 'setTimeout')
    const interval = vi.spyOn(globalThis, 'setInterval')
    const store = memoryStore()
    await store.set('k', session('u'), 60)
    await store.get('k')
    await store.touch('k', session('u'), 60)
    await store.destroyByUser('u')
    await store.close?.()
    expect(timeout).not.toHaveBeenCalled()
    expect(interval).not.toHaveBeenCalled()
  })

  it('close empties the store', async () => {
    const store = memoryStore()
    await store.set('k', session('u'), 60)
    await store.close?.()
    expect(await store.get('k')).toBeUndefined()
    expect(await store.destroyByUser('u')).toBe(0)
  })

  it('rejects a max that is not a positive whole number', () => {
    for (const max of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => memoryStore({ max })).toThrow(GatehouseConfigError)
    }
    expect(() => memoryStore({ max: 0 })).toThrow(/max: must be a whole number of sessions, 1 or more \(got 0\)/)
  })

  it('is recognised as an in-process store; other stores are not', () => {
    expect(isInProcessStore(memoryStore())).toBe(true)
    const wrapped = { ...memoryStore() }
    expect(isInProcessStore(wrapped)).toBe(false)
  })
})
