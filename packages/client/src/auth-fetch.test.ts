import { describe, expect, it, vi } from 'vitest'
import { fakeFetch } from '../test/fakes'
import { createAuthFetch, type AuthFetch } from './index'

const baseUrl = 'https://api.example.com'

// Compile-time: the wrapper is a drop-in `fetch`, and `auth: false` is accepted per call.
const assignable = (api: AuthFetch): typeof fetch => api
const optOut = (api: AuthFetch) => api('/public', { auth: false, method: 'GET' })
void assignable
void optOut

describe('createAuthFetch', () => {
  it('returns a function with fetch’s arity and a ws method', () => {
    const api = createAuthFetch({ baseUrl, token: 't', fetch: fakeFetch().fetch })
    expect(typeof api).toBe('function')
    expect(api.length).toBe(2)
    expect(typeof api.ws).toBe('function')
  })

  it('refuses a token that is neither a string nor a function', () => {
    expect(() => createAuthFetch({ baseUrl, token: 42 as unknown as string })).toThrow(/"token"/)
  })

  it('hands back the response fetch produced', async () => {
    const response = new Response('{"id":1}', { status: 201 })
    const api = createAuthFetch({ baseUrl, token: 't', fetch: async () => response })
    expect(await api('/x')).toBe(response)
  })

  it('calls the injected fetch unbound, as a browser’s fetch requires', async () => {
    const thisValues: unknown[] = []
    const api = createAuthFetch({
      baseUrl,
      token: 't',
      fetch: function (this: unknown) {
        thisValues.push(this)
        return Promise.resolve(new Response('ok'))
      },
    })
    await api('/x')
    await api('/x', { auth: false })
    expect(thisValues).toEqual([undefined, undefined])
  })

  it('uses the global fetch at call time when none is injected', async () => {
    const { fetch, seen } = fakeFetch()
    vi.stubGlobal('fetch', fetch)
    try {
      const api = createAuthFetch({ baseUrl, token: 't' })
      await api('/x')
      expect(seen[0]?.authorization).toBe('Bearer t')
    } finally {
      vi.unstubAllGlobals()
    }
  })
})

describe('the token', () => {
  it('is read before every request from a getter', async () => {
    const { fetch, seen } = fakeFetch()
    let current = 'one'
    const api = createAuthFetch({ baseUrl, token: () => current, fetch })
    await api('/a')
    current = 'two'
    await api('/b')
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer one', 'Bearer two'])
  })

  it('may come from an async getter', async () => {
    const { fetch, seen } = fakeFetch()
    const api = createAuthFetch({ baseUrl, token: async () => 'async-token', fetch })
    await api('/a')
    expect(seen[0]?.authorization).toBe('Bearer async-token')
  })

  it.each([null, undefined, ''])('is left out when the getter returns %j, never "Bearer undefined"', async (value) => {
    const { fetch, seen } = fakeFetch()
    const api = createAuthFetch({ baseUrl, token: () => value, fetch })
    await api('/a')
    expect(seen[0]?.authorization).toBeNull()
  })

  it('is left out when the fixed token is empty', async () => {
    const { fetch, seen } = fakeFetch()
    const api = createAuthFetch({ baseUrl, token: '', fetch })
    await api('/a')
    expect(seen[0]?.authorization).toBeNull()
  })

  it('is never quoted in the error for a value a header cannot carry', async () => {
    const secret = 'secret-token\r\nX-Injected: 1'
    const { fetch, seen } = fakeFetch()
    const api = createAuthFetch({ baseUrl, token: secret, fetch })
    const error = await api('/a').then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(TypeError)
    expect(String(error)).not.toContain('secret-token')
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('secret-token')
    expect(seen).toHaveLength(0)
  })

  it('is never in the error when the network fails', async () => {
    const api = createAuthFetch({
      baseUrl,
      token: 'secret-token',
      fetch: async () => {
        throw new TypeError('fetch failed')
      },
    })
    const error = await api('/a').catch((e: unknown) => e)
    expect(String(error)).toBe('TypeError: fetch failed')
  })
})

describe('header shapes', () => {
  it.each([
    ['a Headers object', new Headers({ 'x-trace': '1' })],
    ['a plain object', { 'X-Trace': '1' }],
    ['tuples', [['x-trace', '1']] as [string, string][]],
  ])('keeps the caller’s headers given as %s and adds the token', async (_name, headers) => {
    const { fetch, seen } = fakeFetch()
    const api = createAuthFetch({ baseUrl, token: 't', fetch })
    await api('/a', { headers })
    expect(seen[0]?.headers.get('x-trace')).toBe('1')
    expect(seen[0]?.authorization).toBe('Bearer t')
  })

  it('does not modify the caller’s Headers object', async () => {
    const { fetch } = fakeFetch()
    const api = createAuthFetch({ baseUrl, token: 't', fetch })
    const headers = new Headers({ accept: 'application/json' })
    await api('/a', { headers })
    expect([...headers.keys()]).toEqual(['accept'])
  })

  it.each([
    ['a Headers object', new Headers({ Authorization: 'Basic dTpw' })],
    ['a plain object', { authorization: 'Basic dTpw' }],
    ['tuples', [['AUTHORIZATION', 'Basic dTpw']] as [string, string][]],
  ])('keeps a caller’s own Authorization given as %s', async (_name, headers) => {
    const { fetch, seen } = fakeFetch()
    const api = createAuthFetch({ baseUrl, token: 't', fetch })
    await api('/a', { headers })
    expect(seen[0]?.authorization).toBe('Basic dTpw')
  })

  it('does not refresh or retry on a 401 to a caller’s own Authorization', async () => {
    const { fetch, seen } = fakeFetch(() => new Response(null, { status: 401 }))
    const refresh = vi.fn(() => 'new')
    const api = createAuthFetch({ baseUrl, token: 't', fetch, refresh })
    const res = await api('/a', { headers: { authorization: 'Bearer mine' } })
    expect(res.status).toBe(401)
    expect(refresh).not.toHaveBeenCalled()
    expect(seen).toHaveLength(1)
  })
})

describe('Request objects', () => {
  it('get the token, keep their method, headers and body', async () => {
    const { fetch, seen } = fakeFetch()
    const api = createAuthFetch({ baseUrl, token: 't', fetch })
    await api(new Request(`${baseUrl}/items`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-a': '1' }, body: '{"a":1}' }))
    expect(seen[0]).toMatchObject({ url: `${baseUrl}/items`, method: 'PUT', authorization: 'Bearer t', body: '{"a":1}' })
    expect(seen[0]?.headers.get('content-type')).toBe('application/json')
    expect(seen[0]?.headers.get('x-a')).toBe('1')
  })

  it('keep their own Authorization', async () => {
    const { fetch, seen } = fakeFetch()
    const api = createAuthFetch({ baseUrl, token: 't', fetch })
    await api(new Request(`${baseUrl}/items`, { headers: { authorization: 'Bearer theirs' } }))
    expect(seen[0]?.authorization).toBe('Bearer theirs')
  })

  it('take init overrides as fetch does (init headers replace the request’s)', async () => {
    const { fetch, seen } = fakeFetch()
    const api = createAuthFetch({ baseUrl, token: 't', fetch })
    await api(new Request(`${baseUrl}/items`, { headers: { 'x-old': '1' } }), { method: 'DELETE', headers: { 'x-new': '2' } })
    expect(seen[0]).toMatchObject({ method: 'DELETE', authorization: 'Bearer t' })
    expect(seen[0]?.headers.get('x-new')).toBe('2')
    expect(seen[0]?.headers.get('x-old')).toBeNull()
  })

  it('keep their signal', async () => {
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    const { fetch, seen } = fakeFetch()
    const api = createAuthFetch({ baseUrl, token: 't', fetch })
    await expect(api(new Request(`${baseUrl}/items`, { signal: controller.signal }))).rejects.toThrow('stop')
    expect(seen).toHaveLength(0)
  })
})

describe('auth: false', () => {
  it('sends no token to an allowed origin, still resolving the path against baseUrl', async () => {
    const { fetch, seen } = fakeFetch()
    const api = createAuthFetch({ baseUrl: `${baseUrl}/v1`, token: 't', fetch })
    await api('/public', { auth: false })
    expect(seen[0]).toMatchObject({ url: `${baseUrl}/v1/public`, authorization: null })
  })

  it('does not pass the auth option on to fetch, and keeps the others', async () => {
    const { fetch } = fakeFetch()
    const api = createAuthFetch({ baseUrl, token: 't', fetch })
    await api('/public', { auth: false, method: 'POST', body: 'x' })
    expect(fetch.mock.calls[0]?.[1]).toEqual({ method: 'POST', body: 'x' })
  })

  it('passes fetch options it does not know (Next.js `next`, undici `dispatcher`) through untouched', async () => {
    const { fetch } = fakeFetch()
    const api = createAuthFetch({ baseUrl, token: 't', fetch })
    const next = { revalidate: 60 }
    await api('/data', { next } as RequestInit)
    expect((fetch.mock.calls[0]?.[1] as { next?: unknown }).next).toBe(next)
  })

  it('neither refreshes nor retries', async () => {
    const { fetch, seen } = fakeFetch(() => new Response(null, { status: 401 }))
    const refresh = vi.fn(() => 'new')
    const api = createAuthFetch({ baseUrl, token: 't', fetch, refresh })
    expect((await api('/a', { auth: false })).status).toBe(401)
    expect(refresh).not.toHaveBeenCalled()
    expect(seen).toHaveLength(1)
  })
})
