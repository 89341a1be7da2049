import { afterEach, describe, expect, it, vi } from 'vitest'
import { fakeFetch } from '../test/fakes'
import { createAuthFetch, fromCookie } from './index'

const withCookies = (cookie: string) => vi.stubGlobal('document', { cookie })

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('fromCookie', () => {
  it('reads the cookie with exactly that name, not one that merely contains it', () => {
    withCookies('xtoken=prefixed; token2=suffixed; token=right; tokens=plural')
    expect(fromCookie('token')()).toBe('right')
  })

  it('finds nothing when only longer or shorter names exist', () => {
    withCookies('xtoken=a; token2=b; toke=c')
    expect(fromCookie('token')()).toBeUndefined()
  })

  it('is case-sensitive, as cookie names are', () => {
    withCookies('Token=upper')
    expect(fromCookie('token')()).toBeUndefined()
  })

  it('percent-decodes the value', () => {
    withCookies('a=1; token=eyJ%2Babc%3D%3D; b=2')
    expect(fromCookie('token')()).toBe('eyJ+abc==')
  })

  it('returns a value with a malformed escape as stored', () => {
    withCookies('token=abc%E0%A4%A')
    expect(fromCookie('token')()).toBe('abc%E0%A4%A')
  })

  it('keeps "=" inside the value and drops surrounding quotes', () => {
    withCookies('token=a=b; quoted="q.v"')
    expect(fromCookie('token')()).toBe('a=b')
    expect(fromCookie('quoted')()).toBe('q.v')
  })

  it('ignores a nameless cookie whose value equals the name', () => {
    withCookies('token; other=1')
    expect(fromCookie('token')()).toBeUndefined()
  })

  it('reads document.cookie again on every call', () => {
    const doc = { cookie: 'token=one' }
    vi.stubGlobal('document', doc)
    const read = fromCookie('token')
    expect(read()).toBe('one')
    doc.cookie = 'token=two'
    expect(read()).toBe('two')
  })

  it('returns undefined where there is no document (SSR) instead of throwing', () => {
    expect('document' in globalThis).toBe(false)
    expect(fromCookie('token')()).toBeUndefined()
  })

  it.each(['', 'a b', 'a=b', 'a;b', 'a,b', 'é'])('refuses the cookie name %j', (name) => {
    expect(() => fromCookie(name)).toThrow(/"name"/)
  })

  it('feeds createAuthFetch: a header when the cookie is set, none when it is absent or empty', async () => {
    const { fetch, seen } = fakeFetch()
    const api = createAuthFetch({ baseUrl: 'https://api.example.com', token: fromCookie('client_token'), fetch })
    withCookies('client_token=abc.def')
    await api('/a')
    withCookies('other=1')
    await api('/b')
    withCookies('client_token=')
    await api('/c')
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer abc.def', null, null])
  })
})
