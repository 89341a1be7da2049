import type { IncomingMessage } from 'node:http'
import type { Allow, AuthRequest, Decision } from '@gatehouse/core'
import type { WebSocket } from 'ws'
import { CLOSE_CODES, type UpgradeAuth, unavailable } from './reject.js'

/**
 * The longest delay `setTimeout` honours. A longer one overflows and fires after 1 ms, which
 * would close a socket whose token still has weeks to run, so longer waits are taken in steps.
 */
export const MAX_TIMER_DELAY = 2 ** 31 - 1

/** The reason a socket is closed with when its credentials run out. */
export type ExpiryCode = 'token_expired' | 'session_expired'

/** When an allow stops holding, in epoch milliseconds, and the code that says why. */
export interface Expiry {
  at: number
  code: ExpiryCode
}

/**
 * The earliest of the token's `exp` (`Allow.claims.exp`, epoch seconds) and the session's idle
 * and absolute expiries (`Allow.session`, epoch milliseconds); `undefined` when neither applies,
 * as for a public upgrade.
 */
export function expiryOf(allow: Allow): Expiry | undefined {
  let found: Expiry | undefined
  const exp = allow.claims?.exp
  if (typeof exp === 'number' && Number.isFinite(exp)) found = { at: exp * 1000, code: 'token_expired' }
  const session = allow.session
  if (session !== undefined) {
    const at = Math.min(session.expiresAt, session.absoluteExpiresAt)
    if (Number.isFinite(at) && (found === undefined || at < found.at)) found = { at, code: 'session_expired' }
  }
  return found
}

type Timer = ReturnType<typeof setTimeout>

/**
 * Runs `run` once the clock reaches `time`. Waits longer than {@link MAX_TIMER_DELAY} are taken
 * in steps, and every step re-reads the clock, so an early wake-up (or a clock set back) waits
 * again instead of firing. `keep` receives each timer so its owner can clear the current one.
 */
export function runAt(time: number, run: () => void, keep: (timer: Timer) => void): void {
  const step = (): void => {
    const left = time - Date.now()
    if (left > 0) keep(setTimeout(step, Math.min(left, MAX_TIMER_DELAY)))
    else run()
  }
  // Always through a timer, even when already due: the connection handler sees an open socket first.
  keep(setTimeout(step, Math.min(Math.max(time - Date.now(), 0), MAX_TIMER_DELAY)))
}

/** What the watcher needs from the upgrade handler. */
export interface WatcherConfig {
  auth: UpgradeAuth
  /** Close sockets when their token or session expires. */
  enforceExpiry: boolean
  /** Re-run `checkUpgrade` this often (milliseconds); `undefined` turns re-validation off. */
  revalidateMs: number | undefined
  /** Receives the newer decision after a re-validation allowed the socket again. */
  onRevalidated: (ws: WebSocket, allow: Allow) => void
  /** Receives what a re-validation's `checkUpgrade` threw, with the socket's upgrade request. */
  onError: (error: unknown, req: IncomingMessage) => void
}

/** Closes open sockets when their credentials stop holding. */
export interface SocketWatcher {
  /** Starts watching a socket just opened with `allow` for `request` (built from `req`). */
  watch(ws: WebSocket, allow: Allow, request: AuthRequest, req: IncomingMessage): void
  /** How many sockets hold a timer. */
  readonly size: number
  /** Clears every timer; sockets stay open but are no longer watched. */
  close(): void
}

interface Entry {
  ws: WebSocket
  request: AuthRequest
  req: IncomingMessage
  expiry: Timer | undefined
  recheck: Timer | undefined
}

/**
 * Keeps a registry of watched sockets, each with at most one expiry timer and one re-validation
 * timer. Both are cleared when the socket closes, whoever closes it, and all of them by `close()`.
 */
export function createSocketWatcher(config: WatcherConfig): SocketWatcher {
  const { auth, enforceExpiry, revalidateMs, onRevalidated, onError } = config
  const entries = new Set<Entry>()

  function forget(entry: Entry): void {
    clearTimeout(entry.expiry)
    clearTimeout(entry.recheck)
    entry.expiry = entry.recheck = undefined
    entries.delete(entry)
  }

  function end(entry: Entry, code: number, reason: string): void {
    forget(entry)
    // CONNECTING is impossible here; CLOSING or CLOSED means someone else is already closing it.
    if (entry.ws.readyState === entry.ws.OPEN) entry.ws.close(code, reason)
  }

  function armExpiry(entry: Entry, allow: Allow): void {
    clearTimeout(entry.expiry)
    entry.expiry = undefined
    const expiry = enforceExpiry ? expiryOf(allow) : undefined
    if (expiry === undefined) return
    runAt(expiry.at, () => end(entry, CLOSE_CODES[401], expiry.code), (t) => (entry.expiry = t))
  }

  function armRecheck(entry: Entry, every: number): void {
    runAt(Date.now() + every, () => void recheck(entry, every), (t) => (entry.recheck = t))
  }

  async function recheck(entry: Entry, every: number): Promise<void> {
    entry.recheck = undefined
    let decision: Decision
    try {
      decision = await auth.checkUpgrade(entry.request)
    } catch (error) {
      onError(error, entry.req)
      decision = unavailable(auth, error)
    }
    // The socket closed, or the watcher was closed, while the check ran.
    if (!entries.has(entry)) return
    if (!decision.ok) return end(entry, CLOSE_CODES[decision.status], decision.code)
    onRevalidated(entry.ws, decision)
    // A rolling session was just used and moved its idle expiry; the token's exp stays put.
    armExpiry(entry, decision)
    armRecheck(entry, every)
  }

  return {
    watch(ws, allow, request, req) {
      const expires = enforceExpiry && expiryOf(allow) !== undefined
      if (!expires && revalidateMs === undefined) return
      const entry: Entry = { ws, request, req, expiry: undefined, recheck: undefined }
      entries.add(entry)
      ws.once('close', () => forget(entry))
      armExpiry(entry, allow)
      if (revalidateMs !== undefined) armRecheck(entry, revalidateMs)
    },
    get size() {
      return entries.size
    },
    close() {
      for (const entry of entries) forget(entry)
    },
  }
}
