import type { FastifyReply, FastifyRequest } from 'fastify'
import { type Auth, fromNodeRequest, requireSessions, type SessionInput, type SessionManager, type SessionRecord } from '@gatehouse/core'

/** What {@link login} stores in the new session. */
export type LoginInput = SessionInput

const sessionsOf = (auth: Auth, helper: string): SessionManager => requireSessions(auth, helper, '@gatehouse/fastify')

/**
 * Starts a session for a user who has just proved who they are and adds its `Set-Cookie` to the
 * reply (other cookies are kept). The session id is new and random, never taken from the request.
 *
 * @returns the new session.
 * @throws GatehouseConfigError when the engine has no `session` option.
 *
 * @example
 * ```ts
 * app.post('/login', { config: { gatehouse: 'public' } }, async (request, reply) => {
 *   const user = await users.verify(request.body)
 *   if (!user) return reply.code(401).send({ error: 'bad_credentials' })
 *   await login(reply, app.gatehouse, { userId: user.id, roles: user.roles })
 *   return reply.code(204).send()
 * })
 * ```
 */
export async function login(reply: FastifyReply, auth: Auth, input: LoginInput): Promise<SessionRecord> {
  const { session, setCookie } = await sessionsOf(auth, 'login').create(input)
  reply.header('set-cookie', setCookie)
  return session
}

/**
 * Ends the request's session (every validly signed session cookie it carries) and adds the
 * clearing `Set-Cookie`. A request without a session is not an error.
 *
 * @throws GatehouseConfigError when the engine has no `session` option.
 */
export async function logout(request: FastifyRequest, reply: FastifyReply, auth: Auth): Promise<void> {
  const clearing = await sessionsOf(auth, 'logout').destroy(fromNodeRequest(request.raw, request.raw.url))
  reply.header('set-cookie', clearing)
}

/**
 * Replaces the request's session with one under a new id (after a privilege change): the old id
 * stops working at once. Adds the new `Set-Cookie`. `roles`/`data` replace the old ones when given.
 *
 * @throws GatehouseConfigError when the engine has no `session` option.
 * @throws Error when the request carries no valid session.
 */
export async function regenerateSession(request: FastifyRequest, reply: FastifyReply, auth: Auth, changes?: { roles?: string[]; data?: Record<string, unknown> }): Promise<SessionRecord> {
  const { session, setCookie } = await sessionsOf(auth, 'regenerateSession').regenerate(fromNodeRequest(request.raw, request.raw.url), changes)
  reply.header('set-cookie', setCookie)
  return session
}
