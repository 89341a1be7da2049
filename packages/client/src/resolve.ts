/** A scheme at the start makes an input absolute (RFC 3986 §3.1); anything else is relative. */
const ABSOLUTE = /^[a-z][a-z\d+.-]*:/i

/**
 * Validates `baseUrl` once, at creation, and gives it a trailing slash so that relative inputs
 * land below its path whether or not the caller wrote one.
 */
export function parseBaseUrl(baseUrl: string | URL): URL {
  const url = parseUrl(baseUrl)
  if (!url || !/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.password) {
    throw new TypeError(`createAuthFetch: "baseUrl" must be an http(s) URL with no query or fragment, got ${JSON.stringify(String(baseUrl))}`)
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  return url
}

/**
 * Resolves a request input. With a base URL, one leading slash is dropped so that `'/users'` and
 * `'users'` both mean "below the base path", the rule that survives a base that moves from `/` to
 * `/v1`. Two leading slashes stay a scheme-relative URL (another host), exactly as `fetch` reads
 * them; the token rule then judges the result's origin, so resolution never decides who sees it.
 */
export function resolveUrl(input: string | URL, base: URL | undefined): URL {
  const text = String(input)
  if (ABSOLUTE.test(text)) return new URL(text)
  if (base) return new URL(text.replace(/^[\0- ]*[/\\]?(?![/\\])/, ''), base)
  // Read at call time, never at import: the same module runs during SSR.
  const page = globalThis.location?.href
  if (page) return new URL(text, page)
  throw new TypeError(`gatehouse: the relative URL ${JSON.stringify(text)} needs "baseUrl" outside a browser`)
}

/** `URL.canParse` is too recent for the browsers this package supports. */
export function parseUrl(input: string | URL): URL | undefined {
  try {
    return new URL(input)
  } catch {
    return undefined
  }
}
