import type { AuthRequest } from './decision.js'

/**
 * Reads every value of the cookie `name` from the request's `Cookie` header(s), in order.
 * Duplicates are kept on purpose: two session cookies are a sign of cookie tossing and must be
 * refused, which a parser that keeps only the first (or last) value would hide. Values are
 * returned raw (not percent-decoded); a value wrapped in double quotes is unwrapped.
 */
export function readCookie(headers: AuthRequest['headers'], name: string): string[] {
  const raw = headers.cookie
  if (raw === undefined) return []
  const found: string[] = []
  for (const header of Array.isArray(raw) ? raw : [raw]) {
    // Cheap pre-check keeps the common "cookie not present" case free of splitting.
    if (!header.includes(name)) continue
    for (const part of header.split(';')) {
      const eq = part.indexOf('=')
      if (eq === -1) continue
      if (part.slice(0, eq).trim() !== name) continue
      let value = part.slice(eq + 1).trim()
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
      found.push(value)
    }
  }
  return found
}

/** The names of every cookie the request carries (for hints: names only, never values). */
export function cookieNames(headers: AuthRequest['headers']): string[] {
  const raw = headers.cookie
  if (raw === undefined) return []
  const names = new Set<string>()
  for (const header of Array.isArray(raw) ? raw : [raw]) {
    for (const part of header.split(';')) {
      const eq = part.indexOf('=')
      const name = (eq === -1 ? part : part.slice(0, eq)).trim()
      if (name) names.add(name)
    }
  }
  return [...names]
}
