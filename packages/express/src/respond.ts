import type { ServerResponse } from 'node:http'
import { type Allow, type Auth, type Deny, type DenyResponse } from '@gatehouse/core'
import { GatehouseError } from '@gatehouse/core'

/** What one `gatehouse()` middleware leaves on each request it judged, for the route guards. */
export interface Mounted {
  readonly auth: Auth
  /** `onDeny: 'next'`: pass a {@link GatehouseError} to `next()` instead of answering. */
  readonly next: boolean
}

/** The request property under which {@link Mounted} travels; a symbol, so it never shows in `req`'s keys. */
export const MOUNTED = Symbol.for('@gatehouse/express.mounted')

/** A request as the middleware and the guards see it. */
export type Carrier = { [MOUNTED]?: Mounted }

/** Adds an allow's response headers; `Set-Cookie` is appended so other cookies survive. */
export function forward(res: ServerResponse, headers: Allow['headers']): void {
  for (const name in headers) {
    const value = headers[name] as string
    if (name === 'set-cookie') res.appendHeader(name, value)
    else res.setHeader(name, value)
  }
}

/** Sends a deny response as core shaped it, keeping headers set earlier (CORS, for one). */
export function send(res: ServerResponse, response: DenyResponse): void {
  res.statusCode = response.status
  const headers = response.headers
  for (const name in headers) res.setHeader(name, headers[name] as string)
  res.setHeader('content-length', Buffer.byteLength(response.body))
  res.end(response.body)
}

/** Answers a deny, or hands it to the application's error middleware with `onDeny: 'next'`. */
export function refuse(mounted: Mounted, decision: Deny, res: ServerResponse, next: (error?: unknown) => void): void {
  if (mounted.next) {
    next(new GatehouseError(decision, mounted.auth.exposeHints))
    return
  }
  try {
    send(res, mounted.auth.respond(decision))
  } catch (error) {
    next(error)
  }
}
