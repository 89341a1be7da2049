import { type Allow, checkRequirements, type ConfigProblem, type Deny, denyDecision, GatehouseConfigError } from '@gatehouse/core'

/** A route's `config.gatehouse`: `'public'` skips the check; `{ roles, scopes }` adds requirements. */
export type GatehouseRouteConfig = 'public' | { roles?: string[]; scopes?: string[] }

/** A route's requirements, validated once. */
export interface Requirement {
  /** Any one of these roles suffices (empty: no role needed). */
  roles: readonly string[]
  /** Every one of these scopes is needed (empty: no scope needed). */
  scopes: readonly string[]
}

function strings(value: unknown, path: string, problems: ConfigProblem[]): readonly string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) {
    problems.push({ path, message: `must be an array of strings, e.g. ['admin'] (got ${typeof value})` })
    return []
  }
  value.forEach((v, i) => {
    if (typeof v !== 'string' || v === '') problems.push({ path: `${path}[${i}]`, message: 'must be a non-empty string' })
  })
  return Object.freeze([...(value as string[])])
}

/**
 * Validates a route's `config.gatehouse` object. `route` names the route in messages and hints,
 * e.g. `GET /admin`.
 *
 * @throws GatehouseConfigError listing every problem.
 */
export function compileRequirement(config: object, route: string): Requirement {
  const problems: ConfigProblem[] = []
  const base = `config.gatehouse`
  for (const key of Object.keys(config)) {
    if (key !== 'roles' && key !== 'scopes') problems.push({ path: `${base}.${key}`, message: "unknown key; a route's gatehouse config is 'public' or { roles, scopes }" })
  }
  const { roles: r, scopes: s } = config as { roles?: unknown; scopes?: unknown }
  const roles = strings(r, `${base}.roles`, problems)
  const scopes = strings(s, `${base}.scopes`, problems)
  if (!problems.length && roles.length === 0 && scopes.length === 0) {
    problems.push({ path: base, message: "lists no roles and no scopes; give { roles: ['admin'] } and/or { scopes: ['reports:read'] }, or remove it" })
  }
  if (problems.length) throw new GatehouseConfigError(problems, `@gatehouse/fastify route ${route}`)
  return Object.freeze({ roles, scopes })
}

/**
 * Describes a route config that is neither `'public'` nor an object, or `undefined` when it is one
 * of those (objects are checked by {@link compileRequirement}).
 */
export function routeConfigProblem(config: unknown): string | undefined {
  if (config === undefined || config === 'public' || (typeof config === 'object' && config !== null && !Array.isArray(config))) return undefined
  return `must be 'public' or { roles, scopes } (got ${typeof config === 'string' ? JSON.stringify(config.slice(0, 40)) : Array.isArray(config) ? 'an array' : String(config)})`
}

/**
 * Applies a route's requirements to an allowed request, with the semantics of core rules: roles
 * are alternatives, scopes are all required. A request with no principal (let in by a public
 * rule) is refused with 401 `credentials_missing`: the route needs someone. `route` names the
 * route in hints (one requirement object may be shared by several routes).
 */
export function judge(requirement: Requirement, allow: Allow, realm: string, route: string): Deny | undefined {
  const principal = allow.principal
  const where = `route ${route}`
  if (principal === null) {
    return denyDecision('credentials_missing', `${where} needs an authenticated principal, but the request was let in by a public rule, without credentials`, { realm, presented: 'none' })
  }
  const met = checkRequirements(principal, requirement, where)
  return met.ok ? undefined : denyDecision(met.code, met.hint, { realm, presented: allow.via === 'session' ? 'session' : 'token', scope: met.scope })
}
