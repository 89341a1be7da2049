import type { FetchLike } from './auth-fetch'

const REDIRECT = [301, 302, 303, 307, 308]
/** Fetch's request-body-header names, dropped with the body when a redirect turns a POST into a GET. */
const BODY_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-location']

/**
 * Browsers drop `Authorization` on a cross-origin redirect (Fetch standard) and cannot show a
 * script the redirect anyway (`redirect: 'manual'` gives an opaque response), so there the
 * browser follows. Elsewhere (Node, Deno, Bun, workers runtimes, polyfills) the stripping is not
 * something to rely on.
 */
const browser = () => 'document' in globalThis || 'WorkerGlobalScope' in globalThis

/**
 * Sends a request whose token is decided per hop: it follows redirects itself (same limit and
 * method rewriting as `fetch`) and asks `authorize` for the header of every hop's URL, so a
 * redirect to another origin never carries the token there.
 */
export async function follow(
  send: FetchLike,
  url: URL,
  init: RequestInit,
  callerHeaders: Headers,
  authorize: (url: URL) => string | undefined,
): Promise<Response> {
  const mode = init.redirect ?? 'follow'
  const manual = mode === 'follow' && !browser()
  const headers = new Headers(callerHeaders)
  let { method = 'GET', body } = init
  for (let hop = 0; ; hop++) {
    const hopHeaders = new Headers(headers)
    const value = authorize(url)
    if (value) hopHeaders.set('authorization', value)
    const hopInit = { ...init, method, body, headers: hopHeaders }
    const res = await send(url.href, { ...hopInit, redirect: manual ? 'manual' : mode })
    // A browser-like fetch that the check above missed: only it can follow, and it strips.
    if (res.type === 'opaqueredirect' && manual) return send(url.href, hopInit)
    const location = manual && REDIRECT.includes(res.status) ? res.headers.get('location') : null
    if (location === null) {
      if (hop) Object.defineProperty(res, 'redirected', { value: true })
      return res
    }
    if (hop === 20) throw new TypeError('gatehouse: too many redirects')
    const next = new URL(location, url)
    if (!/^https?:$/.test(next.protocol)) throw new TypeError('gatehouse: redirect to a non-http(s) URL')
    const verb = method.toUpperCase()
    if (res.status === 303 ? verb !== 'GET' && verb !== 'HEAD' : res.status < 303 && verb === 'POST') {
      method = 'GET'
      body = null
      for (const name of BODY_HEADERS) headers.delete(name)
    }
    void res.body?.cancel().catch(() => {})
    url = next
  }
}
