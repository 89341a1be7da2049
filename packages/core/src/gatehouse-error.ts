import type { DenyCode } from './deny-codes.js'
import { type Deny, type DenyBody, denyBody } from './decision.js'

/**
 * A deny as an `Error`, for applications that shape responses in their own error handler
 * (Express `onDeny: 'next'`, Fastify `onDeny: 'error'`).
 *
 * `message` is the client-safe deny message (never a token or a hint); `headers` are the ones
 * the deny must carry (`WWW-Authenticate` on 401 and on 403 `insufficient_scope`); `body` is the
 * JSON body gatehouse would have sent, with the hint only when `exposeHints` is on. The full
 * decision, hint included, stays on `decision` for logs. `status`, `statusCode`, `headers` and
 * `expose` follow the `http-errors` convention, so default error handlers answer correctly.
 *
 * @example
 * ```ts
 * app.use((err, req, res, next) => {
 *   if (!(err instanceof GatehouseError)) return next(err)
 *   log.warn({ code: err.code, hint: err.decision.hint })
 *   res.status(err.status).set(err.headers).json(err.body)
 * })
 * ```
 */
export class GatehouseError extends Error {
  override readonly name = 'GatehouseError'
  /** 401, 403 or 503. */
  readonly status: 401 | 403 | 503
  /** Alias of `status`, read by error handlers that follow Node's naming. */
  readonly statusCode: 401 | 403 | 503
  /** The stable deny code, e.g. `token_expired`. */
  readonly code: DenyCode
  /** The decision, hint included: for logs, never for clients. */
  readonly decision: Deny
  /** Headers the response must carry, e.g. `www-authenticate`. */
  readonly headers: Readonly<Record<string, string>>
  /** The body gatehouse would have sent; `hint` only when `exposeHints` is on. */
  readonly body: DenyBody
  /** The message is safe to show to clients. */
  readonly expose = true

  constructor(decision: Deny, exposeHints: boolean) {
    super(decision.message)
    this.status = decision.status
    this.statusCode = decision.status
    this.code = decision.code
    this.decision = decision
    this.headers = decision.headers
    this.body = denyBody(decision, exposeHints)
  }
}
