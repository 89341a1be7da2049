import type { IncomingMessage, ServerResponse } from 'node:http'
import { type Auth, fromNodeRequest, requireSessions, type SessionInput, type SessionManager, type SessionRecord } from '@gatehouse/core'

/** What {@link login} stores in the new session. */
export type LoginInput = SessionInput

const sessionsOf = (auth: Auth, helper: string): SessionManager => requireSessions(auth, helper, '@gatehouse/express')

function urlOf(req: IncomingMessage): string {
  return (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/'
}

/**
 * Starts a session for a user who has just proved who they are, and appends its `Set-Cookie` to
 * the response (other cookies are kept). The session id is new and random, never taken from the
 * request, so a planted cookie cannot be fixed onto the user.
 *
 * @returns the new session.
 * @throws GatehouseConfigError when the engine has no `session` option.
 *
 * @example
 * ```ts
 * app.post('/login', express.json(), async (req, res) => {
 *   const user = await users.verify(req.body.email, req.body.password)
 *   if (!user) return res.status(401).json({ error: 'bad_credentials' })
 *   await login(res, auth, { userId: user.id, roles: user.roles })
 *   res.status(204).end()
 * })
 * ```
 */
export async function login(res: ServerResponse, auth: Auth, input: LoginInput): Promise<SessionRecord> {
  const { session, setCookie } = await sessionsOf(auth, 'login').create(input)
  res.appendHeader('set-cookie', setCookie)
  return session
}

/**
 * Ends the request's session (every validly signed session cookie it carries) and appends the
 * clearing `Set-Cookie`. A request without a session is not an error: the cookie is cleared anyway.
 *
 * @throws GatehouseConfigError when the engine has no `session` option.
 */
export async function logout(req: IncomingMessage, res: ServerResponse, auth: Auth): Promise<void> {
  const clearing = await sessionsOf(auth, 'logout').destroy(fromNodeRequest(req, urlOf(req)))
  res.appendHeader('set-cookie', clearing)
}

/**
 * Replaces the request's session with one under a new id, e.g. after the user's roles changed or
 * they re-authenticated: the old id stops working at once. Appends the new `Set-Cookie`.
 * `roles`/`data` replace the old ones when given; the absolute lifetime is never extended.
 *
 * @throws GatehouseConfigError when the engine has no `session` option.
 * @throws Error when the request carries no valid session.
 */
export async function regenerateSession(req: IncomingMessage, res: ServerResponse, auth: Auth, changes?: { roles?: string[]; data?: Record<string, unknown> }): Promise<SessionRecord> {
  const { session, setCookie } = await sessionsOf(auth, 'regenerateSession').regenerate(fromNodeRequest(req, urlOf(req)), changes)
  res.appendHeader('set-cookie', setCookie)
  return session
}
