import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { GatehouseConfigError } from '../config-error.js'
import { parseOptions } from '../options-parse.js'
import { isInProcessStore, memoryStore } from './memory-store.js'
import { resolveSessionOptions, type SessionOptions, sessionOptionsSchema } from './session-options.js'

const secret = 's'.repeat(32)

function problems(options: unknown): Array<{ path: string; message: string }> {
  try {
    resolveSessionOptions(options as SessionOptions)
  } catch (error) {
    expect(error).toBeInstanceOf(GatehouseConfigError)
    return [...(error as GatehouseConfigError).problems]
  }
  throw new Error('expected a GatehouseConfigError')
}

function pathsOf(options: unknown): string[] {
  return problems(options).map((p) => p.path)
}

describe('resolveSessionOptions defaults', () => {
  it('applies the documented defaults', () => {
    const o = resolveSessionOptions({ secret })
    expect(o.cookie).toEqual({ name: '__Host-gatehouse.sid', secure: true, sameSite: 'lax', path: '/' })
    expect(o.ttlMs).toBe(30 * 60_000)
    expect(o.absoluteTtlMs).toBe(12 * 3_600_000)
    expect(o.rolling).toBe(true)
    expect(o.touchAfterMs).toBe(60_000)
    expect(o.storeTimeoutMs).toBe(2000)
    expect(o.secrets).toEqual([secret])
    expect(isInProcessStore(o.store)).toBe(true)
    expect(o.ownsStore).toBe(true)
  })

  it('touchAfter defaults to a tenth of ttl, capped at 60s', () => {
    expect(resolveSessionOptions({ secret, ttl: '5m' }).touchAfterMs).toBe(30_000)
    expect(resolveSessionOptions({ secret, ttl: 20 }).touchAfterMs).toBe(2000)
    expect(resolveSessionOptions({ secret, ttl: '8h', absoluteTtl: '1d' }).touchAfterMs).toBe(60_000)
    expect(resolveSessionOptions({ secret, touchAfter: 0 }).touchAfterMs).toBe(0)
  })

  it('picks the cookie name from secure, domain and path', () => {
    expect(resolveSessionOptions({ secret, cookie: { secure: false } }).cookie.name).toBe('gatehouse.sid')
    expect(resolveSessionOptions({ secret, cookie: { domain: 'example.com' } }).cookie.name).toBe('__Secure-gatehouse.sid')
    expect(resolveSessionOptions({ secret, cookie: { path: '/app' } }).cookie.name).toBe('__Secure-gatehouse.sid')
    expect(resolveSessionOptions({ secret, cookie: { name: 'sid', secure: false } }).cookie.name).toBe('sid')
  })

  it('keeps a store it was given and does not own it', () => {
    const store = memoryStore()
    const o = resolveSessionOptions({ secret, store })
    expect(o.store).toBe(store)
    expect(o.ownsStore).toBe(false)
  })

  it('accepts an array of secrets, the first one signing', () => {
    expect(resolveSessionOptions({ secret: [secret, 't'.repeat(40)] }).secrets).toEqual([secret, 't'.repeat(40)])
  })
})

describe('session configuration errors', () => {
  it('a missing or short secret', () => {
    expect(pathsOf({})).toEqual(['session.secret'])
    expect(pathsOf({ secret: 'short' })).toEqual(['session.secret'])
    expect(problems({ secret: 'short' })[0]?.message).toMatch(/at least 32/)
    expect(pathsOf({ secret: [secret, 'short'] })).toEqual(['session.secret[1]'])
    expect(pathsOf({ secret: [] })).toEqual(['session.secret'])
  })

  it('never echoes a secret in the message', () => {
    const leaked = 'hunter2-but-not-long-enough'
    const error = (() => {
      try {
        resolveSessionOptions({ secret: leaked })
      } catch (e) {
        return e as Error
      }
    })()
    expect(error?.message).not.toContain(leaked)
  })

  it('__Host- names need secure, no domain and path /', () => {
    expect(pathsOf({ secret, cookie: { name: '__Host-sid', domain: 'example.com' } })).toEqual(['session.cookie.domain'])
    expect(pathsOf({ secret, cookie: { name: '__Host-sid', path: '/app' } })).toEqual(['session.cookie.path'])
    expect(pathsOf({ secret, cookie: { name: '__Host-sid', secure: false } })).toEqual(['session.cookie.secure'])
    // Browsers match the prefix case-insensitively, so the check does too.
    expect(pathsOf({ secret, cookie: { name: '__HOST-sid', secure: false } })).toEqual(['session.cookie.secure'])
    expect(() => resolveSessionOptions({ secret, cookie: { name: '__Host-sid', path: '/' } })).not.toThrow()
  })

  it('__Secure- names need secure', () => {
    expect(pathsOf({ secret, cookie: { name: '__Secure-sid', secure: false } })).toEqual(['session.cookie.secure'])
    expect(() => resolveSessionOptions({ secret, cookie: { name: '__Secure-sid', domain: 'example.com' } })).not.toThrow()
  })

  it("sameSite 'none' needs secure", () => {
    expect(pathsOf({ secret, cookie: { sameSite: 'none', secure: false } })).toEqual(['session.cookie.sameSite'])
    expect(() => resolveSessionOptions({ secret, cookie: { sameSite: 'none' } })).not.toThrow()
  })

  it('absoluteTtl shorter than ttl', () => {
    expect(pathsOf({ secret, ttl: '2h', absoluteTtl: '1h' })).toEqual(['session.absoluteTtl'])
    expect(pathsOf({ secret, ttl: '13h' })).toEqual(['session.absoluteTtl'])
    expect(problems({ secret, ttl: '2h', absoluteTtl: '1h' })[0]?.message).toMatch(/3600s < 7200s/)
  })

  it('touchAfter not shorter than ttl, a zero ttl or storeTimeout', () => {
    expect(pathsOf({ secret, ttl: '10m', touchAfter: '10m' })).toEqual(['session.touchAfter'])
    expect(pathsOf({ secret, ttl: 0 })).toEqual(['session.ttl'])
    expect(pathsOf({ secret, storeTimeout: 0 })).toEqual(['session.storeTimeout'])
  })

  it('bad durations name the value and the accepted forms', () => {
    const [p] = problems({ secret, ttl: '30 minutes' })
    expect(p?.path).toBe('session.ttl')
    expect(p?.message).toMatch(/'30s', '15m'/)
    expect(pathsOf({ secret, absoluteTtl: -1 })).toEqual(['session.absoluteTtl'])
    expect(pathsOf({ secret, storeTimeout: true })).toEqual(['session.storeTimeout'])
  })

  it('unknown options, at both levels', () => {
    const found = problems({ secret, ttlSeconds: 5, cookie: { httpOnly: false } })
    expect(found.map((p) => p.path).sort()).toEqual(['session', 'session.cookie'])
    expect(found.map((p) => p.message).join(' ')).toMatch(/'ttlSeconds'/)
    expect(found.map((p) => p.message).join(' ')).toMatch(/'httpOnly'/)
  })

  it('bad cookie name, domain, path and sameSite', () => {
    expect(pathsOf({ secret, cookie: { name: 'a b' } })).toEqual(['session.cookie.name'])
    expect(pathsOf({ secret, cookie: { name: 'a=b' } })).toEqual(['session.cookie.name'])
    expect(pathsOf({ secret, cookie: { domain: 'https://example.com' } })).toEqual(['session.cookie.domain'])
    expect(pathsOf({ secret, cookie: { path: 'app' } })).toEqual(['session.cookie.path'])
    expect(pathsOf({ secret, cookie: { path: '/a;b' } })).toEqual(['session.cookie.path'])
    expect(pathsOf({ secret, cookie: { sameSite: 'Lax' } })).toEqual(['session.cookie.sameSite'])
  })

  it('a store missing methods says which', () => {
    const [p] = problems({ secret, store: { get: async () => undefined } })
    expect(p?.path).toBe('session.store')
    expect(p?.message).toMatch(/missing methods set, touch, destroy, destroyByUser/)
    expect(pathsOf({ secret, store: 'redis://localhost' })).toEqual(['session.store'])
  })

  it('reports every problem at once', () => {
    const paths = pathsOf({ secret: 'short', ttl: 'soon', cookie: { name: '__Host-x', domain: 'example.com', sameSite: 'none', secure: false } })
    expect(paths).toEqual(expect.arrayContaining(['session.secret', 'session.ttl', 'session.cookie.domain', 'session.cookie.secure', 'session.cookie.sameSite']))
  })

  it('composes under `session` with the same paths', () => {
    const schema = z.object({ session: sessionOptionsSchema.optional() }).strict()
    try {
      parseOptions(schema, { session: { secret, cookie: { name: '__Host-x', domain: 'example.com' } } }, 'gatehouse')
      expect.unreachable()
    } catch (error) {
      expect((error as GatehouseConfigError).problems.map((p) => p.path)).toEqual(['session.cookie.domain'])
    }
  })
})
