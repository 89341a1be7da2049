import { afterEach, describe, expect, it, vi } from 'vitest'
import { fakeFetch } from '../test/fakes'
import { createAuthFetch } from './index'

afterEach(() => {
  vi.unstubAllGlobals()
})

function setup(options: { baseUrl?: string; allowOrigins?: string[] } = { baseUrl: 'https://api.example.com' }) {
  const { fetch, seen } = fakeFetch()
  const api = createAuthFetch({ token: 'T0KEN', fetch, ...options })
  return { api, seen }
}

describe('which requests receive the token', () => {
  it('sends it to the baseUrl origin', async () => {
    const { api, seen } = setup()
    await api('/users')
    await api('https://api.example.com/other')
    expect(seen.map((s) => [s.url, s.authorization])).toEqual([
      ['https://api.example.com/users', 'Bearer T0KEN'],
      ['https://api.example.com/other', 'Bearer T0KEN'],
    ])
  })

  it.each([
    ['//evil.example/users', 'https://evil.example/users'],
    ['/\\evil.example/users', 'https://evil.example/users'],
    ['https://evil.example/users', 'https://evil.example/users'],
    ['https://api.example.com.evil.example/users', 'https://api.example.com.evil.example/users'],
    ['https://api.example.com@evil.example/users', 'https://api.example.com@evil.example/users'],
    ['https://api.example.com:8443/users', 'https://api.example.com:8443/users'],
    ['http://api.example.com/users', 'http://api.example.com/users'],
    ['https://sub.api.example.com/users', 'https://sub.api.example.com/users'],
  ])('never sends it to %s', async (input, reached) => {
    const { api, seen } = setup()
    await api(input)
    expect(seen).toHaveLength(1)
    expect(seen[0]?.url).toBe(reached)
    expect(seen[0]?.authorization).toBeNull()
  })

  it('judges a URL object and a Request by their origin too', async () => {
    const { api, seen } = setup()
    await api(new URL('https://evil.example/x'))
    await api(new Request('https://evil.example/y'))
    await api(new URL('https://api.example.com/z'))
    expect(seen.map((s) => s.authorization)).toEqual([null, null, 'Bearer T0KEN'])
  })

  it('treats the default port as the same origin', async () => {
    const { api, seen } = setup()
    await api('https://api.example.com:443/users')
    expect(seen[0]?.authorization).toBe('Bearer T0KEN')
  })

  it('sends it to allowOrigins, normalised, and to nothing else', async () => {
    const { api, seen } = setup({ baseUrl: 'https://api.example.com', allowOrigins: ['https://FILES.example.com:443/', 'http://localhost:8080'] })
    await api('https://files.example.com/a')
    await api('http://localhost:8080/b')
    await api('http://localhost:8081/c')
    await api('https://files.example.com.evil.example/d')
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer T0KEN', 'Bearer T0KEN', null, null])
  })

  it('works with allowOrigins alone, outside a browser', async () => {
    const { api, seen } = setup({ allowOrigins: ['https://api.example.com'] })
    await api('https://api.example.com/a')
    await api('https://other.example.com/a')
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer T0KEN', null])
  })

  it.each(['https://api.example.com/path', '*', 'https://*.example.com', 'api.example.com', 'https://user@api.example.com', 'ftp://api.example.com', 'https://api.example.com/?q', ''])(
    'refuses %j as an allowed origin, at creation',
    (entry) => {
      expect(() => createAuthFetch({ token: 't', allowOrigins: [entry] })).toThrow(/"allowOrigins"/)
    },
  )
})

describe('relative inputs', () => {
  it.each(['https://api.example.com/v1', 'https://api.example.com/v1/'])('resolve below the path of %s, with or without a leading slash', async (baseUrl) => {
    const { api, seen } = setup({ baseUrl })
    await api('users')
    await api('/users')
    await api('users/7?expand=true#x')
    await api('')
    expect(seen.map((s) => s.url)).toEqual([
      'https://api.example.com/v1/users',
      'https://api.example.com/v1/users',
      'https://api.example.com/v1/users/7?expand=true#x',
      'https://api.example.com/v1/',
    ])
    expect(seen.every((s) => s.authorization === 'Bearer T0KEN')).toBe(true)
  })

  it('leave absolute inputs alone', async () => {
    const { api, seen } = setup({ baseUrl: 'https://api.example.com/v1' })
    await api('https://api.example.com/health')
    expect(seen[0]?.url).toBe('https://api.example.com/health')
  })

  it.each(['api.example.com', 'not a url', 'ftp://api.example.com', 'https://api.example.com/?x=1', 'https://api.example.com/#x', 'https://u:p@api.example.com'])(
    'refuse the baseUrl %j at creation with a TypeError naming the option',
    (baseUrl) => {
      expect(() => createAuthFetch({ baseUrl, token: 't' })).toThrow(TypeError)
      expect(() => createAuthFetch({ baseUrl, token: 't' })).toThrow(/"baseUrl"/)
    },
  )

  it('fail at call time, not at creation, when there is neither baseUrl nor a page', async () => {
    const { api, seen } = setup({})
    await expect(api('/users')).rejects.toThrow(TypeError)
    await expect(api('/users')).rejects.toThrow(/"\/users" needs "baseUrl"/)
    expect(seen).toHaveLength(0)
  })

  it('resolve against the page in a browser without baseUrl, whose origin is the own origin', async () => {
    vi.stubGlobal('location', { href: 'https://app.example.com/dashboard/home', origin: 'https://app.example.com' })
    const { api, seen } = setup({})
    await api('api/me')
    await api('/api/me')
    await api('https://api.example.com/me')
    expect(seen.map((s) => [s.url, s.authorization])).toEqual([
      ['https://app.example.com/dashboard/api/me', 'Bearer T0KEN'],
      ['https://app.example.com/api/me', 'Bearer T0KEN'],
      ['https://api.example.com/me', null],
    ])
  })

  it('in a browser with a baseUrl, the page origin is not the own origin', async () => {
    vi.stubGlobal('location', { href: 'https://app.example.com/', origin: 'https://app.example.com' })
    const { api, seen } = setup({ baseUrl: 'https://api.example.com' })
    await api('https://app.example.com/x')
    expect(seen[0]?.authorization).toBeNull()
  })

  it('never counts an opaque "null" origin as the own origin', async () => {
    vi.stubGlobal('location', { href: 'file:///index.html', origin: 'null' })
    const { api, seen } = setup({})
    await api('data:text/plain,hi')
    expect(seen[0]?.authorization).toBeNull()
  })
})
