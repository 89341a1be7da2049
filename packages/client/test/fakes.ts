import { vi } from 'vitest'

/** What a fake server saw of one request. */
export interface Seen {
  url: string
  method: string
  authorization: string | null
  headers: Headers
  body: string
  redirect: RequestRedirect
}

/**
 * A `fetch` that records every call, as the network would see it, and answers with `handler`.
 * It goes through `new Request(input, init)` so that it reads arguments exactly as fetch does.
 */
export function fakeFetch(handler: (seen: Seen, index: number) => Response | Promise<Response> = () => new Response('ok')) {
  const seen: Seen[] = []
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    // fetch refuses URLs with credentials; record where such a request would have gone instead.
    const target = new URL(input instanceof Request ? input.url : input)
    const url = target.href
    target.username = target.password = ''
    const request = new Request(input instanceof Request ? input : target, init)
    request.signal.throwIfAborted()
    const entry: Seen = {
      url,
      method: request.method,
      authorization: request.headers.get('authorization'),
      headers: request.headers,
      body: await request.text(),
      redirect: request.redirect,
    }
    seen.push(entry)
    return handler(entry, seen.length - 1)
  })
  return { fetch, seen }
}

export function deferred<T = void>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Resolves when `signal` aborts, so a fake server can hang until the caller gives up. */
export function untilAborted(signal: AbortSignal | null | undefined): Promise<never> {
  return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason)))
}

/** Lets every pending promise callback run. */
export const flush = () => new Promise<void>((resolve) => setImmediate(resolve))

type Listener = (event: unknown) => void

/** A WebSocket double: records how it was constructed and lets the test drive its events. */
export class FakeWebSocket {
  static instances: FakeWebSocket[] = []
  readyState = 0
  readonly sent: unknown[] = []
  private readonly listeners = new Map<string, Listener[]>()

  readonly url: string
  readonly protocols: string | string[] | undefined

  constructor(url: string, protocols?: string | string[]) {
    this.url = url
    this.protocols = protocols
    FakeWebSocket.instances.push(this)
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener])
  }

  send(data: unknown): void {
    if (this.readyState !== 1) throw new Error('InvalidStateError')
    this.sent.push(data)
  }

  close(code = 1000, reason = ''): void {
    this.serverClose(code, reason)
  }

  open(): void {
    this.readyState = 1
    this.dispatch('open', { type: 'open' })
  }

  message(data: unknown): void {
    this.dispatch('message', { type: 'message', data })
  }

  serverClose(code: number, reason = ''): void {
    if (this.readyState === 3) return
    this.readyState = 3
    this.dispatch('close', { type: 'close', code, reason, wasClean: true })
  }

  private dispatch(type: string, event: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) listener(event)
  }
}
