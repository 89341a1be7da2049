import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { type Allow, checkRequirements, type ConfigProblem, type Deny, denyBody, denyDecision, GatehouseConfigError, type Requirements } from '@gatehouse/core'
import { type Carrier, MOUNTED, refuse, send } from './respond.js'

function names(kind: 'requireRoles' | 'requireScopes', values: unknown[]): readonly string[] {
  const problems: ConfigProblem[] = []
  if (values.length === 0) problems.push({ path: '', message: `${kind}() needs at least one ${kind === 'requireRoles' ? 'role' : 'scope'}, e.g. ${kind}('admin')` })
  values.forEach((v, i) => {
    if (typeof v !== 'string' || v === '') problems.push({ path: `[${i}]`, message: `must be a non-empty string (got ${typeof v === 'string' ? 'an empty string' : typeof v})` })
  })
  if (problems.length) throw new GatehouseConfigError(problems, kind)
  return Object.freeze([...(values as string[])])
}

// The request reached the guard without gatehouse() having judged it: a wiring mistake, so refuse
// and tell the operator once per guard. There is no engine to take the realm or `exposeHints`
// from, so core's default realm applies and the hint stays out of the body.
function unjudged(res: Response, next: NextFunction, what: string, warn: boolean): void {
  const hint = `${what}: gatehouse() did not run for this request; mount app.use(gatehouse(auth)) before the route`
  if (warn) console.warn(`@gatehouse/express: ${hint} (requests are refused with 401)`)
  const decision = denyDecision('credentials_missing', hint, { realm: 'gatehouse', presented: 'none' })
  try {
    const body = JSON.stringify(denyBody(decision, false))
    send(res, { status: decision.status, headers: { ...decision.headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body })
  } catch (error) {
    next(error)
  }
}

function guard(what: string, requirements: Requirements): RequestHandler {
  let warned = false
  return function gatehouseGuard(req: Request, res: Response, next: NextFunction): void {
    const mounted = (req as Carrier)[MOUNTED]
    const allow = req.auth
    if (mounted === undefined || allow === undefined) {
      unjudged(res, next, what, !warned)
      warned = true
      return
    }
    const realm = mounted.auth.realm
    const decision =
      allow.principal === null
        ? denyDecision('credentials_missing', `${what}: the request was let in by a public rule, without credentials`, { realm, presented: 'none' })
        : judge(allow, requirements, what, realm)
    if (decision === undefined) next()
    else refuse(mounted, decision, res, next)
  }
}

/**
 * Guards one route: the principal must have at least one of `roles` (the semantics of a core rule's
 * `roles`). Answers 403 `insufficient_role` otherwise, and 401 `credentials_missing` when the
 * request has no principal (let in by a public rule, or not judged by `gatehouse()` at all).
 * Follows the `onDeny` setting of the `gatehouse()` middleware that judged the request.
 *
 * @throws GatehouseConfigError when no role is given or a role is not a non-empty string.
 *
 * @example
 * ```ts
 * app.delete('/users/:id', requireRoles('admin', 'support'), deleteUser)
 * ```
 */
export function requireRoles(...roles: string[]): RequestHandler {
  const wanted = names('requireRoles', roles)
  const what = `requireRoles(${wanted.map((r) => `'${r}'`).join(', ')})`
  return guard(what, { roles: wanted })
}

/**
 * Guards one route: the principal must have every one of `scopes` (OAuth semantics, as a core
 * rule's `scopes`). Answers 403 `insufficient_scope` with `WWW-Authenticate: Bearer …,
 * error="insufficient_scope", scope="…"` otherwise, and 401 `credentials_missing` when the request
 * has no principal. Follows the `onDeny` setting of the `gatehouse()` middleware that judged the request.
 *
 * @throws GatehouseConfigError when no scope is given or a scope is not a non-empty string.
 *
 * @example
 * ```ts
 * app.get('/reports', requireScopes('reports:read'), listReports)
 * ```
 */
export function requireScopes(...scopes: string[]): RequestHandler {
  const wanted = names('requireScopes', scopes)
  const what = `requireScopes(${wanted.map((s) => `'${s}'`).join(', ')})`
  return guard(what, { scopes: wanted })
}

function judge(allow: Allow, requirements: Requirements, what: string, realm: string): Deny | undefined {
  const met = checkRequirements(allow.principal as NonNullable<Allow['principal']>, requirements, what)
  return met.ok ? undefined : denyDecision(met.code, met.hint, { realm, presented: allow.via === 'session' ? 'session' : 'token', scope: met.scope })
}
