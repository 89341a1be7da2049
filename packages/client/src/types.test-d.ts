import { describe, expectTypeOf, it } from 'vitest'
import { createAuthFetch, type AuthFetch, type AuthSocket, type FetchLike } from './index'

const api = createAuthFetch({ baseUrl: 'https://api.example.com', token: 't' })

describe('public types', () => {
  it('is assignable to typeof fetch and to the fetch option of other clients', () => {
    expectTypeOf(api).toExtend<typeof fetch>()
    expectTypeOf(api).toExtend<FetchLike>()
    // The shape ky, ofetch and openapi-fetch declare for their `fetch` option.
    expectTypeOf(api).toExtend<(input: Request | string | URL, init?: RequestInit) => Promise<Response>>()
  })

  it('accepts auth: false per call, beside every RequestInit option', () => {
    expectTypeOf(api).toBeCallableWith('/x', { auth: false })
    expectTypeOf(api).toBeCallableWith(new Request('https://api.example.com/x'), { auth: false, method: 'POST', body: 'b' })
    expectTypeOf(api('/x', { auth: false })).resolves.toEqualTypeOf<Response>()
  })

  it('opens sockets', () => {
    expectTypeOf<AuthFetch['ws']>().returns.toEqualTypeOf<AuthSocket>()
    expectTypeOf(api.ws('/live', 'chat').on).toBeFunction()
  })

  it('takes token getters of every documented shape', () => {
    createAuthFetch({ token: () => null })
    createAuthFetch({ token: () => undefined })
    createAuthFetch({ token: async () => 'x' })
    createAuthFetch({ token: async () => null, refresh: async () => null })
    // @ts-expect-error a number is not a token
    createAuthFetch({ token: () => 1 })
  })
})
