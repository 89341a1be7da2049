import { clean, type TokenValue } from './token'

export interface RefresherOptions {
  refresh?: (() => TokenValue | Promise<TokenValue>) | undefined
  onUnauthorized?: ((error?: unknown) => void) | undefined
  /** Reads the token as a request would. */
  read: () => Promise<string | undefined>
  /** Web Locks name shared by every tab, or false. */
  lock: string | false
  onToken: (token: string) => void
}

/**
 * One refresh per burst of failures. A request takes a `snapshot()` when it reads its token; on
 * failure it calls `recover()`, which joins the refresh in flight, reuses the result of a refresh
 * that settled after the request was sent, or starts a new one.
 */
export interface Refresher {
  /** True only while `refresh()` runs synchronously: the requests it starts then are its own. */
  inside(): boolean
  snapshot(): number
  /** The token to retry with, or null: give up and hand the failure to the caller. */
  recover(sent: string | undefined, snapshot: number): Promise<string | null>
}

export function createRefresher(options: RefresherOptions): Refresher {
  const { refresh, onUnauthorized, read, lock, onToken } = options
  let flight: Promise<string | null> | undefined
  let settled = 0
  let last: string | null = null
  let inside = false

  // Tabs share cookies and refresh tokens, and a rotating refresh token used twice is often
  // treated as theft; so tabs take turns, and a tab that waited re-reads the token first.
  const locked = <T>(work: () => Promise<T>): Promise<T> => {
    const locks = lock ? globalThis.navigator?.locks : undefined
    return lock && locks ? locks.request(lock, work) : work()
  }

  const run = async (sent: string | undefined): Promise<string | null> => {
    let token: string | undefined
    let error: unknown
    try {
      token = await locked(async () => {
        const now = await read()
        if (now && now !== sent) return now
        if (!refresh) return undefined
        let pending
        inside = true
        try {
          pending = refresh()
        } finally {
          inside = false
        }
        return clean(await pending)
      })
    } catch (caught) {
      error = caught
    }
    last = token ?? null
    settled++
    flight = undefined
    if (token) onToken(token)
    else onUnauthorized?.(error)
    return last
  }

  return {
    inside: () => inside,
    // A half step marks "read while a refresh was running", so the refresh's own requests
    // (which may go through this same fetch) never wait for themselves.
    snapshot: () => (flight ? settled + 0.5 : settled),
    recover(sent, snapshot) {
      if (flight) return snapshot === settled + 0.5 ? Promise.resolve(null) : flight
      if (snapshot < settled) return Promise.resolve(last !== sent ? last : null)
      return (flight = run(sent))
    },
  }
}
