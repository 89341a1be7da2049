import { parseUrl } from './resolve'

/**
 * Turns the `allowOrigins` option into exact origin strings, once, at creation. Listing an
 * origin is a security decision, so anything that is not exactly an http(s) origin (a path,
 * credentials, a wildcard, a typo) is refused instead of being widened or narrowed silently.
 */
export function toOrigins(list: readonly string[] = []): string[] {
  return list.map((entry) => {
    const url = parseUrl(entry)
    // A wildcard parses as a host name, so it would be accepted and then silently match nothing.
    if (!url || !/^https?:$/.test(url.protocol) || url.href !== `${url.origin}/` || entry.includes('*')) {
      throw new TypeError(`createAuthFetch: "allowOrigins" entries must be origins like "https://api.example.com", got ${JSON.stringify(entry)}`)
    }
    return url.origin
  })
}
