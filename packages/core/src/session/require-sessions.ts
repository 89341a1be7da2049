import { GatehouseConfigError } from '../config-error.js'
import type { SessionManager } from './session-manager.js'

/**
 * The engine's session manager, for helpers that only make sense with sessions (login, logout).
 * Throws {@link GatehouseConfigError} naming the helper when `session` is not configured.
 */
export function requireSessions(auth: { readonly sessions?: SessionManager | undefined }, helper: string, scope = 'gatehouse'): SessionManager {
  const sessions = auth.sessions
  if (sessions === undefined) {
    throw new GatehouseConfigError([{ path: 'session', message: `${helper}() needs server-side sessions: create the engine with createAuth({ session: { secret } })` }], scope)
  }
  return sessions
}
