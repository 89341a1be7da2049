import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import type { SessionStore, StoredSession } from './store.js'

/**
 * The behaviour every {@link SessionStore} must have, as a vitest suite. Run it for each store
 * implementation: `describeStoreContract('memoryStore', () => memoryStore())`.
 *
 * Keys and user ids are unique per test, so one store may serve every test. The suite waits
 * about 1.2 s in real time once, to see `ttlSeconds` take effect.
 */
export function describeStoreContract(name: string, makeStore: () => SessionStore | Promise<SessionStore>): void {
  const key = () => randomUUID()
  const user = () => `user:${randomUUID()}`
  const session = (userId: string, over: Partial<StoredSession> = {}): StoredSession => {
    const now = Date.now()
    return { userId, roles: ['reader'], data: { theme: 'dark' }, createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, absoluteExpiresAt: now + 600_000, ...over }
  }

  describe(`${name} (SessionStore contract)`, () => {
    it('answers undefined for a key it never stored', async () => {
      const store = await makeStore()
      expect(await store.get(key())).toBeUndefined()
    })

    it('stores and returns a session, JSON data intact', async () => {
      const store = await makeStore()
      const k = key()
      const s = session(user(), { roles: ['a', 'b'], data: { nested: { list: [1, 'two', null], flag: true }, text: 'ünïcødé ✓' } })
      await store.set(k, s, 60)
      expect(await store.get(k)).toEqual(s)
    })

    it('keeps its own copy: changing the object after set does not change what is stored', async () => {
      const store = await makeStore()
      const k = key()
      const s = session(user())
      await store.set(k, s, 60)
      s.roles.push('admin')
      s.data.theme = 'light'
      const got = await store.get(k)
      expect(got?.roles).toEqual(['reader'])
      expect(got?.data).toEqual({ theme: 'dark' })
    })

    it('replaces a session stored under the same key', async () => {
      const store = await makeStore()
      const k = key()
      const u = user()
      await store.set(k, session(u, { roles: ['one'] }), 60)
      await store.set(k, session(u, { roles: ['two'] }), 60)
      expect((await store.get(k))?.roles).toEqual(['two'])
      expect(await store.destroyByUser(u)).toBe(1)
    })

    it('touch rewrites an existing session and resolves true', async () => {
      const store = await makeStore()
      const k = key()
      const s = session(user())
      await store.set(k, s, 60)
      const next = { ...s, lastSeenAt: s.lastSeenAt + 5000, expiresAt: s.expiresAt + 5000 }
      expect(await store.touch(k, next, 65)).toBe(true)
      expect(await store.get(k)).toEqual(next)
    })

    it('touch never creates a session: false for a missing key, which stays missing', async () => {
      const store = await makeStore()
      const k = key()
      expect(await store.touch(k, session(user()), 60)).toBe(false)
      expect(await store.get(k)).toBeUndefined()
    })

    it('touch after destroy resolves false and the session stays destroyed', async () => {
      const store = await makeStore()
      const k = key()
      const s = session(user())
      await store.set(k, s, 60)
      await store.destroy(k)
      expect(await store.touch(k, s, 60)).toBe(false)
      expect(await store.get(k)).toBeUndefined()
    })

    it('a touch racing a destroy never resurrects the session', async () => {
      const store = await makeStore()
      for (let i = 0; i < 20; i++) {
        const k = key()
        const s = session(user())
        await store.set(k, s, 60)
        const ops = i % 2 === 0 ? [store.touch(k, s, 60), store.destroy(k)] : [store.destroy(k), store.touch(k, s, 60)]
        await Promise.all(ops)
        expect(await store.get(k)).toBeUndefined()
      }
    })

    it('destroy removes a session and is silent for a missing key', async () => {
      const store = await makeStore()
      const k = key()
      await store.set(k, session(user()), 60)
      await store.destroy(k)
      expect(await store.get(k)).toBeUndefined()
      await expect(store.destroy(k)).resolves.toBeUndefined()
      await expect(store.destroy(key())).resolves.toBeUndefined()
    })

    it("destroyByUser removes every session of that user only, and counts them", async () => {
      const store = await makeStore()
      const alice = user()
      const bob = user()
      const aliceKeys = [key(), key(), key()]
      const bobKey = key()
      for (const k of aliceKeys) await store.set(k, session(alice), 60)
      await store.set(bobKey, session(bob), 60)
      expect(await store.destroyByUser(alice)).toBe(3)
      for (const k of aliceKeys) expect(await store.get(k)).toBeUndefined()
      expect((await store.get(bobKey))?.userId).toBe(bob)
      expect(await store.destroyByUser(alice)).toBe(0)
      expect(await store.destroyByUser(user())).toBe(0)
    })

    it('destroy also leaves the per-user index: destroyByUser counts only what is left', async () => {
      const store = await makeStore()
      const u = user()
      const [k1, k2] = [key(), key()]
      await store.set(k1, session(u), 60)
      await store.set(k2, session(u), 60)
      await store.destroy(k1)
      expect(await store.destroyByUser(u)).toBe(1)
    })

    it('user ids that are prefixes of each other or carry separators stay apart', async () => {
      const store = await makeStore()
      const base = user()
      const ids = [base, `${base}:x`, `${base}{x}`, `${base} x`, `${base}✓`]
      for (const id of ids) await store.set(key(), session(id), 60)
      for (const id of ids) expect(await store.destroyByUser(id)).toBe(1)
    })

    it('forgets a session once ttlSeconds has passed, and a touch extends it', async () => {
      const store = await makeStore()
      const u = user()
      const short = key()
      const extended = key()
      await store.set(short, session(u), 1)
      await store.set(extended, session(u), 1)
      await sleep(400)
      expect(await store.touch(extended, session(u), 3)).toBe(true)
      await sleep(850)
      expect(await store.get(short)).toBeUndefined()
      expect(await store.touch(short, session(u), 60)).toBe(false)
      expect(await store.get(short)).toBeUndefined()
      expect((await store.get(extended))?.userId).toBe(u)
      // Only the live one counts as revoked.
      expect(await store.destroyByUser(u)).toBe(1)
    })
  })
}
