import { createHmac } from 'node:crypto'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { readCookie } from '../src/cookies.js'
import type { AuthRequest } from '../src/decision.js'
import { memoryStore } from '../src/session/memory-store.js'
import { signSessionId } from '../src/session/session-cookie.js'
import { createSessionManager, type SessionManager, type SessionResult } from '../src/session/session-manager.js'
import type { SessionOptions } from '../src/session/session-options.js'
import type { SessionStore } from '../src/session/store.js'

const secret = 'server-secret-'.padEnd(40, 'x')
const MIN = 60_000

const managers: SessionManager[] = []
function manager(options: Partial<SessionOptions> = {}): SessionManager {
  const m = createSessionManager({ secret, ...options })
  managers.push(m)
  return m
}
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()))
})

const valueOf = (setCookie: string) => (setCookie.split(';')[0] as string).split('=')[1] as string
const requestWith = (m: SessionManager, cookie: string): AuthRequest => ({ method: 'GET', url: '/', headers: { cookie: `${m.cookieName}=${cookie}` } })
const code = (r: SessionResult) => (r.ok ? 'ok' : r.code)
const reason = (r: SessionResult) => (r.ok ? undefined : r.detail?.reason)

/** A store that counts reads, so tests can prove a forged cookie never reaches it. */
function watched(inner: SessionStore = memoryStore()) {
  const seen = { get: 0 }
  const store: SessionStore = { ...inner, get: (k) => (seen.get++, inner.get(k)) }
  return { store, seen }
}

function flipBit(base64url: string, bit: number): string {
  const bytes = Buffer.from(base64url, 'base64url')
  bytes[bit >> 3] = (bytes[bit >> 3] as number) ^ (1 << (bit & 7))
  return bytes.toString('base64url')
}

describe('session fixation', () => {
  it('a client-chosen id without the server signature is refused before the store is asked', async () => {
    const { store, seen } = watched()
    const m = manager({ store })
    const chosen = 'attacker-chosen-session-id-0000000000000000'
    expect(chosen).toHaveLength(43)
    for (const forged of [chosen, `${chosen}.${'A'.repeat(43)}`, `${chosen}.${createHmac('sha256', 'guess'.repeat(8)).update(chosen).digest('base64url')}`]) {
      expect(code(await m.authenticate([forged]))).toBe('session_invalid')
    }
    expect(seen.get).toBe(0)
  })

  it('a well-formed, validly signed id the server never issued is refused (session_invalid)', async () => {
    const m = manager()
    const r = await m.authenticate([signSessionId('Z'.repeat(43), secret)])
    expect(code(r)).toBe('session_invalid')
    expect(reason(r)).toBe('unknown')
  })

  it('logging in never adopts a session id the browser already carries', async () => {
    const m = manager()
    // The attacker obtains a real session and plants its cookie in the victim's browser.
    const planted = await m.create({ userId: 'attacker' })
    const plantedValue = valueOf(planted.setCookie)
    // The victim logs in; the app creates a session (the planted cookie is ignored).
    const victim = await m.create({ userId: 'victim', roles: ['admin'] })
    expect(victim.session.id).not.toBe(planted.session.id)
    const r = await m.authenticate([plantedValue])
    expect(r.ok && r.session.userId).toBe('attacker')
    expect(r.ok && r.session.roles).toEqual([])
  })

  it('regenerate kills the old id, even while other requests keep using it', async () => {
    const m = manager()
    const before = await m.create({ userId: 'u1' })
    const oldValue = valueOf(before.setCookie)
    const [, regenerated] = await Promise.all([m.authenticate([oldValue]), m.regenerate(requestWith(m, oldValue), { roles: ['admin'] })])
    expect(code(await m.authenticate([oldValue]))).toBe('session_invalid')
    const r = await m.authenticate([valueOf(regenerated.setCookie)])
    expect(r.ok && r.session.roles).toEqual(['admin'])
    // The dead id cannot be regenerated again into a live one.
    await expect(m.regenerate(requestWith(m, oldValue))).rejects.toThrow(/no valid session/)
  })
})

describe('tampering', () => {
  it('every single-bit flip of the id or of the MAC is refused without a store read', async () => {
    const { store, seen } = watched()
    const m = manager({ store })
    const value = valueOf((await m.create({ userId: 'u1' })).setCookie)
    const [id, mac] = value.split('.') as [string, string]
    for (let bit = 0; bit < 256; bit++) {
      expect(code(await m.authenticate([`${flipBit(id, bit)}.${mac}`]))).toBe('session_invalid')
      expect(code(await m.authenticate([`${id}.${flipBit(mac, bit)}`]))).toBe('session_invalid')
    }
    expect(seen.get).toBe(0)
    expect(code(await m.authenticate([value]))).toBe('ok')
  })

  it('swapped MACs between two real sessions are refused', async () => {
    const m = manager()
    const a = valueOf((await m.create({ userId: 'alice' })).setCookie).split('.')
    const b = valueOf((await m.create({ userId: 'bob' })).setCookie).split('.')
    expect(code(await m.authenticate([`${a[0]}.${b[1]}`]))).toBe('session_invalid')
    expect(code(await m.authenticate([`${b[0]}.${a[1]}`]))).toBe('session_invalid')
  })

  it('a cookie signed with another secret is refused, even for a live session id', async () => {
    const store = memoryStore()
    const m = manager({ store })
    const { session } = await m.create({ userId: 'u1' })
    const r = await m.authenticate([signSessionId(session.id, 'another-service-secret'.padEnd(32, '!'))])
    expect(code(r)).toBe('session_invalid')
    expect(reason(r)).toBe('signature')
  })

  it('cosmetic variants of a valid cookie are refused (case, padding, encoding, whitespace)', async () => {
    const m = manager()
    const value = valueOf((await m.create({ userId: 'u1' })).setCookie)
    const variants = [value.toUpperCase(), value.toLowerCase(), `${value}=`, `${value}==`, value.replace('.', '%2E'), ` ${value}`, `${value}\u0000`, `${value}.${value.split('.')[1]}`]
    for (const v of variants) if (v !== value) expect(code(await m.authenticate([v]))).toBe('session_invalid')
  })

  it('cookie tossing: a planted second cookie of the same name makes the request fail closed', async () => {
    const m = manager()
    const victim = valueOf((await m.create({ userId: 'victim' })).setCookie)
    const attacker = valueOf((await m.create({ userId: 'attacker' })).setCookie)
    // A sibling subdomain set `Path=/api` so its cookie is sent first.
    const headers = { cookie: `${m.cookieName}=${attacker}; theme=dark; ${m.cookieName}=${victim}` }
    const r = await m.authenticate(readCookie(headers, m.cookieName))
    expect(code(r)).toBe('session_invalid')
    expect(reason(r)).toBe('duplicate')
  })
})

describe('logout races', () => {
  /** A store whose touch pauses until released, so a logout can land while it is in flight. */
  function gated() {
    const inner = memoryStore()
    let release: () => void = () => {}
    let entered: () => void = () => {}
    const touchStarted = new Promise<void>((r) => (entered = r))
    const gate = new Promise<void>((r) => (release = r))
    const store: SessionStore = {
      ...inner,
      async touch(k, s, t) {
        entered()
        await gate
        return inner.touch(k, s, t)
      },
    }
    return { store, inner, release, touchStarted }
  }

  it('destroy while a rolling touch is in flight: the session stays dead', async () => {
    const { store, release, touchStarted } = gated()
    const m = manager({ store, ttl: '10m', touchAfter: '1m' })
    const { session, setCookie } = await m.create({ userId: 'u1' })
    const value = valueOf(setCookie)
    const refreshing = m.authenticate([value], { now: session.createdAt + 2 * MIN })
    await touchStarted
    await m.destroy(requestWith(m, value))
    release()
    const r = await refreshing
    expect(code(r)).toBe('session_invalid')
    expect(reason(r)).toBe('destroyed')
    expect(code(await m.authenticate([value], { now: session.createdAt + 3 * MIN }))).toBe('session_invalid')
  })

  it('revokeUser while a rolling touch is in flight: the session stays dead', async () => {
    const { store, release, touchStarted, inner } = gated()
    const m = manager({ store, ttl: '10m', touchAfter: '1m' })
    const { session, setCookie } = await m.create({ userId: 'u1' })
    const refreshing = m.authenticate([valueOf(setCookie)], { now: session.createdAt + 2 * MIN })
    await touchStarted
    expect(await m.revokeUser('u1')).toBe(1)
    release()
    expect(code(await refreshing)).toBe('session_invalid')
    expect(await inner.destroyByUser('u1')).toBe(0)
  })
})

describe('no cookie value makes authenticate throw', () => {
  it('arbitrary strings and lists of them', async () => {
    const m = manager()
    const valid = valueOf((await m.create({ userId: 'u1' })).setCookie)
    const mutated = fc.tuple(fc.nat({ max: valid.length - 1 }), fc.string({ unit: 'binary', minLength: 0, maxLength: 3 })).map(([i, s]) => valid.slice(0, i) + s + valid.slice(i + 1))
    const value = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 100 }),
      fc.stringMatching(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/),
      mutated,
      fc.string({ minLength: 4090, maxLength: 5000 }),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(value, { maxLength: 3 }), fc.option(fc.integer(), { nil: undefined }), async (values, now) => {
        let result: SessionResult
        try {
          result = await m.authenticate(values, now === undefined ? undefined : { now })
        } catch (error) {
          throw new Error(`authenticate threw: ${String(error)}`)
        }
        if (values.length === 1 && values[0] === valid) return
        expect(result.ok).toBe(false)
      }),
      { numRuns: 2000 },
    )
  })
})
