import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FakeWebSocket, fakeFetch } from '../test/fakes'
import { createAuthFetch, type AuthFetchOptions, type AuthSocketEventMap } from './index'

const latest = () => FakeWebSocket.instances.at(-1) as FakeWebSocket
const settle = () => vi.advanceTimersByTimeAsync(0)

beforeEach(() => {
  FakeWebSocket.instances = []
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
  vi.unstubAllGlobals()
})

function setup(options: Partial<AuthFetchOptions> = {}) {
  const tokens = { current: 'old' as string | null }
  let n = 0
  const refresh = vi.fn(() => {
    tokens.current = `new${++n}`
    return tokens.current
  })
  const api = createAuthFetch({
    baseUrl: 'https://api.example.com/v1',
    token: () => tokens.current,
    refresh,
    WebSocket: FakeWebSocket as unknown as AuthFetchOptions['WebSocket'],
    fetch: fakeFetch().fetch,
    ...options,
  })
  return { api, refresh, tokens }
}

function record(socket: ReturnType<ReturnType<typeof setup>['api']['ws']>) {
  const events: string[] = []
  const types: Array<keyof AuthSocketEventMap> = ['open', 'message', 'error', 'close', 'reconnect']
  for (const type of types) {
    socket.on(type, (event) => {
      const detail =
        type === 'close' ? (event as CloseEvent).code : type === 'message' ? (event as MessageEvent).data : type === 'reconnect' ? (event as { attempt: number }).attempt : ''
      events.push(`${type}${detail === '' ? '' : ` ${String(detail)}`}`)
    })
  }
  return events
}

describe('ws()', () => {
  it('connects to the wss URL below baseUrl with the token in the subprotocols', async () => {
    const { api } = setup()
    const socket = api.ws('/live', ['chat.v1'])
    expect(socket.socket).toBeUndefined()
    await settle()
    expect(latest().url).toBe('wss://api.example.com/v1/live')
    expect(latest().protocols).toEqual(['gatehouse', 'gatehouse.bearer.old', 'chat.v1'])
    expect(socket.socket).toBe(latest())
  })

  it('maps http to ws and accepts a single protocol string', async () => {
    const { api } = setup({ baseUrl: 'http://localhost:3000' })
    api.ws('events', 'chat')
    await settle()
    expect(latest().url).toBe('ws://localhost:3000/events')
    expect(latest().protocols).toEqual(['gatehouse', 'gatehouse.bearer.old', 'chat'])
  })

  it('accepts an absolute ws(s) URL and judges its origin like fetch', async () => {
    const { api } = setup()
    api.ws('wss://api.example.com/socket')
    api.ws('wss://evil.example/socket', ['chat'])
    api.ws('ws://api.example.com/socket')
    await settle()
    expect(new Map(FakeWebSocket.instances.map((s) => [s.url, s.protocols]))).toEqual(
      new Map([
        ['wss://api.example.com/socket', ['gatehouse', 'gatehouse.bearer.old']],
        ['wss://evil.example/socket', ['chat']],
        ['ws://api.example.com/socket', []],
      ]),
    )
  })

  it('offers no token subprotocol when there is no token', async () => {
    const { api, tokens } = setup()
    tokens.current = null
    api.ws('/live', ['chat'])
    await settle()
    expect(latest().protocols).toEqual(['chat'])
  })

  it('carries a JWT (base64url with dots) as a subprotocol', async () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-_0'
    const { api, tokens } = setup()
    tokens.current = jwt
    api.ws('/live')
    await settle()
    expect(latest().protocols).toEqual(['gatehouse', `gatehouse.bearer.${jwt}`])
  })

  it('reports, without quoting it, a token a subprotocol cannot carry, and opens nothing', async () => {
    const { api, tokens } = setup()
    tokens.current = 'c2VjcmV0/dG9rZW4='
    const socket = api.ws('/live')
    const errors: unknown[] = []
    socket.on('error', (e) => errors.push(e))
    await settle()
    expect(FakeWebSocket.instances).toHaveLength(0)
    expect(errors).toHaveLength(1)
    expect(String(errors[0])).toMatch(/not a valid WebSocket subprotocol/)
    expect(String(errors[0])).not.toContain('c2VjcmV0')
  })

  it('throws when there is no WebSocket to use', () => {
    vi.stubGlobal('WebSocket', undefined)
    const { api } = setup({ WebSocket: undefined })
    expect(() => api.ws('/live')).toThrow(/"WebSocket" option/)
  })

  it('refuses a URL that is not http(s) or ws(s)', () => {
    const { api } = setup()
    expect(() => api.ws('ftp://api.example.com/x')).toThrow(TypeError)
  })

  it('forwards open and message, and sends on the open socket', async () => {
    const { api } = setup()
    const socket = api.ws('/live')
    const events = record(socket)
    expect(() => socket.send('too early')).toThrow(/not open/)
    await settle()
    latest().open()
    latest().message('hello')
    socket.send('hi')
    expect(latest().sent).toEqual(['hi'])
    expect(events).toEqual(['open', 'message hello'])
  })

  it('unsubscribes with the function on() returns', async () => {
    const { api } = setup()
    const socket = api.ws('/live')
    const seen: unknown[] = []
    const off = socket.on('message', (e) => seen.push(e.data))
    await settle()
    latest().message('one')
    off()
    latest().message('two')
    expect(seen).toEqual(['one'])
  })
})

describe('ws() after a 4401 close', () => {
  it('refreshes once and reconnects with the new token after a backoff', async () => {
    const { api, refresh } = setup({ reconnect: { retries: 3, baseDelayMs: 1000 } })
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const socket = api.ws('/live', 'chat')
    const events = record(socket)
    await settle()
    latest().open()
    latest().serverClose(4401, 'token_expired')
    await settle()
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(FakeWebSocket.instances).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(499)
    expect(FakeWebSocket.instances).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(FakeWebSocket.instances).toHaveLength(2)
    expect(latest().protocols).toEqual(['gatehouse', 'gatehouse.bearer.new1', 'chat'])
    latest().open()
    expect(socket.socket).toBe(latest())
    expect(events).toEqual(['open', 'reconnect 1', 'open'])
  })

  it('backs off exponentially within bounds, then gives up after `retries`', async () => {
    const { api, refresh } = setup({ reconnect: { retries: 3, baseDelayMs: 100 } })
    const socket = api.ws('/live')
    const delays: number[] = []
    socket.on('reconnect', (e) => delays.push(e.delayMs))
    const closes: number[] = []
    socket.on('close', (e) => closes.push(e.code))
    await settle()
    for (let i = 0; i < 4; i++) {
      latest().serverClose(4401)
      await vi.advanceTimersByTimeAsync(10_000)
    }
    expect(delays).toHaveLength(3)
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(50 * 2 ** i)
      expect(delay).toBeLessThanOrEqual(100 * 2 ** i)
    })
    expect(refresh).toHaveBeenCalledTimes(3)
    expect(FakeWebSocket.instances).toHaveLength(4)
    expect(closes).toEqual([4401])
    await vi.advanceTimersByTimeAsync(60_000)
    expect(FakeWebSocket.instances).toHaveLength(4)
  })

  it('starts counting again after a socket stayed open for 30 seconds', async () => {
    const { api, refresh } = setup({ reconnect: { retries: 1, baseDelayMs: 10 } })
    const socket = api.ws('/live')
    const closes: number[] = []
    socket.on('close', (e) => closes.push(e.code))
    await settle()
    for (let i = 0; i < 3; i++) {
      latest().open()
      await vi.advanceTimersByTimeAsync(30_000)
      latest().serverClose(4401)
      await vi.advanceTimersByTimeAsync(1000)
    }
    expect(FakeWebSocket.instances).toHaveLength(4)
    expect(refresh).toHaveBeenCalledTimes(3)
    expect(closes).toEqual([])
  })

  it('ends with a close when the refresh fails, calling onUnauthorized once', async () => {
    const onUnauthorized = vi.fn()
    const { api } = setup({ refresh: () => null, onUnauthorized })
    const socket = api.ws('/live')
    const events = record(socket)
    await settle()
    latest().serverClose(4401)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(FakeWebSocket.instances).toHaveLength(1)
    expect(events).toEqual(['close 4401'])
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
  })

  it.each([1000, 1006, 4403])('does not reconnect after a %i close', async (code) => {
    const { api, refresh } = setup()
    const socket = api.ws('/live')
    const events = record(socket)
    await settle()
    latest().open()
    latest().serverClose(code)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(FakeWebSocket.instances).toHaveLength(1)
    expect(refresh).not.toHaveBeenCalled()
    expect(events).toEqual(['open', `close ${code}`])
  })

  it('does not reconnect to an origin it offered no token to', async () => {
    const { api, refresh } = setup()
    api.ws('wss://elsewhere.example/live')
    await settle()
    latest().serverClose(4401)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(FakeWebSocket.instances).toHaveLength(1)
    expect(refresh).not.toHaveBeenCalled()
  })

  it('stops reconnecting when closed during the backoff, reporting the close once', async () => {
    const { api } = setup({ reconnect: { baseDelayMs: 1000 } })
    const socket = api.ws('/live')
    const events = record(socket)
    await settle()
    latest().serverClose(4401)
    await settle()
    socket.close()
    socket.close()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(FakeWebSocket.instances).toHaveLength(1)
    expect(events).toEqual(['reconnect 1', 'close 4401'])
  })

  it('closes the live socket with the caller’s code and does not reconnect', async () => {
    const { api } = setup()
    const socket = api.ws('/live')
    const events = record(socket)
    await settle()
    latest().open()
    socket.close(4000, 'bye')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(latest().readyState).toBe(3)
    expect(FakeWebSocket.instances).toHaveLength(1)
    expect(events).toEqual(['open', 'close 4000'])
  })

  it('shares the refresh with a burst of HTTP 401s', async () => {
    const { fetch } = fakeFetch((s) => new Response(null, { status: s.authorization === 'Bearer new1' ? 200 : 401 }))
    const refresh = vi.fn(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50))
      return 'new1'
    })
    const { fetch: slowFetch } = fakeFetch(async (s) => {
      await new Promise((resolve) => setTimeout(resolve, 10))
      return fetch(s.url, { headers: s.headers })
    })
    const { api } = setup({ fetch: slowFetch, refresh })
    api.ws('/live')
    await settle()
    const responses = Promise.all([api('/a'), api('/b')])
    latest().serverClose(4401)
    await vi.advanceTimersByTimeAsync(5000)
    expect((await responses).map((r) => r.status)).toEqual([200, 200])
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(latest().protocols).toEqual(['gatehouse', 'gatehouse.bearer.new1'])
  })
})
