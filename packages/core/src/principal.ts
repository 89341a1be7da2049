import { type Failure, failure } from './deny-codes.js'
import type { AuthRequest, JWTPayload, Principal, SessionRecord } from './decision.js'
import { show } from './hint-format.js'
import { HookTimeout, isThenable, withTimeout } from './hook-timeout.js'
import type { TraceSink } from './trace.js'

/** What the `principal` hook receives. */
export interface PrincipalInput {
  via: 'bearer' | 'session'
  claims?: JWTPayload
  session?: SessionRecord
  request: AuthRequest
}

/**
 * Maps verified credentials to the application's user, e.g. by looking the user up.
 * Return `null` when the user is unknown (401 `principal_rejected`); a throw or a timeout becomes
 * 503 `auth_unavailable`, because the failure says nothing about the credentials.
 */
export type PrincipalHook = (input: PrincipalInput) => Principal | null | Promise<Principal | null>

/** Claim names the default mapping reads. */
export interface ClaimNames {
  id: string
  roles: string
  scopes?: string
}

function stringList(value: unknown, split: boolean): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string')
  if (typeof value === 'string') return split ? value.split(' ').filter(Boolean) : [value]
  return []
}

/** The default mapping from claims: `sub` → id, `roles` → roles, `scope` (space-separated) or `scp` → scopes. */
/** A principal, or why there is none. */
export type PrincipalResult = { ok: true; principal: Principal } | Failure

export function principalFromClaims(claims: JWTPayload, names: ClaimNames): PrincipalResult {
  const id = claims[names.id]
  if (typeof id !== 'string' || id === '') {
    return failure('principal_rejected', `the token has no string '${names.id}' claim to identify the principal (found ${show(id)}); set jwt.claims.id or a principal hook`)
  }
  const scopes = names.scopes !== undefined ? stringList(claims[names.scopes], true) : claims.scope !== undefined ? stringList(claims.scope, true) : stringList(claims.scp, true)
  return { ok: true, principal: { id, roles: stringList(claims[names.roles], false), scopes } }
}

/** The default mapping from a session record. */
export function principalFromSession(session: SessionRecord): Principal {
  return { id: session.userId, roles: [...session.roles], scopes: [] }
}

function normalise(value: unknown): Principal | string {
  if (typeof value !== 'object' || value === null) return `returned ${value === undefined ? 'undefined' : typeof value}; expected a principal object or null`
  const p = value as Record<string, unknown>
  if (typeof p.id !== 'string' || p.id === '') return 'returned a principal without a string id'
  for (const key of ['roles', 'scopes'] as const) {
    const list = p[key]
    if (list !== undefined && !(Array.isArray(list) && list.every((v) => typeof v === 'string'))) return `returned a principal whose ${key} is not an array of strings`
  }
  return { ...p, id: p.id, roles: (p.roles as string[] | undefined) ?? [], scopes: (p.scopes as string[] | undefined) ?? [] }
}

/**
 * Runs the `principal` hook, bounded by `hookTimeout`. Fails closed: `null` → `principal_rejected`, a throw,
 * a timeout or a malformed result → `auth_unavailable`.
 */
export async function resolvePrincipal(hook: PrincipalHook, input: PrincipalInput, timeoutMs: number, trace?: TraceSink): Promise<PrincipalResult> {
  let result: unknown
  try {
    const pending = hook(input)
    result = isThenable(pending) ? await withTimeout(pending, timeoutMs) : pending
  } catch (error) {
    const why = error instanceof HookTimeout ? error.message : `threw ${error instanceof Error ? error.name : typeof error}${error instanceof Error && error.message ? `: ${error.message.slice(0, 200)}` : ''}`
    trace?.({ step: 'principal', outcome: 'fail', detail: `principal hook ${why}` })
    return failure('auth_unavailable', `the principal hook ${why}; the user could not be looked up, so the request is refused rather than guessed`)
  }
  const subject = input.claims?.sub ?? input.session?.userId
  if (result === null) {
    const who = typeof subject === 'string' ? show(subject) : 'the subject'
    trace?.({ step: 'principal', outcome: 'fail', detail: `principal hook returned null for ${who}` })
    return failure('principal_rejected', `the principal hook returned null for ${who}: the credentials are valid but the user is unknown (deleted, or never created in this service's database)`)
  }
  const principal = normalise(result)
  if (typeof principal === 'string') {
    trace?.({ step: 'principal', outcome: 'fail', detail: `principal hook ${principal}` })
    return failure('auth_unavailable', `the principal hook ${principal}`)
  }
  trace?.({ step: 'principal', outcome: 'pass', detail: `principal '${principal.id}' with roles [${principal.roles.join(', ')}] and scopes [${principal.scopes.join(', ')}]` })
  return { ok: true, principal }
}

