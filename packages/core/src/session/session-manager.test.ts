import { parseSetCookie } from 'cookie'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AuthRequest } from '../decision.js'
import type { Failure } from '../deny-codes.js'
import type { TraceStep } from '../trace.js'
import { memoryStore } from './memory-store.js'
import { signSessionId } from './session-cookie.js'
import { createSessionManager, type SessionManager, type SessionResult } from './session-manager.js'
import type { SessionOptions } from './session-options.js'
import type { SessionStore, StoredSession } from './store.js'

const secret = 'k'.repeat(32)
const MIN = 60_000

type Op = 'get' | 'set' | 'touch' | 'destroy' | 'destroyByUser'

/** Wraps a store and counts the calls it receives. */
function counting(inner: SessionStore = memoryStore()) {
  const calls: Record<Op, number> = { get: 0, set: 0, touch: 0, destroy: 0, destroyByUser: 0 }
  const keys: string[] = []
  const store: SessionStore = {
    get: (k) => (calls.get++, inner.get(k)),
    set: (k, s, t) => (calls.set++, keys.push(k), inner.set(k, s, t)),
    touch: (k, s, t) => (calls.touch++, inner.touch(k, s, t)),
    destroy: (k) => (calls.destroy++, inner.destroy(k)),
    destroyByUser: (u) => (calls.destroyByUser++, inner.destroyByUser(u)),
  }
  return { store, calls, keys, inner }
}

const managers: SessionManager[] = []
function manager(options: Partial<SessionOptions> = {}): SessionManager {
  const m = createSessionManager({ secret, ...options })
  managers.push(m)
  return m
}
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()))
  vi.useRealTimers()
})

function valueOf(setCookie: string): string {
  const { value } = parseSetCookie(setCookie)
  if (!value) throw new Error('Set-Cookie without a value')
  return value
}
const requestWith = (m: SessionManager, ...values: string[]): AuthRequest => ({
  method: 'GET',
  url: '/',
  headers: values.length ? { cookie: values.map((v) => `${m.cookieName}=${v}`).join('; ') } : {},
})

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

function denied(result: SessionResult): Failure {
  if (result.ok) throw new Error('expected a failure')
  return result
}

describe('create and authenticate', () => {
  it('creates a session and accepts its cookie', async () => {
    const m = manager()
    const { session, setCookie } = await m.create({ userId: 'u1', roles: ['admin'], data: { plan: 'pro' } })
    expect(session).toMatchObject({ userId: 'u1', roles: ['admin'], data: { plan: 'pro' } })
    expect(session.expiresAt - session.createdAt).toBe(30 * MIN)
    expect(session.absoluteExpiresAt - session.createdAt).toBe(12 * 60 * MIN)
    const value = valueOf(setCookie)
    expect(value.startsWith(`${session.id}.`)).toBe(true)
    const result = await m.authenticate([value])
    expect(result).toEqual({ ok: true, session })
  })

  it('writes the cookie with the secure defaults and Max-Age = ttl', async () => {
    const m = manager({ ttl: '20m' })
    const { setCookie } = await m.create({ userId: 'u1' })
    expect(m.cookieName).toBe('__Host-gatehouse.sid')
    expect(parseSetCookie(setCookie)).toMatchObject({ name: '__Host-gatehouse.sid', maxAge: 1200, path: '/', httpOnly: true, secure: true, sameSite: 'lax' })
    expect(parseSetCookie(setCookie).domain).toBeUndefined()
  })

  it('uses configured cookie attributes', async () => {
    const m = manager({ cookie: { name: 'sid', secure: false, sameSite: 'strict', domain: 'example.com', path: '/app' } })
    const { setCookie } = await m.create({ userId: 'u1' })
    const parsed = parseSetCookie(setCookie)
    expect(parsed).toMatchObject({ name: 'sid', domain: 'example.com', path: '/app', httpOnly: true, sameSite: 'strict' })
    expect(parsed.secure).toBeFalsy()
  })

  it('stores sessions under a hash: neither keys nor records contain the id', async () => {
    const { store, keys, inner } = counting()
    const m = manager({ store })
    const { session } = await m.create({ userId: 'u1' })
    expect(keys).toHaveLength(1)
    expect(keys[0]).not.toContain(session.id)
    expect(JSON.stringify(await inner.get(keys[0] as string))).not.toContain(session.id)
  })

  it('defaults roles and data to empty', async () => {
    const { session } = await manager().create({ userId: 'u1' })
    expect(session.roles).toEqual([])
    expect(session.data).toEqual({})
  })

  it('refuses programmer mistakes with exact messages', async () => {
    const m = manager()
    await expect(m.create({ userId: '' })).rejects.toThrow(new TypeError('sessions.create: userId must be a non-empty string'))
    await expect(m.create({ userId: 'u', roles: 'admin' as unknown as string[] })).rejects.toThrow('sessions.create: roles must be an array of strings')
    await expect(m.create({ userId: 'u', data: new Map() as unknown as Record<string, unknown> })).rejects.toThrow('sessions.create: data must be a plain object')
    await expect(m.create({ userId: 'u', data: { n: 1n } })).rejects.toThrow(/sessions\.create: data must be JSON-serialisable/)
    await expect(m.revokeUser('')).rejects.toThrow('sessions.revokeUser: userId must be a non-empty string')
    await expect(m.destroy(42 as unknown as string)).rejects.toThrow(/sessions\.destroy: expected a request/)
  })

  it('does not alias the caller\'s roles and data', async () => {
    const m = manager()
    const roles = ['reader']
    const data = { plan: 'free' }
    const { setCookie } = await m.create({ userId: 'u1', roles, data })
    roles.push('admin')
    data.plan = 'pro'
    const result = await m.authenticate([valueOf(setCookie)])
    expect(result.ok && result.session.roles).toEqual(['reader'])
    expect(result.ok && result.session.data).toEqual({ plan: 'free' })
  })
})

describe('refusals', () => {
  it('no cookie → credentials_missing', async () => {
    expect(denied(await manager().authenticate([])).code).toBe('credentials_missing')
  })

  it('two cookies of the same name → session_invalid naming cookie tossing, before the store is asked', async () => {
    const { store, calls } = counting()
    const m = manager({ store })
    const a = valueOf((await m.create({ userId: 'u1' })).setCookie)
    const b = valueOf((await m.create({ userId: 'u2' })).setCookie)
    for (const values of [[a, b], [a, a]]) {
      const f = denied(await m.authenticate(values))
      expect(f.code).toBe('session_invalid')
      expect(f.hint).toMatch(/cookie tossing/)
      expect(f.detail).toEqual({ reason: 'duplicate', count: 2 })
    }
    expect(calls.get).toBe(0)
  })

  it('oversized and garbage values → session_invalid without asking the store', async () => {
    const { store, calls } = counting()
    const m = manager({ store })
    expect(denied(await m.authenticate(['x'.repeat(5000)])).detail).toEqual({ reason: 'oversized' })
    expect(denied(await m.authenticate(['not-a-session'])).detail).toEqual({ reason: 'malformed' })
    expect(denied(await m.authenticate([''])).code).toBe('session_invalid')
    expect(calls.get).toBe(0)
  })

  it('a store record that is not a session → session_invalid', async () => {
    const inner = memoryStore()
    const store: SessionStore = { ...inner, get: async () => ({ userId: 42 }) as unknown as StoredSession }
    const m = manager({ store })
    const { setCookie } = await m.create({ userId: 'u1' })
    expect(denied(await m.authenticate([valueOf(setCookie)])).detail).toEqual({ reason: 'malformed_record' })
  })

  it('hints never carry the cookie value or the session id', async () => {
    const m = manager({ store: memoryStore() })
    const { session, setCookie } = await m.create({ userId: 'u1' })
    const value = valueOf(setCookie)
    const failures = [
      await m.authenticate([value, value]),
      // Flip the top bit of the MAC's last character: a data bit, never a padding bit.
      await m.authenticate([`${value.slice(0, -1)}${B64URL[B64URL.indexOf(value.slice(-1)) ^ 32]}`]),
      await m.authenticate([value], { now: Date.now() + 31 * MIN }),
    ]
    await m.destroy(session.id)
    failures.push(await m.authenticate([value]))
    for (const f of failures) {
      const text = JSON.stringify(denied(f))
      expect(text).not.toContain(session.id)
      expect(text).not.toContain(value.split('.')[1])
    }
  })
})

describe('expiry (checked by core on every read)', () => {
  it('idle timeout: session_expired saying so, and when', async () => {
    const m = manager({ rolling: false })
    const { session, setCookie } = await m.create({ userId: 'u1' })
    const value = valueOf(setCookie)
    expect((await m.authenticate([value], { now: session.expiresAt - 1 })).ok).toBe(true)
    const f = denied(await m.authenticate([value], { now: session.expiresAt }))
    expect(f.code).toBe('session_expired')
    expect(f.detail).toEqual({ reason: 'idle', expiredAt: session.expiresAt })
    expect(f.hint).toContain('idle past its timeout (ttl 30m)')
    expect(f.hint).toContain(new Date(session.expiresAt).toISOString())
  })

  it('absolute lifetime: ends a session in constant use', async () => {
    const m = manager({ ttl: '1h', absoluteTtl: '2h' })
    const { session, setCookie } = await m.create({ userId: 'u1' })
    const value = valueOf(setCookie)
    const t0 = session.createdAt
    const at = async (minutes: number) => m.authenticate([value], { now: t0 + minutes * MIN })

    const r50 = await at(50)
    expect(r50.ok && r50.session.expiresAt).toBe(t0 + 110 * MIN)
    const r100 = await at(100)
    // Rolling never passes the absolute expiry, and the cookie lives only as long.
    expect(r100.ok && r100.session.expiresAt).toBe(session.absoluteExpiresAt)
    expect(r100.ok && parseSetCookie(r100.setCookie as string).maxAge).toBe(20 * 60)
    const r119 = await at(119)
    expect(r119.ok && r119.setCookie).toBeUndefined()
    const f = denied(await at(120))
    expect(f.code).toBe('session_expired')
    expect(f.detail).toEqual({ reason: 'absolute', expiredAt: session.absoluteExpiresAt })
    expect(f.hint).toContain('absolute lifetime (absoluteTtl 2h)')
    expect(f.hint).toContain(new Date(session.absoluteExpiresAt).toISOString())
  })

  it('does not trust the store: an expired session still present in the store is refused', async () => {
    const inner = memoryStore()
    // A store that never forgets anything (ignores ttlSeconds).
    const store: SessionStore = { ...inner, set: (k, s) => inner.set(k, s, 86_400), touch: (k, s) => inner.touch(k, s, 86_400) }
    const m = manager({ store, ttl: '1m', absoluteTtl: '1m' })
    const { session, setCookie } = await m.create({ userId: 'u1' })
    expect(await inner.get((await import('./session-cookie.js')).storeKey(session.id))).toBeDefined()
    expect(denied(await m.authenticate([valueOf(setCookie)], { now: session.createdAt + 2 * MIN })).code).toBe('session_expired')
  })
})

describe('rolling refresh', () => {
  it('within touchAfter a request only reads; after it, the store is written and the cookie refreshed', async () => {
    const { store, calls } = counting()
    const m = manager({ store, ttl: '10m', touchAfter: '1m' })
    const { session, setCookie } = await m.create({ userId: 'u1' })
    const value = valueOf(setCookie)
    const early = await m.authenticate([value], { now: session.createdAt + 30_000 })
    expect(early).toEqual({ ok: true, session })
    expect(calls.touch).toBe(0)

    const now = session.createdAt + 2 * MIN
    const late = await m.authenticate([value], { now })
    expect(calls.touch).toBe(1)
    if (!late.ok) throw new Error(late.hint)
    expect(late.session.expiresAt).toBe(now + 10 * MIN)
    expect(parseSetCookie(late.setCookie as string)).toMatchObject({ value, maxAge: 600, httpOnly: true })
    // The refresh is persisted: a read later sees the new expiry.
    const again = await m.authenticate([value], { now: now + 30_000 })
    expect(again.ok && again.session.expiresAt).toBe(now + 10 * MIN)
    expect(again.ok && again.setCookie).toBeUndefined()
  })

  it('a burst of requests writes the store once per touchAfter (sequential and concurrent)', async () => {
    const { store, calls } = counting()
    const m = manager({ store, ttl: '10m', touchAfter: '1m' })
    const { session, setCookie } = await m.create({ userId: 'u1' })
    const value = valueOf(setCookie)
    const t = session.createdAt + 2 * MIN
    for (let i = 0; i < 50; i++) expect((await m.authenticate([value], { now: t + i * 1000 })).ok).toBe(true)
    expect(calls.touch).toBe(1)
    const burst = await Promise.all(Array.from({ length: 50 }, () => m.authenticate([value], { now: t + 2 * MIN })))
    expect(burst.every((r) => r.ok)).toBe(true)
    expect(burst.filter((r) => r.ok && r.setCookie !== undefined)).toHaveLength(1)
    expect(calls.touch).toBe(2)
    expect(calls.get).toBe(100)
  })

  it('the throttle holds across instances through the stored lastSeenAt', async () => {
    const { store, calls } = counting()
    const a = manager({ store, ttl: '10m', touchAfter: '1m' })
    const b = manager({ store, ttl: '10m', touchAfter: '1m' })
    const { session, setCookie } = await a.create({ userId: 'u1' })
    const value = valueOf(setCookie)
    const t = session.createdAt + 2 * MIN
    await a.authenticate([value], { now: t })
    await b.authenticate([value], { now: t + 1000 })
    expect(calls.touch).toBe(1)
  })

  it('rolling: false never writes and never refreshes the cookie', async () => {
    const { store, calls } = counting()
    const m = manager({ store, rolling: false, ttl: '10m' })
    const { session, setCookie } = await m.create({ userId: 'u1' })
    const r = await m.authenticate([valueOf(setCookie)], { now: session.createdAt + 9 * MIN })
    expect(r).toEqual({ ok: true, session })
    expect(calls.touch).toBe(0)
  })

  it('touchAfter 0 writes on every use', async () => {
    const { store, calls } = counting()
    const m = manager({ store, ttl: '10m', touchAfter: 0 })
    const { session, setCookie } = await m.create({ userId: 'u1' })
    for (let i = 1; i <= 3; i++) await m.authenticate([valueOf(setCookie)], { now: session.createdAt + i * 1000 })
    expect(calls.touch).toBe(3)
  })
})

describe('secret rotation', () => {
  const oldSecret = 'o'.repeat(32)
  const newSecret = 'n'.repeat(32)

  it('accepts cookies signed with any configured secret and re-signs old ones with the first', async () => {
    const store = memoryStore()
    const before = manager({ secret: oldSecret, store })
    const { session, setCookie } = await before.create({ userId: 'u1' })
    const oldValue = valueOf(setCookie)

    const after = manager({ secret: [newSecret, oldSecret], store })
    const r = await after.authenticate([oldValue])
    if (!r.ok) throw new Error(r.hint)
    expect(r.session.id).toBe(session.id)
    const newValue = valueOf(r.setCookie as string)
    expect(newValue).toBe(signSessionId(session.id, newSecret))
    // Re-signing does not extend the session: Max-Age is what is left of the idle timeout.
    expect(parseSetCookie(r.setCookie as string).maxAge).toBeGreaterThanOrEqual(30 * 60 - 2)
    expect(parseSetCookie(r.setCookie as string).maxAge).toBeLessThanOrEqual(30 * 60)
    expect((await after.authenticate([newValue])).ok).toBe(true)
    // Once the old secret is retired, only the re-signed cookie works.
    const retired = manager({ secret: newSecret, store })
    expect((await retired.authenticate([newValue])).ok).toBe(true)
    expect(denied(await retired.authenticate([oldValue])).detail).toEqual({ reason: 'signature' })
  })

  it('signs new sessions with the first secret', async () => {
    const m = manager({ secret: [newSecret, oldSecret] })
    const { session, setCookie } = await m.create({ userId: 'u1' })
    expect(valueOf(setCookie)).toBe(signSessionId(session.id, newSecret))
  })
})

describe('store outage → auth_unavailable, never a throw or an allow', () => {
  const failing = (error: unknown, sync = false): SessionStore => {
    const inner = memoryStore()
    const fail = sync
      ? () => {
          throw error
        }
      : () => Promise.reject(error)
    return { ...inner, get: fail, touch: fail }
  }

  it('a store that rejects', async () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })
    const m = manager({ store: failing(err) })
    const value = signSessionId('A'.repeat(43), secret)
    const f = denied(await m.authenticate([value]))
    expect(f.code).toBe('auth_unavailable')
    expect(f.hint).toBe('session store get failed: Error (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:6379')
    expect(f.detail).toEqual({ reason: 'store', operation: 'get' })
  })

  it('a store that throws synchronously, or rejects with a non-Error', async () => {
    const value = signSessionId('A'.repeat(43), secret)
    expect(denied(await manager({ store: failing(new TypeError('boom'), true) }).authenticate([value])).hint).toBe('session store get failed: TypeError: boom')
    expect(denied(await manager({ store: failing('down') }).authenticate([value])).hint).toBe('session store get failed: a thrown string')
  })

  it('a store that hangs: answers within storeTimeout, and a late rejection stays handled', async () => {
    let rejectLate: (e: Error) => void = () => {}
    const inner = memoryStore()
    const store: SessionStore = { ...inner, get: () => new Promise((_, reject) => (rejectLate = reject)) }
    const m = manager({ store, storeTimeout: 0.1 })
    const started = performance.now()
    const f = denied(await m.authenticate([signSessionId('A'.repeat(43), secret)]))
    const elapsed = performance.now() - started
    expect(f.code).toBe('auth_unavailable')
    expect(f.hint).toBe('session store get timed out after 100 ms (storeTimeout)')
    expect(elapsed).toBeGreaterThanOrEqual(95)
    expect(elapsed).toBeLessThan(600)
    rejectLate(new Error('finally failed'))
    await new Promise((r) => setTimeout(r, 10))
  })

  it('a failing touch → auth_unavailable, and the next request retries it', async () => {
    const inner = memoryStore()
    let broken = true
    const store: SessionStore = { ...inner, touch: (k, s, t) => (broken ? Promise.reject(new Error('READONLY')) : inner.touch(k, s, t)) }
    const m = manager({ store, ttl: '10m', touchAfter: '1m' })
    const { session, setCookie } = await m.create({ userId: 'u1' })
    const value = valueOf(setCookie)
    const now = session.createdAt + 2 * MIN
    const f = denied(await m.authenticate([value], { now }))
    expect(f.code).toBe('auth_unavailable')
    expect(f.detail).toEqual({ reason: 'store', operation: 'touch' })
    broken = false
    const r = await m.authenticate([value], { now: now + 1000 })
    expect(r.ok && r.setCookie).toBeTypeOf('string')
  })

  it('create / destroy / revokeUser reject with a message that carries no session id', async () => {
    const inner = memoryStore()
    const down = () => Promise.reject(new Error('socket closed'))
    const m = manager({ store: { ...inner, set: down, destroy: down, destroyByUser: down } })
    await expect(m.create({ userId: 'u1' })).rejects.toThrow('sessions.create: session store set failed: Error: socket closed')
    const id = 'A'.repeat(43)
    const error = await m.destroy(id).catch((e: Error) => e)
    expect((error as Error).message).toBe('sessions.destroy: session store destroy failed: Error: socket closed')
    expect((error as Error).message).not.toContain(id)
    await expect(m.revokeUser('u1')).rejects.toThrow('sessions.revokeUser: session store destroyByUser failed: Error: socket closed')
  })

  it('a hanging create rejects after storeTimeout', async () => {
    const inner = memoryStore()
    const m = manager({ store: { ...inner, set: () => new Promise(() => {}) }, storeTimeout: 0.05 })
    await expect(m.create({ userId: 'u1' })).rejects.toThrow('sessions.create: session store set timed out after 50 ms (storeTimeout)')
  })
})

describe('destroy, revokeUser, regenerate', () => {
  it('destroy(req) ends the session and returns the clearing cookie', async () => {
    const m = manager()
    const { setCookie } = await m.create({ userId: 'u1' })
    const value = valueOf(setCookie)
    const clear = await m.destroy(requestWith(m, value))
    expect(clear).toBe('__Host-gatehouse.sid=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax')
    expect(denied(await m.authenticate([value])).code).toBe('session_invalid')
  })

  it('destroy(id) ends the session', async () => {
    const m = manager()
    const { session, setCookie } = await m.create({ userId: 'u1' })
    await m.destroy(session.id)
    expect(denied(await m.authenticate([valueOf(setCookie)])).detail).toEqual({ reason: 'unknown' })
  })

  it('destroy never throws on a missing, tampered or unknown cookie, and asks the store only for signed ones', async () => {
    const { store, calls } = counting()
    const m = manager({ store })
    const { setCookie } = await m.create({ userId: 'u1' })
    const value = valueOf(setCookie)
    const clear = (await m.destroy(requestWith(m))) as string
    expect(parseSetCookie(clear).maxAge).toBe(0)
    await m.destroy(requestWith(m, `${value.slice(0, -2)}AA`))
    await m.destroy(requestWith(m, 'garbage'))
    await m.destroy('not-an-id')
    expect(calls.destroy).toBe(0)
    expect((await m.authenticate([value])).ok).toBe(true)
    await m.destroy(requestWith(m, signSessionId('B'.repeat(43), secret)))
    expect(calls.destroy).toBe(1)
  })

  it('destroy with two cookies ends every validly signed one', async () => {
    const m = manager()
    const a = valueOf((await m.create({ userId: 'u1' })).setCookie)
    const b = valueOf((await m.create({ userId: 'u2' })).setCookie)
    await m.destroy(requestWith(m, a, b))
    expect((await m.authenticate([a])).ok).toBe(false)
    expect((await m.authenticate([b])).ok).toBe(false)
  })

  it('revokeUser ends every session of that user only', async () => {
    const m = manager()
    const mine = await Promise.all([1, 2, 3].map(() => m.create({ userId: 'u1' })))
    const theirs = await m.create({ userId: 'u2' })
    expect(await m.revokeUser('u1')).toBe(3)
    for (const { setCookie } of mine) expect(denied(await m.authenticate([valueOf(setCookie)])).code).toBe('session_invalid')
    expect((await m.authenticate([valueOf(theirs.setCookie)])).ok).toBe(true)
    expect(await m.revokeUser('u1')).toBe(0)
  })

  it('regenerate issues a new id, kills the old one, keeps the lifetime and applies changes', async () => {
    const m = manager()
    const first = await m.create({ userId: 'u1', roles: ['guest'], data: { cart: 2 } })
    const oldValue = valueOf(first.setCookie)
    const next = await m.regenerate(requestWith(m, oldValue), { roles: ['member'] })
    expect(next.session.id).not.toBe(first.session.id)
    expect(next.session).toMatchObject({ userId: 'u1', roles: ['member'], data: { cart: 2 }, createdAt: first.session.createdAt, absoluteExpiresAt: first.session.absoluteExpiresAt })
    expect(denied(await m.authenticate([oldValue])).code).toBe('session_invalid')
    const r = await m.authenticate([valueOf(next.setCookie)])
    expect(r.ok && r.session.roles).toEqual(['member'])
    const again = await m.regenerate(requestWith(m, valueOf(next.setCookie)), { data: { cart: 0 } })
    expect(again.session).toMatchObject({ roles: ['member'], data: { cart: 0 } })
  })

  it('regenerate without a valid session rejects with a clear error', async () => {
    const m = manager()
    await expect(m.regenerate(requestWith(m))).rejects.toThrow("sessions.regenerate: the request carries no valid session (credentials_missing: no '__Host-gatehouse.sid' cookie on the request)")
    await expect(m.regenerate(requestWith(m, 'forged'))).rejects.toThrow(/no valid session \(session_invalid: /)
    await expect(m.regenerate(requestWith(m, signSessionId('C'.repeat(43), secret)))).rejects.toThrow(/no valid session \(session_invalid: no such session/)
  })
})

describe('trace and close', () => {
  it('reports one session step, without the cookie value', async () => {
    const m = manager()
    const { setCookie } = await m.create({ userId: 'u1' })
    const value = valueOf(setCookie)
    const steps: TraceStep[] = []
    await m.authenticate([value], { trace: (s) => steps.push(s) })
    await m.authenticate(['bogus'], { trace: (s) => steps.push(s) })
    expect(steps.map((s) => [s.step, s.outcome])).toEqual([
      ['session', 'pass'],
      ['session', 'fail'],
    ])
    expect(steps[0]?.detail).toMatch(/^session of user 'u1' valid until /)
    expect(steps[1]?.data).toEqual({ code: 'session_invalid', reason: 'malformed' })
    expect(JSON.stringify(steps)).not.toContain(value)
  })

  it('close is idempotent, refuses later work, and closes only a store the manager created', async () => {
    const given = counting()
    const closeGiven = vi.fn(async () => {})
    const m = createSessionManager({ secret, store: { ...given.store, close: closeGiven } })
    const { setCookie } = await m.create({ userId: 'u1' })
    await Promise.all([m.close(), m.close()])
    expect(closeGiven).not.toHaveBeenCalled()
    expect(denied(await m.authenticate([valueOf(setCookie)])).code).toBe('auth_unavailable')
    await expect(m.create({ userId: 'u1' })).rejects.toThrow('sessions.create: the session manager was closed')
  })
})
