import { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { Allow, AuthRequest, Decision, SessionRecord } from '@gatehouse/core'
import { denyDecision } from '@gatehouse/core'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { WebSocket } from 'ws'
import { createSocketWatcher, expiryOf, MAX_TIMER_DELAY, runAt, type WatcherConfig } from './expiry.js'

class FakeSocket extends EventEmitter {
  readonly OPEN = 1
  readyState = 1
  closes: Array<[number, string]> = []
  close(code: number, reason: string): void {
    this.closes.push([code, reason])
    this.readyState = 3
    this.emit('close', code, Buffer.from(reason))
  }
}

const DAY = 86_400_000
const T0 = Date.UTC(2030, 0, 1)
const request: AuthRequest = { method: 'GET', url: '/ws', headers: {} }
const req = { url: '/ws' } as IncomingMessage

function bearer(expSeconds: number | undefined): Allow {
  return { ok: true, via: 'bearer', principal: { id: 'alice', roles: [], scopes: [] }, claims: { sub: 'alice', exp: expSeconds }, headers: {} }
}

function session(expiresAt: number, absoluteExpiresAt: number): Allow {
  const record: SessionRecord = { id: 's1', userId: 'alice', roles: [], data: {}, createdAt: T0, expiresAt, absoluteExpiresAt }
  return { ok: true, via: 'session', principal: { id: 'alice', roles: [], scopes: [] }, session: record, headers: {} }
}

const deny = (code: Parameters<typeof denyDecision>[0]) => denyDecision(code, 'test', { realm: 'gatehouse', presented: 'session' })

function watcher(overrides: Partial<WatcherConfig> = {}) {
  const onRevalidated = vi.fn()
  const onError = vi.fn()
  const checkUpgrade = vi.fn<(r: AuthRequest) => Promise<Decision>>()
  const config: WatcherConfig = {
    auth: { realm: 'gatehouse', checkUpgrade, decide: () => Promise.reject(new Error('unused')), respond: () => ({ status: 401, headers: {}, body: '' }) },
    enforceExpiry: true,
    revalidateMs: undefined,
    onRevalidated,
    onError,
    ...overrides,
  }
  return { w: createSocketWatcher(config), checkUpgrade, onRevalidated, onError }
}

function open(w: ReturnType<typeof createSocketWatcher>, allow: Allow): FakeSocket {
  const ws = new FakeSocket()
  w.watch(ws as unknown as WebSocket, allow, request, req)
  return ws
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('expiryOf', () => {
  it('reads the token exp in seconds', () => {
    expect(expiryOf(bearer(T0 / 1000 + 60))).toEqual({ at: T0 + 60_000, code: 'token_expired' })
  })

  it('takes the earlier of the idle and absolute session expiry', () => {
    expect(expiryOf(session(T0 + 5000, T0 + 9000))).toEqual({ at: T0 + 5000, code: 'session_expired' })
    expect(expiryOf(session(T0 + 9000, T0 + 5000))).toEqual({ at: T0 + 5000, code: 'session_expired' })
  })

  it('is undefined for a public allow or a token without a usable exp', () => {
    expect(expiryOf({ ok: true, via: 'public', principal: null, headers: {} })).toBeUndefined()
    expect(expiryOf(bearer(undefined))).toBeUndefined()
    expect(expiryOf(bearer(Number.POSITIVE_INFINITY))).toBeUndefined()
  })
})

describe('runAt', () => {
  it('never hands setTimeout a delay above 2^31-1 ms and fires at the deadline, not at the overflow', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout')
    const run = vi.fn()
    let timer: ReturnType<typeof setTimeout> | undefined
    runAt(T0 + 40 * DAY, run, (t) => (timer = t))
    vi.advanceTimersByTime(MAX_TIMER_DELAY + 1)
    expect(run).not.toHaveBeenCalled()
    vi.advanceTimersByTime(40 * DAY - MAX_TIMER_DELAY - 2)
    expect(run).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(run).toHaveBeenCalledTimes(1)
    for (const call of spy.mock.calls) expect(call[1]).toBeLessThanOrEqual(MAX_TIMER_DELAY)
    expect(spy.mock.calls.length).toBeGreaterThanOrEqual(2)
    expect(timer).toBeDefined()
    spy.mockRestore()
  })

  it('runs a deadline already past on the next timer turn, not synchronously', () => {
    const run = vi.fn()
    runAt(T0 - 1000, run, () => {})
    expect(run).not.toHaveBeenCalled()
    vi.advanceTimersByTime(0)
    expect(run).toHaveBeenCalledTimes(1)
  })

  it('waits again when the clock was set back while waiting', () => {
    const run = vi.fn()
    runAt(T0 + 10_000, run, () => {})
    vi.setSystemTime(T0 - 5000)
    vi.advanceTimersByTime(10_000)
    expect(run).not.toHaveBeenCalled()
    vi.advanceTimersByTime(5000)
    expect(run).toHaveBeenCalledTimes(1)
  })
})

describe('createSocketWatcher: expiry', () => {
  it('closes with 4401 token_expired exactly when exp passes', () => {
    const { w } = watcher()
    const ws = open(w, bearer(T0 / 1000 + 2))
    vi.advanceTimersByTime(1999)
    expect(ws.closes).toEqual([])
    vi.advanceTimersByTime(1)
    expect(ws.closes).toEqual([[4401, 'token_expired']])
    expect(w.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('closes with 4401 session_expired at the earlier session expiry', () => {
    const { w } = watcher()
    const ws = open(w, session(T0 + 9000, T0 + 3000))
    vi.advanceTimersByTime(3000)
    expect(ws.closes).toEqual([[4401, 'session_expired']])
  })

  it('closes a socket whose token runs for 30 days after 30 days, not after the 2^31-1 ms overflow', () => {
    const { w } = watcher()
    const ws = open(w, bearer(T0 / 1000 + 30 * 86_400))
    vi.advanceTimersByTime(MAX_TIMER_DELAY + 1000)
    expect(ws.closes).toEqual([])
    vi.advanceTimersByTime(30 * DAY - MAX_TIMER_DELAY - 1000)
    expect(ws.closes).toEqual([[4401, 'token_expired']])
  })

  it('closes exactly at exp, never a millisecond early, for any lifetime up to 100 days (property)', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout')
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 * 86_400 }), fc.integer({ min: 0, max: 999 }), (lifetime, offsetMs) => {
        vi.clearAllTimers()
        vi.setSystemTime(T0 + offsetMs)
        spy.mockClear()
        const { w } = watcher()
        const exp = T0 / 1000 + lifetime
        const ws = open(w, bearer(exp))
        const due = Math.max(exp * 1000 - Date.now(), 0)
        if (due > 0) {
          vi.advanceTimersByTime(due - 1)
          if (ws.closes.length !== 0) return false
        }
        vi.advanceTimersByTime(due > 0 ? 1 : 0)
        return (
          JSON.stringify(ws.closes) === JSON.stringify([[4401, 'token_expired']]) &&
          Date.now() >= exp * 1000 &&
          spy.mock.calls.every((call) => (call[1] ?? 0) <= MAX_TIMER_DELAY) &&
          w.size === 0
        )
      }),
      { numRuns: 200 },
    )
    spy.mockRestore()
  })

  it('does not watch a public socket, nor anything with enforceExpiry off and no re-validation', () => {
    const { w } = watcher()
    open(w, { ok: true, via: 'public', principal: null, headers: {} })
    expect(w.size).toBe(0)
    const off = watcher({ enforceExpiry: false }).w
    open(off, bearer(T0 / 1000 + 2))
    expect(off.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('clears the timer when the socket closes first', () => {
    const { w } = watcher()
    const ws = open(w, bearer(T0 / 1000 + 3600))
    expect(vi.getTimerCount()).toBe(1)
    ws.close(1000, 'bye')
    expect(w.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('does not close a socket that is already closing', () => {
    const { w } = watcher()
    const ws = open(w, bearer(T0 / 1000 + 1))
    ws.readyState = 2
    vi.advanceTimersByTime(1000)
    expect(ws.closes).toEqual([])
    expect(w.size).toBe(0)
  })

  it('close() clears every timer and leaves the sockets open', () => {
    const { w } = watcher({ revalidateMs: 1000 })
    const sockets = [open(w, bearer(T0 / 1000 + 60)), open(w, session(T0 + 60_000, T0 + 120_000)), open(w, bearer(T0 / 1000 + 90))]
    expect(w.size).toBe(3)
    expect(vi.getTimerCount()).toBe(6)
    w.close()
    expect(w.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(DAY)
    for (const ws of sockets) expect(ws.closes).toEqual([])
  })
})

describe('createSocketWatcher: re-validation', () => {
  it('closes with 4401 and the deny code when the session was destroyed', async () => {
    const { w, checkUpgrade } = watcher({ revalidateMs: 1000 })
    checkUpgrade.mockResolvedValue(deny('session_invalid'))
    const ws = open(w, session(T0 + DAY, T0 + DAY))
    await vi.advanceTimersByTimeAsync(999)
    expect(checkUpgrade).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(checkUpgrade).toHaveBeenCalledWith(request)
    expect(ws.closes).toEqual([[4401, 'session_invalid']])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('closes with 4403 for a 403-class deny and 1011 when the check fails', async () => {
    const { w, checkUpgrade, onError } = watcher({ revalidateMs: 1000 })
    checkUpgrade.mockResolvedValueOnce(deny('insufficient_role'))
    const a = open(w, bearer(T0 / 1000 + 3600))
    await vi.advanceTimersByTimeAsync(1000)
    expect(a.closes).toEqual([[4403, 'insufficient_role']])
    const boom = new Error('store down')
    checkUpgrade.mockRejectedValueOnce(boom)
    const b = open(w, bearer(T0 / 1000 + 3600))
    await vi.advanceTimersByTimeAsync(1000)
    expect(b.closes).toEqual([[1011, 'auth_unavailable']])
    expect(onError).toHaveBeenCalledWith(boom, req)
  })

  it('keeps the socket on allow, hands over the newer decision and re-arms the rolled session expiry', async () => {
    const { w, checkUpgrade, onRevalidated } = watcher({ revalidateMs: 1000 })
    const rolled = session(T0 + 4000, T0 + DAY)
    checkUpgrade.mockResolvedValue(rolled)
    const ws = open(w, session(T0 + 1500, T0 + DAY))
    await vi.advanceTimersByTimeAsync(1000)
    expect(onRevalidated).toHaveBeenCalledWith(ws, rolled)
    // Without the re-arm the first deadline (T0 + 1500) would close it here.
    await vi.advanceTimersByTimeAsync(1000)
    expect(ws.closes).toEqual([])
    // Every re-check keeps answering with the same record, whose idle expiry is T0 + 4000.
    await vi.advanceTimersByTimeAsync(2000)
    expect(ws.closes).toEqual([[4401, 'session_expired']])
  })

  it('never runs two checks for one socket at once and ignores a result that arrives after the close', async () => {
    const { w, checkUpgrade, onRevalidated } = watcher({ revalidateMs: 100 })
    let release: (d: Decision) => void = () => {}
    checkUpgrade.mockImplementation(() => new Promise<Decision>((resolve) => (release = resolve)))
    const ws = open(w, bearer(T0 / 1000 + 3600))
    await vi.advanceTimersByTimeAsync(1000)
    expect(checkUpgrade).toHaveBeenCalledTimes(1)
    ws.close(1000, 'client left')
    release(deny('token_revoked'))
    await vi.advanceTimersByTimeAsync(1000)
    expect(ws.closes).toEqual([[1000, 'client left']])
    expect(onRevalidated).not.toHaveBeenCalled()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('re-validates a socket whose decision has no expiry, with enforceExpiry off', async () => {
    const { w, checkUpgrade } = watcher({ enforceExpiry: false, revalidateMs: 500 })
    checkUpgrade.mockResolvedValue(deny('origin_rejected'))
    const ws = open(w, bearer(T0 / 1000 + 1))
    await vi.advanceTimersByTimeAsync(500)
    expect(ws.closes).toEqual([[4403, 'origin_rejected']])
  })
})
