import { type Failure, failure } from './deny-codes.js'
import type { AuthRequest, Principal } from './decision.js'
import type { CompiledRule } from './rules.js'
import type { TraceSink } from './trace.js'

const list = (xs: readonly string[]): string => `[${xs.map((x) => `'${x}'`).join(', ')}]`

/**
 * Applies a rule's requirements to an authenticated principal. `roles` are alternatives (any one
 * suffices); `scopes` are all required, as OAuth scopes are; `check` runs last and fails closed.
 */
export async function authorize(rule: CompiledRule | undefined, principal: Principal, req: AuthRequest, trace?: TraceSink): Promise<{ ok: true } | (Failure & { scope?: string[] })> {
  if (rule === undefined) return { ok: true }
  const where = `rule ${rule.index} (${rule.match.join(', ')})`
  if (rule.roles.length && !rule.roles.some((r) => principal.roles.includes(r))) {
    trace?.({ step: 'authorization', outcome: 'fail', detail: `${where} needs one of roles ${list(rule.roles)}` })
    return failure('insufficient_role', `${where} needs one of roles ${list(rule.roles)}; principal '${principal.id}' has ${list(principal.roles)}`)
  }
  if (rule.scopes.length) {
    const missing = rule.scopes.filter((s) => !principal.scopes.includes(s))
    if (missing.length) {
      trace?.({ step: 'authorization', outcome: 'fail', detail: `${where} needs scopes ${list(rule.scopes)}` })
      return { ...failure('insufficient_scope', `${where} needs scopes ${list(rule.scopes)}; the token lacks ${list(missing)} (it has ${list(principal.scopes)})`), scope: rule.scopes }
    }
  }
  if (rule.check) {
    let allowed: boolean
    try {
      allowed = (await rule.check(principal, req)) === true
    } catch (error) {
      const why = error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : typeof error
      trace?.({ step: 'authorization', outcome: 'fail', detail: `${where} check threw ${why}` })
      return failure('auth_unavailable', `${where} check threw ${why}; refusing rather than guessing`)
    }
    if (!allowed) {
      trace?.({ step: 'authorization', outcome: 'fail', detail: `${where} check returned false` })
      return failure('forbidden', `${where} check returned false for principal '${principal.id}'`)
    }
  }
  trace?.({ step: 'authorization', outcome: 'pass', detail: `${where} requirements met` })
  return { ok: true }
}
