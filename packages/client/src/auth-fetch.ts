import { toOrigins } from './origin'
import { follow } from './redirect'
import { createRefresher } from './refresh'
import { parseBaseUrl, resolveUrl } from './resolve'
import { bearer, clean, type TokenSource, type TokenValue } from './token'
import { openSocket, type AuthSocket, type ReconnectOptions, type WebSocketConstructor } from './websocket'

/** The shape of `fetch` that gatehouse calls: the global one, undici's, node-fetch's, a mock. */
export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>

/** `RequestInit` plus the one option gatehouse reads. */
export interface AuthRequestInit extends RequestInit {
  /**
   * `false` sends this call exactly as `fetch` would (relative URLs still resolve against
   * `baseUrl`): no token, no refresh, no retry. Use it for public endpoints and for the refresh
   * endpoint itself.
   */
  auth?: boolean
}

/**
 * A `fetch` that authenticates. It has `fetch`'s signature, so it can be handed to any client
 * that accepts a custom `fetch` (ky, ofetch, openapi-fetch, tRPC, wretch).
 */
export interface AuthFetch {
  (input: RequestInfo | URL, init?: AuthRequestInit): Promise<Response>
  /**
   * Opens a WebSocket to `path`, resolved like a fetch input, with `http` turned into `ws` and
   * `https` into `wss`. For an allowed origin the token travels in the subprotocols
   * `['gatehouse', 'gatehouse.bearer.<token>', ...protocols]` (browsers cannot set headers on
   * a WebSocket); a close with code 4401 triggers one refresh and a reconnect with backoff.
   */
  ws(path: string | URL, protocols?: string | string[]): AuthSocket
}

/** Options of {@link createAuthFetch}, validated once when it runs, never per request. */
export interface AuthFetchOptions {
  /**
   * The API's URL. Its origin receives the token; relative inputs resolve below its path, with
   * or without a leading slash: `baseUrl: 'https://api.example.com/v1'` and `'users'` or
   * `'/users'` give `https://api.example.com/v1/users`. In a browser it may be omitted: relative
   * inputs then resolve against the page, and the page's origin receives the token.
   */
  baseUrl?: string | URL
  /** The access token, or a getter read before every request (see {@link fromCookie}). */
  token: TokenSource
  /**
   * Obtains a new token after a 401; returns it, or null when the user must sign in again.
   * Called once for a whole burst of failures. Requests made while it runs are never held or
   * retried, so it may use this same fetch; with a getter `token`, store the new token where
   * the getter reads it.
   */
  refresh?: () => TokenValue | Promise<TokenValue>
  /** Further origins that receive the token, such as `'https://files.example.com'`; exact origins only. */
  allowOrigins?: readonly string[]
  /** Called once per burst when no new token could be had; `error` is what `refresh` threw, if it threw. */
  onUnauthorized?: (error?: unknown) => void
  /** Statuses that mean "the token was refused". Default `[401]`. */
  refreshOn?: readonly number[]
  /** The fetch to wrap; the global `fetch`, looked up at call time, by default. */
  fetch?: FetchLike
  /** The WebSocket class for `ws()`; the global `WebSocket`, looked up at call time, by default. */
  WebSocket?: WebSocketConstructor
  /** Reconnection after a 4401 close; see {@link ReconnectOptions}. */
  reconnect?: ReconnectOptions
  /**
   * Name of the Web Lock that makes refreshes take turns across tabs, where `navigator.locks`
   * exists; `false` refreshes in each tab independently. Default `'gatehouse.refresh'`.
   */
  lock?: string | false
}

/**
 * Creates a `fetch` that attaches `Authorization: Bearer <token>` to requests for the
 * `baseUrl` origin and the `allowOrigins`, and to nothing else (the origin is compared after
 * resolving the URL, and again on every redirect hop). A 401 triggers one `refresh` for the
 * whole burst, and each failed request is sent again once with the new token when its body can
 * be sent twice (not a `ReadableStream`). When no token can be had, callers get the original
 * 401 response, not an exception.
 *
 * Importing and creating touch no browser global and start no timer, so this is safe during SSR.
 *
 * @example
 * ```ts
 * const api = createAuthFetch({
 *   baseUrl: 'https://api.example.com',
 *   token: fromCookie('client_token'),
 *   refresh: async () => {
 *     const res = await api('/auth/refresh', { method: 'POST', auth: false, credentials: 'include' })
 *     return res.ok ? ((await res.json()) as { token: string }).token : null
 *   },
 * })
 * const me = await api('/me').then((r) => r.json())
 * ```
 * @throws TypeError when `baseUrl`, `token` or `allowOrigins` is malformed.
 */
export function createAuthFetch(options: AuthFetchOptions): AuthFetch {
  const { token, refreshOn = [401], reconnect } = options
  if (typeof token !== 'string' && typeof token !== 'function') {
    throw new TypeError('createAuthFetch: "token" must be a string or a function')
  }
  const base = options.baseUrl === undefined ? undefined : parseBaseUrl(options.baseUrl)
  const origins = toOrigins(options.allowOrigins)
  let fixed = clean(token)
  const read = async () => clean(typeof token === 'function' ? await token() : fixed)
  const refresher = createRefresher({ ...options, read, lock: options.lock ?? 'gatehouse.refresh', onToken: (t) => (fixed = t) })
  const allowed = (url: URL) => url.origin !== 'null' && (url.origin === (base ?? globalThis.location)?.origin || origins.includes(url.origin))

  const authFetch = async (input: RequestInfo | URL, init?: AuthRequestInit): Promise<Response> => {
    // Decided before the first await: only the synchronous part of refresh() is attributable.
    const own = refresher.inside()
    const send = options.fetch ?? fetch
    const { auth, ...rest } = init ?? {}
    const request = typeof input === 'object' && 'url' in input ? input : undefined
    const url = request ? new URL(request.url) : resolveUrl(input as string | URL, base)
    const headers = new Headers(rest.headers ?? request?.headers)
    if (own || auth === false || headers.has('authorization') || !allowed(url)) return send(request ?? url.href, rest)

    const req = request ? await fromRequest(request, rest) : rest
    const attempt = (t: string | undefined) => follow(send, url, req, headers, (hop) => (t && allowed(hop) ? bearer(t) : undefined))
    const snapshot = refresher.snapshot()
    const sent = await read()
    const res = await attempt(sent)
    if (!refreshOn.includes(res.status) || !allowed(res.url ? new URL(res.url) : url)) return res
    const next = await abortable(refresher.recover(sent, snapshot), req.signal)
    if (!next || isStream(req.body)) return res
    void res.body?.cancel().catch(() => {})
    return attempt(next)
  }

  const ws = (path: string | URL, protocols: string | string[] = []): AuthSocket => {
    const url = resolveUrl(String(path).replace(/^ws(s?:)/i, 'http$1'), base)
    if (!/^https?:$/.test(url.protocol)) throw new TypeError('ws: "path" must be an http(s) or ws(s) URL')
    const WebSocket = options.WebSocket ?? globalThis.WebSocket
    if (!WebSocket) throw new TypeError('ws: no global WebSocket; pass the "WebSocket" option')
    return openSocket({
      url: url.href.replace(/^http/, 'ws'),
      protocols: [protocols].flat(),
      read: allowed(url) ? read : undefined,
      refresher,
      WebSocket,
      retries: reconnect?.retries ?? 3,
      baseDelayMs: reconnect?.baseDelayMs ?? 500,
    })
  }

  return Object.assign(authFetch, { ws })
}

/**
 * A `Request` body is a one-shot stream; buffering it once is what lets the request be sent
 * again (after a redirect or a refresh). `new Request(input, init)` applies `init` as fetch would.
 */
async function fromRequest(input: Request, init: RequestInit): Promise<RequestInit> {
  const r = new Request(input, init)
  return {
    ...init,
    method: r.method,
    body: r.body && (await r.arrayBuffer()),
    signal: r.signal,
    credentials: r.credentials,
    cache: r.cache,
    mode: r.mode === 'navigate' ? 'same-origin' : r.mode,
    redirect: r.redirect,
    referrer: r.referrer,
    referrerPolicy: r.referrerPolicy,
    integrity: r.integrity,
    keepalive: r.keepalive,
  }
}

/** Streams (and Node's async-iterable bodies) can be read once, so such a request is never replayed. */
function isStream(body: unknown): boolean {
  return typeof body === 'object' && body !== null && ('getReader' in body || Symbol.asyncIterator in body)
}

/** Lets one caller stop waiting for the shared refresh without cancelling it for the others. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> {
  if (!signal) return promise
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason)
    if (signal.aborted) stop()
    signal.addEventListener('abort', stop)
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop))
  })
}
