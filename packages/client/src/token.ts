/** The value a token getter may produce; anything but a non-empty string means "no token". */
export type TokenValue = string | null | undefined

/**
 * Where the token comes from: a fixed string (replaced by the result of each successful
 * `refresh`), or a getter called before every request, which is how a rotated token is seen.
 */
export type TokenSource = string | (() => TokenValue | Promise<TokenValue>)

/** RFC 9110 `token` characters: what a cookie name and a WebSocket subprotocol may contain. */
export const TCHARS = /^[\w!#$%&'*+.^`|~-]+$/

/** Normalises getter and refresh results so that a header never reads `Bearer undefined`. */
export const clean = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined)

/**
 * Builds the header value. The check exists because `Headers` quotes an invalid value in its own
 * error message, which would put the token into logs.
 */
export function bearer(token: string): string {
  if (!/^[!-~]+$/.test(token)) throw new TypeError('gatehouse: the token is not a valid header value')
  return `Bearer ${token}`
}
