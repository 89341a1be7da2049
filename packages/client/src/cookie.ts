import { TCHARS } from './token'

/**
 * Returns a token getter that reads the cookie `name` from `document.cookie` on every call, so a
 * token rotated by the server (or by another tab) is picked up by the next request.
 *
 * Only cookies readable by scripts can be read: an `HttpOnly` cookie is invisible here, and that
 * is the point of `HttpOnly`. If your server sets the token `HttpOnly`, let the browser send the
 * cookie itself and have the server read it (`jwt.from: [{ cookie: 'name' }]`) instead.
 *
 * The name must match exactly (`token` never matches `xtoken` or `token2`). The value is
 * percent-decoded; a value with a malformed escape is returned as stored rather than dropped.
 * Outside a browser (during SSR) the getter returns `undefined`, so no header is sent.
 *
 * @example
 * ```ts
 * const api = createAuthFetch({ baseUrl: 'https://api.example.com', token: fromCookie('client_token') })
 * ```
 * @throws TypeError when `name` is not a valid cookie name.
 */
export function fromCookie(name: string): () => string | undefined {
  if (typeof name !== 'string' || !TCHARS.test(name)) {
    throw new TypeError(`fromCookie: "name" must be a cookie name, got ${JSON.stringify(name)}`)
  }
  return () => {
    if (typeof document === 'undefined') return undefined
    for (const pair of document.cookie.split(';')) {
      const eq = pair.indexOf('=')
      if (eq > 0 && pair.slice(0, eq).trim() === name) return decode(pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'))
    }
    return undefined
  }
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
