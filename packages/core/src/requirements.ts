import { type Failure, failure } from './deny-codes.js'
import type { Principal } from './decision.js'

/** What a rule, a route guard or a route config asks of a principal. */
export interface Requirements {
  /** Alternatives: any one of these roles suffices. Empty or absent: no role needed. */
  roles?: readonly string[]
  /** All required, as OAuth scopes are. Empty or absent: no scope needed. */
  scopes?: readonly string[]
}

/** A refusal by {@link checkRequirements}; `scope` lists the scopes for `WWW-Authenticate`. */
export type RequirementFailure = Failure & { scope?: string[] }

const list = (xs: readonly string[]): string => `[${xs.map((x) => `'${x}'`).join(', ')}]`

/**
 * Checks roles (any of) and scopes (all of) with the same semantics everywhere: core rules,
 * Express guards, Fastify route configs. `where` names the requirement in the hint, e.g.
 * `rule 2 (/api/admin/**)` or `route GET /reports`.
 */
export function checkRequirements(principal: Principal, requirements: Requirements, where: string): { ok: true } | RequirementFailure {
  const roles = requirements.roles
  if (roles !== undefined && roles.length && !roles.some((r) => principal.roles.includes(r))) {
    return failure('insufficient_role', `${where} needs one of roles ${list(roles)}; principal '${principal.id}' has ${list(principal.roles)}`)
  }
  const scopes = requirements.scopes
  if (scopes !== undefined && scopes.length) {
    const missing = scopes.filter((s) => !principal.scopes.includes(s))
    if (missing.length) {
      return { ...failure('insufficient_scope', `${where} needs scopes ${list(scopes)}; principal '${principal.id}' lacks ${list(missing)} (it has ${list(principal.scopes)})`), scope: [...scopes] }
    }
  }
  return { ok: true }
}
