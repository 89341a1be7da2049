import type { Refresher } from './refresh'
import { TCHARS } from './token'

/** What `ws()` constructs sockets with: the global `WebSocket`, or e.g. the `ws` package's class. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket

/** How a socket closed with 4401 (token rejected) is brought back. */
export interface ReconnectOptions {
  /**
   * How many 4401 closes in a row are answered with a refresh and a new socket; the next one
   * ends the socket. The count starts again after a socket has stayed open for 30 seconds.
   * Default 3; 0 turns reconnecting off.
   */
  retries?: number
  /**
   * Delay before the first reconnect; it doubles with each further attempt, and each delay is
   * drawn from its upper half so that clients do not reconnect in lockstep. Default 500.
   */
  baseDelayMs?: number
}

/** Events of an {@link AuthSocket}. */
export interface AuthSocketEventMap {
  /** A socket (the first or a reconnected one) opened. */
  open: Event
  message: MessageEvent
  /** A socket reported an error, or the socket could not be created (an `Error`, ending it). */
  error: Event | Error
  /** The socket closed for good: not a 4401 that is being answered with a reconnect. */
  close: CloseEvent
  /** A 4401 close is being answered: a new socket opens after `delayMs`. */
  reconnect: { attempt: number; delayMs: number }
}

/**
 * A WebSocket that survives token rotation. The underlying socket is replaced on every
 * reconnect, so listen with `on()` rather than on `socket` directly.
 */
export interface AuthSocket {
  /** The current socket; undefined until the token has been read. */
  readonly socket: WebSocket | undefined
  /** Sends on the current socket; throws like `WebSocket.send` when it is not open. */
  send(data: Parameters<WebSocket['send']>[0]): void
  /** Closes the socket and stops reconnecting. */
  close(code?: number, reason?: string): void
  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof AuthSocketEventMap>(type: K, listener: (event: AuthSocketEventMap[K]) => void): () => void
}

export interface SocketSetup {
  url: string
  protocols: string[]
  /** Absent when the origin is not allowed: then no token is offered and 4401 is final. */
  read: (() => Promise<string | undefined>) | undefined
  refresher: Refresher
  WebSocket: WebSocketConstructor
  retries: number
  baseDelayMs: number
}

/** How long a socket must stay open before its 4401 counts as a new failure, not a repeat. */
const STABLE_MS = 30_000

export function openSocket(setup: SocketSetup): AuthSocket {
  const { url, protocols, read, refresher, retries, baseDelayMs } = setup
  const listeners: { [type: string]: Set<(event: unknown) => void> } = {}
  let socket: WebSocket | undefined
  let lastClose: CloseEvent | undefined
  let ended = false
  let attempt = 0
  let timer: ReturnType<typeof setTimeout> | undefined

  const emit = <K extends keyof AuthSocketEventMap>(type: K, event: AuthSocketEventMap[K]) => {
    listeners[type]?.forEach((listener) => listener(event))
  }
  const end = (event: CloseEvent) => {
    ended = true
    emit('close', event)
  }

  // A reconnect uses the token the refresh produced, as an HTTP retry does; a getter may lag.
  const connect = async (token?: string) => {
    const snapshot = refresher.snapshot()
    let current: WebSocket
    try {
      token ??= await read?.()
      // The constructor's own SyntaxError would quote the protocol, token included.
      if (token && !TCHARS.test(token)) throw new TypeError('gatehouse: the token is not a valid WebSocket subprotocol')
      if (ended) return
      current = socket = new setup.WebSocket(url, token ? ['gatehouse', `gatehouse.bearer.${token}`, ...protocols] : protocols)
    } catch (error) {
      ended = true
      return emit('error', error as Error)
    }
    let openedAt = 0
    current.addEventListener('open', (event) => {
      openedAt = Date.now()
      emit('open', event)
    })
    current.addEventListener('message', (event) => emit('message', event))
    current.addEventListener('error', (event) => emit('error', event))
    current.addEventListener('close', async (event) => {
      lastClose = event
      if (openedAt && Date.now() - openedAt >= STABLE_MS) attempt = 0
      if (ended || event.code !== 4401 || !read || attempt >= retries) return end(event)
      const next = await refresher.recover(token, snapshot).catch(() => null)
      if (ended) return
      if (!next) return end(event)
      const delayMs = baseDelayMs * 2 ** attempt++ * (0.5 + Math.random() / 2)
      emit('reconnect', { attempt, delayMs })
      timer = setTimeout(connect, delayMs, next)
    })
  }
  void connect()

  return {
    get socket() {
      return socket
    },
    send(data) {
      if (!socket) throw new TypeError('gatehouse: the socket is not open yet')
      socket.send(data)
    },
    close(code, reason) {
      if (ended) return
      ended = true
      clearTimeout(timer)
      // Between reconnects there is no live socket to report the end, so the last close does.
      if (socket && socket.readyState < 2) socket.close(code, reason)
      else if (lastClose) emit('close', lastClose)
    },
    on(type, listener) {
      const set = (listeners[type] ??= new Set())
      set.add(listener as (event: unknown) => void)
      return () => set.delete(listener as (event: unknown) => void)
    },
  }
}
