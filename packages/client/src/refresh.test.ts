import { afterEach, describe, expect, it, vi } from 'vitest'
import { deferred, fakeFetch, flush, type Seen } from '../test/fakes'
import { createAuthFetch } from './index'

const baseUrl = 'https://api.example.com'
const unauthorized = () => new Response('{"error":"token_expired"}', { status: 401 })

afterEach(() => {
  vi.unstubAllGlobals()
})

/** A server that accepts exactly one token, which the test can rotate. */
function server() {
  const state = { valid: 'new' }
  const { fetch, seen } = fakeFetch((s) => (s.authorization === `Bearer ${state.valid}` ? new Response(`ok ${s.url}`) : unauthorized()))
  return { state, fetch, seen }
}

/** A token store as an app would have one, and a refresh that rotates it after a short delay. */
function store(initial = 'old', next = 'new') {
  const tokens = { current: initial as string | null }
  const refresh = vi.fn(async () => {
    await new Promise((resolve) => setTimeout(resolve, 5))
    tokens.current = next
    return next
  })
  return { tokens, refresh, token: () => tokens.current }
}

const byToken = (seen: Seen[], token: string) => seen.filter((s) => s.authorization === `Bearer ${token}`).map((s) => s.url)

describe('single flight', () => {
  it('answers ten concurrent 401s with exactly one refresh and retries each request once', async () => {
    const { fetch, seen } = server()
    const { refresh, token } = store()
    const api = createAuthFetch({ baseUrl, token, refresh, fetch })
    const paths = Array.from({ length: 10 }, (_, i) => `/items/${i}`)
    const responses = await Promise.all(paths.map((p) => api(p)))
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(responses.map((r) => r.status)).toEqual(paths.map(() => 200))
    expect(await Promise.all(responses.map((r) => r.text()))).toEqual(paths.map((p) => `ok ${baseUrl}${p}`))
    expect(seen).toHaveLength(20)
    expect(byToken(seen, 'old').sort()).toEqual(paths.map((p) => `${baseUrl}${p}`).sort())
    expect(byToken(seen, 'new').sort()).toEqual(paths.map((p) => `${baseUrl}${p}`).sort())
  })

  it('retries once only: a second 401 is returned, not refreshed again', async () => {
    const { fetch, seen } = fakeFetch(unauthorized)
    const { refresh, token } = store()
    const api = createAuthFetch({ baseUrl, token, refresh, fetch })
    const res = await api('/a')
    expect(res.status).toBe(401)
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer old', 'Bearer new'])
  })

  it('retries a request sent with an older token without a second refresh', async () => {
    const slow = deferred()
    const { fetch, seen } = fakeFetch(async (s) => {
      if (s.url.endsWith('/slow') && s.authorization === 'Bearer old') await slow.promise
      return s.authorization === 'Bearer new' ? new Response('ok') : unauthorized()
    })
    const { refresh, token } = store()
    const api = createAuthFetch({ baseUrl, token, refresh, fetch })
    const slowRes = api('/slow')
    await flush()
    expect((await api('/fast')).status).toBe(200)
    expect(refresh).toHaveBeenCalledTimes(1)
    slow.resolve()
    expect((await slowRes).status).toBe(200)
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(seen.map((s) => [s.url.replace(baseUrl, ''), s.authorization])).toEqual([
      ['/slow', 'Bearer old'],
      ['/fast', 'Bearer old'],
      ['/fast', 'Bearer new'],
      ['/slow', 'Bearer new'],
    ])
  })

  it('uses the refreshed token in place of a fixed string token afterwards', async () => {
    const { fetch, seen } = server()
    const refresh = vi.fn(() => 'new')
    const api = createAuthFetch({ baseUrl, token: 'old', refresh, fetch })
    await api('/a')
    await api('/b')
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer old', 'Bearer new', 'Bearer new'])
    expect(refresh).toHaveBeenCalledTimes(1)
  })

  it('drains the refused response before retrying', async () => {
    const first = unauthorized()
    const { fetch } = fakeFetch((_, i) => (i === 0 ? first : new Response('ok')))
    const api = createAuthFetch({ baseUrl, token: 'old', refresh: () => 'new', fetch })
    expect((await api('/a')).status).toBe(200)
    expect(first.bodyUsed).toBe(true)
  })

  it('refreshes on every status in refreshOn, and only those', async () => {
    const { fetch, seen } = fakeFetch((s) => new Response(null, { status: s.authorization === 'Bearer new' ? 200 : s.url.endsWith('/419') ? 419 : 403 }))
    const refresh = vi.fn(() => 'new')
    const api = createAuthFetch({ baseUrl, token: () => 'old', refresh, fetch, refreshOn: [401, 419] })
    expect((await api('/403')).status).toBe(403)
    expect(refresh).not.toHaveBeenCalled()
    expect((await api('/419')).status).toBe(200)
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(seen).toHaveLength(3)
  })

  it('does not refresh for a 401 from an origin the token never went to', async () => {
    const { fetch } = fakeFetch(() => {
      const res = unauthorized()
      Object.defineProperty(res, 'url', { value: 'https://elsewhere.example/login' })
      return res
    })
    const refresh = vi.fn(() => 'new')
    const api = createAuthFetch({ baseUrl, token: 'old', refresh, fetch })
    expect((await api('/a')).status).toBe(401)
    expect(refresh).not.toHaveBeenCalled()
  })

  it('retries with a token that changed meanwhile, without calling refresh', async () => {
    const { fetch, seen } = server()
    const tokens = { current: 'old' }
    const refresh = vi.fn(() => 'unused')
    const { fetch: wrapped } = fakeFetch(async (s) => {
      // The app signs in again while the request is on the wire.
      tokens.current = 'new'
      return fetch(s.url, { headers: s.headers })
    })
    const api = createAuthFetch({ baseUrl, token: () => tokens.current, refresh, fetch: wrapped })
    expect((await api('/a')).status).toBe(200)
    expect(refresh).not.toHaveBeenCalled()
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer old', 'Bearer new'])
  })
})

describe('a failed refresh', () => {
  it.each([
    ['returns null', () => null],
    ['returns an empty string', () => ''],
  ])('when refresh %s, gives every waiter the original 401 and calls onUnauthorized once', async (_name, result) => {
    const { fetch, seen } = server()
    const refresh = vi.fn(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return result()
    })
    const onUnauthorized = vi.fn()
    const api = createAuthFetch({ baseUrl, token: 'old', refresh, fetch, onUnauthorized })
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => api(`/items/${i}`)))
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(401))
    expect(await responses[3]?.json()).toEqual({ error: 'token_expired' })
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    expect(onUnauthorized).toHaveBeenCalledWith(undefined)
    expect(seen).toHaveLength(10)
  })

  it('when refresh throws, returns the 401 (no throw) and passes the error to onUnauthorized', async () => {
    const { fetch } = server()
    const failure = new Error('refresh endpoint down')
    const onUnauthorized = vi.fn()
    const api = createAuthFetch({
      baseUrl,
      token: 'old',
      refresh: async () => {
        throw failure
      },
      fetch,
      onUnauthorized,
    })
    const [a, b] = await Promise.all([api('/a'), api('/b')])
    expect([a?.status, b?.status]).toEqual([401, 401])
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    expect(onUnauthorized).toHaveBeenCalledWith(failure)
  })

  it('does not poison the next attempt', async () => {
    const { fetch } = server()
    let outcome: string | null = null
    const refresh = vi.fn(() => outcome)
    const onUnauthorized = vi.fn()
    const api = createAuthFetch({ baseUrl, token: 'old', refresh, fetch, onUnauthorized })
    expect((await api('/a')).status).toBe(401)
    outcome = 'new'
    expect((await api('/a')).status).toBe(200)
    expect(refresh).toHaveBeenCalledTimes(2)
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
  })

  it('does not refresh again for late 401s of the same burst', async () => {
    const slow = deferred()
    const { fetch } = fakeFetch(async (s) => {
      if (s.url.endsWith('/slow')) await slow.promise
      return unauthorized()
    })
    const refresh = vi.fn(() => null)
    const onUnauthorized = vi.fn()
    const api = createAuthFetch({ baseUrl, token: 'old', refresh, fetch, onUnauthorized })
    const late = api('/slow')
    await flush()
    expect((await api('/fast')).status).toBe(401)
    slow.resolve()
    expect((await late).status).toBe(401)
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
  })

  it('without a refresh option, still calls onUnauthorized once per burst', async () => {
    const { fetch } = fakeFetch(unauthorized)
    const onUnauthorized = vi.fn()
    const api = createAuthFetch({ baseUrl, token: 'old', fetch, onUnauthorized })
    await Promise.all([api('/a'), api('/b'), api('/c')])
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
  })

  it('lets an error thrown by onUnauthorized reach the callers', async () => {
    const { fetch } = fakeFetch(unauthorized)
    const api = createAuthFetch({
      baseUrl,
      token: 'old',
      fetch,
      onUnauthorized: () => {
        throw new Error('redirecting to /login')
      },
    })
    await expect(api('/a')).rejects.toThrow('redirecting to /login')
  })
})

describe('replaying the body', () => {
  const bodies: Array<[string, () => BodyInit]> = [
    ['a string', () => '{"a":1}'],
    ['URLSearchParams', () => new URLSearchParams({ a: '1', b: 'two' })],
    ['a Blob', () => new Blob(['blob body'], { type: 'text/plain' })],
    ['an ArrayBuffer', () => new TextEncoder().encode('buffer body').buffer as ArrayBuffer],
    ['a Uint8Array', () => new TextEncoder().encode('view body')],
    [
      'FormData',
      () => {
        const form = new FormData()
        form.set('field', 'value')
        form.set('file', new Blob(['file content']), 'a.txt')
        return form
      },
    ],
  ]

  it.each(bodies)('retries a request whose body is %s with the same bytes', async (_name, body) => {
    const { fetch, seen } = server()
    const api = createAuthFetch({ baseUrl, token: 'old', refresh: () => 'new', fetch })
    const res = await api('/upload', { method: 'POST', body: body() })
    expect(res.status).toBe(200)
    expect(seen).toHaveLength(2)
    // FormData gets a fresh multipart boundary per serialisation; the parts must be the same.
    const same = (text: string | null | undefined) => text?.replace(/formdata-undici-\d+/g, 'BOUNDARY')
    expect(same(seen[1]?.body)).toBe(same(seen[0]?.body))
    expect(seen[1]?.body.length).toBeGreaterThan(0)
    expect(same(seen[1]?.headers.get('content-type'))).toBe(same(seen[0]?.headers.get('content-type')))
  })

  it('retries a Request with a body, which it copied before sending', async () => {
    const { fetch, seen } = server()
    const api = createAuthFetch({ baseUrl, token: 'old', refresh: () => 'new', fetch })
    const res = await api(new Request(`${baseUrl}/upload`, { method: 'PATCH', body: 'request body', headers: { 'content-type': 'text/x-a' } }))
    expect(res.status).toBe(200)
    expect(seen.map((s) => [s.method, s.body, s.headers.get('content-type'), s.authorization])).toEqual([
      ['PATCH', 'request body', 'text/x-a', 'Bearer old'],
      ['PATCH', 'request body', 'text/x-a', 'Bearer new'],
    ])
  })

  it('never retries a ReadableStream body, but still refreshes so the next call works', async () => {
    const { fetch, seen } = server()
    const refresh = vi.fn(() => 'new')
    const api = createAuthFetch({ baseUrl, token: 'old', refresh, fetch })
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'))
        controller.close()
      },
    })
    const res = await api('/upload', { method: 'POST', body: stream, duplex: 'half' } as RequestInit)
    expect(res.status).toBe(401)
    expect(seen).toHaveLength(1)
    expect(refresh).toHaveBeenCalledTimes(1)
    expect((await api('/next')).status).toBe(200)
  })
})

describe('a refresh that uses the same fetch', () => {
  it('sends its own request without the token and without holding it', async () => {
    const { fetch, seen } = fakeFetch((s) => {
      if (s.url.endsWith('/auth/refresh')) return Response.json({ token: 'new' })
      return s.authorization === 'Bearer new' ? new Response('ok') : unauthorized()
    })
    const api = createAuthFetch({
      baseUrl,
      token: 'old',
      fetch,
      refresh: () => api('/auth/refresh', { method: 'POST' }).then(async (r) => ((await r.json()) as { token: string }).token),
    })
    expect((await api('/a')).status).toBe(200)
    expect(seen.map((s) => [s.url.replace(baseUrl, ''), s.authorization])).toEqual([
      ['/a', 'Bearer old'],
      ['/auth/refresh', null],
      ['/a', 'Bearer new'],
    ])
  })

  it('does not deadlock when the refresh request is made after an await and is refused', async () => {
    const { fetch, seen } = fakeFetch(unauthorized)
    const onUnauthorized = vi.fn()
    const api = createAuthFetch({
      baseUrl,
      token: 'old',
      fetch,
      onUnauthorized,
      refresh: async () => {
        await new Promise((resolve) => setTimeout(resolve, 1))
        const res = await api('/auth/refresh', { method: 'POST' })
        return res.ok ? 'new' : null
      },
    })
    const res = await api('/a')
    expect(res.status).toBe(401)
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    expect(seen.map((s) => s.url.replace(baseUrl, ''))).toEqual(['/a', '/auth/refresh'])
  })
})

describe('aborting', () => {
  it('rejects only the caller that aborted; the shared refresh goes on for the others', async () => {
    const gate = deferred<string>()
    const refresh = vi.fn(() => gate.promise)
    const { fetch, seen } = server()
    const api = createAuthFetch({ baseUrl, token: 'old', refresh, fetch })
    const controller = new AbortController()
    const aborted = api('/a', { signal: controller.signal })
    const other = api('/b')
    await vi.waitFor(() => expect(refresh).toHaveBeenCalledTimes(1))
    controller.abort(new DOMException('user left', 'AbortError'))
    await expect(aborted).rejects.toThrow('user left')
    gate.resolve('new')
    expect((await other).status).toBe(200)
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(refresh.mock.calls[0]).toEqual([])
    expect(seen.filter((s) => s.url.endsWith('/a'))).toHaveLength(1)
  })
})

describe('across tabs (Web Locks)', () => {
  function fakeLocks(beforeGrant: () => void = () => {}) {
    const names: string[] = []
    const locks = {
      request: async (name: string, work: () => Promise<unknown>) => {
        names.push(name)
        beforeGrant()
        return work()
      },
    }
    vi.stubGlobal('navigator', { locks })
    return names
  }

  it('refreshes under the lock named by the lock option (default gatehouse.refresh)', async () => {
    const names = fakeLocks()
    const { fetch } = server()
    await createAuthFetch({ baseUrl, token: 'old', refresh: () => 'new', fetch })('/a')
    await createAuthFetch({ baseUrl, token: 'old', refresh: () => 'new', fetch, lock: 'my-app' })('/a')
    expect(names).toEqual(['gatehouse.refresh', 'my-app'])
  })

  it('is not used with lock: false', async () => {
    const names = fakeLocks()
    const { fetch } = server()
    const refresh = vi.fn(() => 'new')
    expect((await createAuthFetch({ baseUrl, token: 'old', refresh, fetch, lock: false })('/a')).status).toBe(200)
    expect(names).toEqual([])
    expect(refresh).toHaveBeenCalledTimes(1)
  })

  it('skips refresh when another tab refreshed while this one waited for the lock', async () => {
    const { tokens, refresh, token } = store()
    fakeLocks(() => {
      tokens.current = 'new'
    })
    const { fetch, seen } = server()
    expect((await createAuthFetch({ baseUrl, token, refresh, fetch })('/a')).status).toBe(200)
    expect(refresh).not.toHaveBeenCalled()
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer old', 'Bearer new'])
  })
})
