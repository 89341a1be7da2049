import { failure } from './deny-codes.js'
import type { AuthRequest, Principal } from './decision.js'
import { checkRequirements, type RequirementFailure } from './requirements.js'
import type { CompiledRule } from './rules.js'
import { HookTimeout, isThenable, withTimeout } from './hook-timeout.js'
import type { TraceSink } from './trace.js'

/** The outcome of {@link authorize}. */
export type Authorization = { ok: true } | RequirementFailure

const MET: Authorization = Object.freeze({ ok: true })

/**
 * Applies a rule's requirements to an authenticated principal: roles and scopes through
 * {@link checkRequirements}, then `check`, which runs last and fails closed. Synchronous unless
 * the rule has a `check`.
 */
export function authorize(rule: CompiledRule | undefined, principal: Principal, req: AuthRequest, timeoutMs: number, trace?: TraceSink): Authorization | Promise<Authorization> {
  if (rule === undefined) return MET
  const where = `rule ${rule.index} (${rule.match.join(', ')})`
  const met = checkRequirements(principal, rule, where)
  if (!met.ok) {
    trace?.({ step: 'authorization', outcome: 'fail', detail: met.hint })
    return met
  }
  if (rule.check === undefined) {
    trace?.({ step: 'authorization', outcome: 'pass', detail: `${where} requirements met` })
    return MET
  }
  return runCheck(rule.check, principal, req, where, timeoutMs, trace)
}

async function runCheck(check: NonNullable<CompiledRule['check']>, principal: Principal, req: AuthRequest, where: string, timeoutMs: number, trace?: TraceSink): Promise<Authorization> {
  let allowed: boolean
  try {
    const answer = check(principal, req)
    allowed = (isThenable(answer) ? await withTimeout(answer, timeoutMs) : answer) === true
  } catch (error) {
    const why = error instanceof HookTimeout ? error.message : `threw ${error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : typeof error}`
    trace?.({ step: 'authorization', outcome: 'fail', detail: `${where} check ${why}` })
    return failure('auth_unavailable', `${where} check ${why}; refusing rather than guessing`)
  }
  if (!allowed) {
    trace?.({ step: 'authorization', outcome: 'fail', detail: `${where} check returned false` })
    return failure('forbidden', `${where} check returned something other than true for principal '${principal.id}'`)
  }
  trace?.({ step: 'authorization', outcome: 'pass', detail: `${where} requirements met` })
  return MET
}
