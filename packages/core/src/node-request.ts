import type { AuthRequest } from './decision.js'

/** The parts of Node's `IncomingMessage` that {@link fromNodeRequest} reads. */
export interface NodeRequestLike {
  method?: string | undefined
  url?: string | undefined
  headers: Record<string, string | string[] | undefined>
  rawHeaders?: readonly string[]
}

/**
 * Builds an {@link AuthRequest} from a Node request (Express, Fastify's `request.raw`, `ws`
 * upgrades). Node keeps only the first of several `Authorization` headers, which would let a
 * second, conflicting credential pass unseen; this restores every value from `rawHeaders` so core
 * can refuse the ambiguity.
 */
export function fromNodeRequest(req: NodeRequestLike, url = req.url ?? '/'): AuthRequest {
  let headers = req.headers
  const raw = req.rawHeaders
  if (raw !== undefined && headers.authorization !== undefined) {
    let values: string[] | undefined
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]
      if (name !== undefined && name.length === 13 && name.toLowerCase() === 'authorization') (values ??= []).push(raw[i + 1] ?? '')
    }
    if (values !== undefined && values.length > 1) headers = { ...headers, authorization: values }
  }
  return { method: req.method ?? 'GET', url, headers }
}
