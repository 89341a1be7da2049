import type { AuthRequest } from '../decision.js'

/**
 * Builds an {@link AuthRequest} for unit tests of a policy: header names are lower-cased, as
 * Node delivers them.
 *
 * @example
 * ```ts
 * const decision = await auth.check(request('GET', '/api/reports', { authorization: `Bearer ${token}` }))
 * ```
 */
export function request(method: string, url: string, headers: Record<string, string | string[] | undefined> = {}): AuthRequest {
  const lower: AuthRequest['headers'] = {}
  for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value
  return { method, url, headers: lower }
}
