import type { FastifyPluginCallback, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { type Allow, type Auth, type AuthOptions, type ConfigProblem, createAuth, type Decision, type Deny, fromNodeRequest, GatehouseConfigError } from '@gatehouse/core'
import { GatehouseError } from '@gatehouse/core'
import { compileRequirement, type GatehouseRouteConfig, judge, type Requirement, routeConfigProblem } from './requirements.js'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The decision that let this request in: `via`, `principal`, `claims`, `session`. `null` when
     * gatehouse did not judge the request (a route with `config: { gatehouse: 'public' }`, or a
     * route outside the scope the plugin is registered in).
     */
    auth: Allow | null
  }
  interface FastifyContextConfig {
    /** `'public'` skips gatehouse for this route; `{ roles, scopes }` adds requirements after authentication. */
    gatehouse?: GatehouseRouteConfig
  }
  interface FastifyInstance {
    /** The auth engine of `@gatehouse/fastify` in this scope: sessions, `explain`, `keys`. */
    gatehouse: Auth
  }
}

/** Options of the {@link gatehouse} plugin: an engine, or the options to create one. */
export type GatehousePluginOptions = ({ auth: Auth; options?: never } | { options: AuthOptions; auth?: never }) & {
  /**
   * What to do with a deny. `'reply'` (default) answers at once with core's status, headers and
   * JSON body (`onSend` hooks still run). `'error'` hands a {@link GatehouseError} to Fastify's
   * error handler.
   */
  onDeny?: 'reply' | 'error'
}

const NAME = '@gatehouse/fastify'
const KEYS = new Set(['auth', 'options', 'onDeny'])
// Register options Fastify itself reads; `prefix` is refused below because it would do nothing.
const FASTIFY_KEYS = new Set(['logLevel', 'logSerializers'])

interface Settings {
  auth: Auth
  owned: boolean
  errorOnDeny: boolean
}

function parse(opts: unknown): Settings {
  const problems: ConfigProblem[] = []
  const o = (typeof opts === 'object' && opts !== null ? opts : {}) as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (key === 'prefix') {
      problems.push({ path: 'prefix', message: `has no effect: ${NAME} applies to the scope it is registered in. To protect only /api, register it inside a scope: app.register(async (api) => { await api.register(gatehouse, { auth }); /* routes */ }, { prefix: '/api' })` })
    } else if (!KEYS.has(key) && !FASTIFY_KEYS.has(key)) {
      problems.push({ path: key, message: 'unknown option; the plugin accepts auth, options and onDeny' })
    }
  }
  const auth = o.auth as Auth | undefined
  const hasAuth = auth !== undefined
  const hasOptions = o.options !== undefined
  if (hasAuth === hasOptions) {
    problems.push({ path: '', message: hasAuth ? 'give either auth (an engine from createAuth) or options (to create one), not both' : 'needs auth (an engine from createAuth) or options (to create one): app.register(gatehouse, { auth })' })
  } else if (hasAuth && (typeof auth !== 'object' || auth === null || typeof auth.decide !== 'function' || typeof auth.respond !== 'function')) {
    problems.push({ path: 'auth', message: 'must be the engine returned by createAuth()' })
  }
  const onDeny = o.onDeny
  if (onDeny !== undefined && onDeny !== 'reply' && onDeny !== 'error') {
    problems.push({ path: 'onDeny', message: `must be 'reply' or 'error' (got ${JSON.stringify(onDeny)?.slice(0, 40) ?? typeof onDeny})` })
  }
  if (problems.length) throw new GatehouseConfigError(problems, NAME)
  return { auth: auth ?? createAuth(o.options as AuthOptions), owned: !hasAuth, errorOnDeny: onDeny === 'error' }
}

/** What names a route in messages and hints. */
type Route = Pick<RouteOptions, 'method' | 'url'>

function routeName(route: Route): string {
  return `${Array.isArray(route.method) ? route.method.join(',') : route.method} ${route.url}`
}

// A route's requirement objects, validated once (at `onRoute` when the route is registered after
// the plugin, else on its first request).
const requirements = new WeakMap<object, Requirement>()

/** The compiled requirement of a route's `config.gatehouse` (anything but `'public'`). */
function requirementFor(config: unknown, route: Route): Requirement {
  if (typeof config === 'object' && config !== null) {
    const cached = requirements.get(config)
    if (cached !== undefined) return cached
  }
  const problem = routeConfigProblem(config)
  if (problem !== undefined) throw new GatehouseConfigError([{ path: 'config.gatehouse', message: problem }], `${NAME} route ${routeName(route)}`)
  const requirement = compileRequirement(config as object, routeName(route))
  requirements.set(config as object, requirement)
  return requirement
}

function isWebsocketToken(value: string): boolean {
  return value.length === 9 ? value.toLowerCase() === 'websocket' : value.trim().toLowerCase() === 'websocket'
}

/**
 * Whether the request is a WebSocket handshake that will take the socket over if allowed: it came
 * through the server's `upgrade` event (Node sets `upgrade` only then; `@fastify/websocket`
 * routes it through Fastify) or `@fastify/websocket` marked it (`request.ws`, also for `injectWS`).
 * A plain HTTP request that merely carries an `Upgrade` header is judged as HTTP.
 */
function isUpgrade(request: FastifyRequest): boolean {
  const header = request.raw.headers.upgrade
  if (header === undefined || !isWebsocketToken(header)) return false
  return (request.raw as { upgrade?: boolean }).upgrade === true || (request as { ws?: unknown }).ws === true
}

const plugin: FastifyPluginCallback<GatehousePluginOptions> = (app, opts, done) => {
  let settings: Settings
  try {
    if (app.hasRequestDecorator('auth') || app.hasDecorator('gatehouse')) {
      throw new GatehouseConfigError([{ path: '', message: `request.auth is already decorated in this scope or an enclosing one: register ${NAME} once per scope tree (to protect only some routes, register it inside an encapsulated scope; to relax one route, use config: { gatehouse: 'public' })` }], NAME)
    }
    settings = parse(opts)
  } catch (error) {
    done(error as Error)
    return
  }
  const { auth, errorOnDeny } = settings

  app.decorateRequest('auth', null)
  app.decorate('gatehouse', auth)
  if (settings.owned) app.addHook('onClose', () => auth.close())

  // Validate route configs at start-up where Fastify lets us see them (routes registered after
  // the plugin); the rest are validated on their first request.
  app.addHook('onRoute', (route) => {
    const config = route.config?.gatehouse as unknown
    if (config !== undefined && config !== 'public') requirementFor(config, route)
  })

  function refuse(decision: Deny, upgrade: boolean, request: FastifyRequest, reply: FastifyReply, next: HookHandlerDoneFunction): void {
    // A refused handshake owns a raw socket that no HTTP server will close: @fastify/websocket
    // closes it only once its own onRequest hook has run, which a hook registered before it
    // pre-empts. Close it once the answer is out, so refused handshakes cannot pile up.
    if (upgrade) {
      const socket = request.raw.socket
      reply.header('connection', 'close')
      reply.raw.once('finish', () => socket.end())
    }
    if (errorOnDeny) {
      next(new GatehouseError(decision, auth.exposeHints))
      return
    }
    const response = auth.respond(decision)
    reply.code(response.status).headers(response.headers).send(response.body)
  }

  function settle(decision: Decision, upgrade: boolean, requirement: Requirement | undefined, route: Route, request: FastifyRequest, reply: FastifyReply, next: HookHandlerDoneFunction): void {
    let denied: Deny | undefined
    try {
      if (decision.ok) {
        request.auth = decision
        const headers = decision.headers
        for (const name in headers) reply.header(name, headers[name] as string)
        if (requirement !== undefined) denied = judge(requirement, decision, auth.realm, routeName(route))
      } else {
        denied = decision
      }
      if (denied !== undefined) refuse(denied, upgrade, request, reply, next)
    } catch (error) {
      next(error as Error)
      return
    }
    if (denied === undefined) next()
  }

  app.addHook('onRequest', function gatehouseOnRequest(request: FastifyRequest, reply: FastifyReply, next: HookHandlerDoneFunction): void {
    let requirement: Requirement | undefined
    let route: Route
    let upgrade = false
    let pending: Decision | Promise<Decision>
    try {
      const options = request.routeOptions
      route = options as Route
      const config = options.config.gatehouse as unknown
      if (config === 'public') {
        next()
        return
      }
      if (config !== undefined) requirement = requirementFor(config, route)
      const raw = request.raw
      const req = fromNodeRequest(raw, raw.url)
      upgrade = isUpgrade(request)
      pending = auth.decide(req, { upgrade })
    } catch (error) {
      next(error as Error)
      return
    }
    // Synchronous when nothing had to wait, which spares the request a microtask.
    if (pending instanceof Promise) pending.then((decision) => settle(decision, upgrade, requirement, route, request, reply, next), next)
    else settle(pending, upgrade, requirement, route, request, reply, next)
  })

  done()
}

/**
 * The Fastify 5 plugin: judges every request of the scope it is registered in with gatehouse
 * (an `onRequest` hook) and sets `request.auth`.
 *
 * Wrapped with `fastify-plugin`, so it applies to the scope you register it in and every scope
 * inside it; register it inside an encapsulated scope to protect only that scope's routes.
 * WebSocket handshakes of `@fastify/websocket` go through `auth.checkUpgrade` (origin policy
 * first) and a deny is answered with its HTTP status before the upgrade. Per-route
 * `config: { gatehouse: 'public' }` skips the check for that route; `config: { gatehouse: { roles,
 * scopes } }` adds requirements after authentication (roles: any of, scopes: all of).
 *
 * @example
 * ```ts
 * const auth = createAuth({ jwt: { secret }, public: ['/health'] })
 * await app.register(gatehouse, { auth })
 * app.get('/admin', { config: { gatehouse: { roles: ['admin'] } } }, (request) => request.auth?.principal)
 * ```
 */
export const gatehouse = fp(plugin, { fastify: '5.x', name: NAME })
