import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { type Allow, type Auth, type AuthOptions, type ConfigProblem, createAuth, type Decision, fromNodeRequest, GatehouseConfigError } from '@gatehouse/core'
import { type Carrier, forward, MOUNTED, type Mounted, refuse } from './respond.js'

// Express 5's `Request` extends the global `Express.Request`, so merging here types `req.auth`
// wherever `@types/express` is loaded, without naming the internal `express-serve-static-core`
// module (which pnpm does not hoist into applications).
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * The decision that let this request in, set by `gatehouse()`: `via`, `principal`, `claims`,
       * `session`. `undefined` when no gatehouse middleware ran for the request.
       */
      auth?: Allow
    }
  }
}

/** Options of {@link gatehouse}. */
export interface GatehouseExpressOptions {
  /**
   * What to do with a deny. `'respond'` (default) answers at once with the status, headers and
   * JSON body core built. `'next'` calls `next(new GatehouseError(decision))`, so an error
   * middleware of the application shapes the response.
   */
  onDeny?: 'respond' | 'next'
}

/** The middleware {@link gatehouse} returns. */
export interface GatehouseMiddleware extends RequestHandler {
  /** The auth engine the middleware uses: the one passed in, or the one created from options. */
  readonly auth: Auth
}

const SCOPE = '@gatehouse/express'

function isAuth(value: object): value is Auth {
  return typeof (value as Partial<Auth>).decide === 'function' && typeof (value as Partial<Auth>).respond === 'function'
}

function parseMiddlewareOptions(options: unknown): boolean {
  if (options === undefined) return false
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new GatehouseConfigError([{ path: '', message: `the second argument of gatehouse() must be an options object such as { onDeny: 'next' } (got ${options === null ? 'null' : typeof options})` }], SCOPE)
  }
  const problems: ConfigProblem[] = []
  for (const key of Object.keys(options)) {
    if (key !== 'onDeny') problems.push({ path: key, message: "unknown option; gatehouse() accepts only onDeny (auth options go in the first argument)" })
  }
  const onDeny = (options as GatehouseExpressOptions).onDeny
  if (onDeny !== undefined && onDeny !== 'respond' && onDeny !== 'next') {
    problems.push({ path: 'onDeny', message: `must be 'respond' or 'next' (got ${JSON.stringify(onDeny)?.slice(0, 40) ?? typeof onDeny})` })
  }
  if (problems.length) throw new GatehouseConfigError(problems, SCOPE)
  return onDeny === 'next'
}

/**
 * Express 5 middleware that judges every request with gatehouse and sets `req.auth`.
 *
 * Pass an engine from `createAuth()` (share it with route guards, session helpers and other
 * adapters), or the options to create one. The request is judged on `req.originalUrl`, the
 * request-target as the client sent it, so rules and public paths name full paths even when the
 * middleware is mounted under a prefix (`router.use(gatehouse(auth))` inside `app.use('/v1', router)`
 * sees `/v1/...`).
 *
 * An allowed request gets `req.auth` (the `Allow` decision) and the allow's response headers
 * (a rolled session's `Set-Cookie` is appended, never clobbering other cookies). A denied one is
 * answered with core's status, headers and JSON body, or passed to `next()` as a
 * {@link GatehouseError} with `onDeny: 'next'`. An unexpected rejection goes to `next(err)`.
 *
 * @throws GatehouseConfigError when the options are invalid.
 *
 * @example
 * ```ts
 * const auth = createAuth({ jwt: { secret }, public: ['/health'], rules: [{ match: '/admin/**', roles: ['admin'] }] })
 * app.use(gatehouse(auth))
 * app.get('/me', (req, res) => res.json(req.auth?.principal))
 * ```
 */
export function gatehouse(authOrOptions: Auth | AuthOptions, options?: GatehouseExpressOptions): GatehouseMiddleware {
  if (typeof authOrOptions !== 'object' || authOrOptions === null) {
    throw new GatehouseConfigError([{ path: '', message: `gatehouse() needs an engine from createAuth() or auth options such as { jwt: { secret } } (got ${authOrOptions === null ? 'null' : typeof authOrOptions})` }], SCOPE)
  }
  const nextOnDeny = parseMiddlewareOptions(options)
  const auth = isAuth(authOrOptions) ? authOrOptions : createAuth(authOrOptions)
  const mounted: Mounted = Object.freeze({ auth, next: nextOnDeny })

  function settle(decision: Decision, req: Request, res: Response, next: NextFunction): void {
    if (!decision.ok) {
      refuse(mounted, decision, res, next)
      return
    }
    try {
      req.auth = decision
      forward(res, decision.headers)
    } catch (error) {
      next(error)
      return
    }
    next()
  }

  const middleware = function gatehouseMiddleware(req: Request, res: Response, next: NextFunction): void {
    ;(req as Carrier)[MOUNTED] = mounted
    let pending: Decision | Promise<Decision>
    try {
      pending = auth.decide(fromNodeRequest(req, req.originalUrl))
    } catch (error) {
      next(error)
      return
    }
    // Synchronous when nothing had to wait, which spares the request a microtask.
    if (pending instanceof Promise) pending.then((decision) => settle(decision, req, res, next), next).catch(escaped)
    else settle(pending, req, res, next)
  } as GatehouseMiddleware
  Object.defineProperty(middleware, 'auth', { value: auth, enumerable: true })
  return middleware
}

// Reached only if `next()` itself threw after the request was handed on; answering again would
// send two responses, so the error is reported instead of crashing the process.
function escaped(error: unknown): void {
  console.error('@gatehouse/express: an error escaped next()', error)
}
