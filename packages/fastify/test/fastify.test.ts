import websocket from '@fastify/websocket'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Auth, createAuth, DENY_MESSAGES, GatehouseConfigError, PROTOCOL_BEARER_PREFIX } from '@gatehouse/core'
import { gatehouse, GatehouseError, type GatehousePluginOptions, handleProtocols, login, logout, regenerateSession } from '@gatehouse/fastify'
import { cookiePair, handshake, listen, rawHandshake, rawRequest, type Running } from './helpers.js'
import { adminToken, APP_ORIGIN, bearer, denyCases, expectedChallenge, expirableStore, issuer, makeAuth, OLD_SESSION_SECRET, REALM, userToken } from '../../../test/support/http-policy.js'

const COOKIE = 'gatehouse.sid'
// The spellings a permissive router sends to the same handler: that is where protective rules must hold.
const PERMISSIVE: FastifyServerOptions = { routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true } }

type Options = Omit<GatehousePluginOptions, 'auth' | 'options'>

/** The test app: which handlers ran is recorded in `hits`, so a test can prove one never ran. */
async function buildApp(auth: Auth, options: Options = {}, server: FastifyServerOptions = PERMISSIVE): Promise<{ app: FastifyInstance; hits: string[] }> {
  const app = Fastify(server)
  const hits: string[] = []
  await app.register(websocket, { options: { handleProtocols } })
  await app.register(gatehouse, { auth, ...options })
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-on-send', 'ran')
  })
  app.get('/health', async (request) => ({ ok: true, via: request.auth?.via ?? null }))
  app.get('/public/*', async (request) => {
    hits.push(`public:${request.url}`)
    return { public: true }
  })
  app.get('/api/me', async (request) => {
    hits.push('me')
    return { id: request.auth?.principal?.id, via: request.auth?.via, roles: request.auth?.principal?.roles }
  })
  app.get('/api/admin', async (request) => {
    hits.push('api-admin')
    return { admin: true, id: request.auth?.principal?.id }
  })
  app.get('/admin', async () => {
    hits.push('admin')
    return { admin: true }
  })
  app.get('/api/reports', async () => {
    hits.push('reports')
    return { reports: [] }
  })
  app.get('/api/owner-only', async () => ({ owner: true }))
  app.get('/api/prefs', async (_request, reply) => {
    reply.header('set-cookie', 'theme=light; Path=/')
    return { saved: true }
  })
  app.post('/api/things', async (request, reply) => {
    hits.push('things')
    return reply.code(201).send({ created: true, by: request.auth?.principal?.id })
  })
  app.get('/route/editor', { config: { gatehouse: { roles: ['editor', 'admin'] } } }, async () => {
    hits.push('editor')
    return { editor: true }
  })
  app.get('/route/scopes', { config: { gatehouse: { scopes: ['a', 'b'] } } }, async () => {
    hits.push('scopes')
    return { scopes: true }
  })
  app.get('/route/open', { config: { gatehouse: 'public' } }, async (request) => {
    hits.push('open')
    return { auth: request.auth }
  })
  app.get('/public/guarded', { config: { gatehouse: { roles: ['admin'] } } }, async () => {
    hits.push('public-guarded')
    return { reached: true }
  })
  app.post('/login', async (request, reply) => {
    reply.header('set-cookie', 'theme=dark; Path=/')
    const query = request.query as { user?: string; role?: string }
    const session = await login(reply, app.gatehouse, { userId: query.user ?? 'alice', roles: [query.role ?? 'user'] })
    return { userId: session.userId }
  })
  app.post('/logout', async (request, reply) => {
    await logout(request, reply, app.gatehouse)
    return reply.code(204).send()
  })
  app.post('/promote', async (request, reply) => {
    const session = await regenerateSession(request, reply, app.gatehouse, { roles: ['admin'] })
    return { roles: session.roles }
  })
  app.get('/ws', { websocket: true }, (socket, request) => {
    hits.push('ws')
    socket.send(JSON.stringify({ id: request.auth?.principal?.id ?? null, via: request.auth?.via ?? null }))
  })
  app.get('/ws/admin', { websocket: true, config: { gatehouse: { roles: ['admin'] } } }, (socket, request) => {
    hits.push('ws-admin')
    socket.send(JSON.stringify({ id: request.auth?.principal?.id ?? null }))
  })
  return { app, hits }
}

async function json(res: Response): Promise<unknown> {
  return JSON.parse(await res.text())
}

async function loginAs(server: Running, user = 'alice', role = 'user'): Promise<string> {
  const res = await fetch(`${server.url}/login?user=${user}&role=${role}`, { method: 'POST' })
  expect(res.status).toBe(200)
  const pair = cookiePair(res.headers.getSetCookie(), COOKIE)
  expect(pair).toBeDefined()
  return pair as string
}

describe('@gatehouse/fastify against a real server', () => {
  const store = expirableStore()
  const auth = makeAuth(store)
  let server: Running
  let hits: string[]
  beforeAll(async () => {
    const built = await buildApp(auth)
    hits = built.hits
    server = await listen(built.app)
  })
  afterAll(async () => {
    await server.close()
    await auth.close()
  })
  afterEach(() => {
    hits.length = 0
  })

  it('serves public routes without credentials and marks them via public', async () => {
    const res = await fetch(`${server.url}/health`)
    expect(res.status).toBe(200)
    expect(await json(res)).toEqual({ ok: true, via: 'public' })
    expect((await fetch(`${server.url}/public/docs/intro`)).status).toBe(200)
  })

  it('lets a valid bearer token through and sets request.auth', async () => {
    const res = await fetch(`${server.url}/api/me`, { headers: bearer(userToken()) })
    expect(res.status).toBe(200)
    expect(await json(res)).toEqual({ id: 'user-1', via: 'bearer', roles: ['user'] })
  })

  it('lets an admin through the admin-only route and keeps users out', async () => {
    expect((await fetch(`${server.url}/api/admin`, { headers: bearer(adminToken()) })).status).toBe(200)
    expect((await fetch(`${server.url}/api/admin`, { headers: bearer(userToken()) })).status).toBe(403)
    expect(hits).toEqual(['api-admin'])
  })

  it('requires every scope of a scope rule', async () => {
    expect((await fetch(`${server.url}/api/reports`, { headers: bearer(userToken({ scope: 'reports:read' })) })).status).toBe(200)
    const no = await fetch(`${server.url}/api/reports`, { headers: bearer(userToken()) })
    expect(no.status).toBe(403)
    expect(no.headers.get('www-authenticate')).toBe(`Bearer realm="${REALM}", error="insufficient_scope", scope="reports:read"`)
  })

  it('judges requests that match no route: 401 without credentials, 404 with them', async () => {
    expect((await fetch(`${server.url}/nowhere`)).status).toBe(401)
    expect((await fetch(`${server.url}/nowhere`, { headers: bearer(userToken()) })).status).toBe(404)
  })

  describe('every deny code an HTTP request can produce', () => {
    let live = ''
    let expired = ''
    let dead = ''
    beforeAll(async () => {
      live = await loginAs(server, 'carol')
      expired = await loginAs(server, 'erin')
      store.expiredUsers.add('erin')
      dead = await loginAs(server, 'dave')
      expect((await fetch(`${server.url}/logout`, { method: 'POST', headers: { cookie: dead, origin: APP_ORIGIN } })).status).toBe(204)
    })
    const cases = denyCases({ live: () => live, expired: () => expired, dead: () => dead })

    it('covers the whole catalogue except the upgrade-only origin_rejected', () => {
      expect(new Set(cases.map((c) => c.code)).size).toBe(19)
    })

    it.each(cases)('$code → $status with body, headers and WWW-Authenticate', async (c) => {
      const res = await fetch(`${server.url}${c.path}`, { method: c.method, headers: c.headers() })
      expect(res.status).toBe(c.status)
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(await json(res)).toEqual({ error: c.code, message: DENY_MESSAGES[c.code] })
      expect(res.headers.get('www-authenticate')).toBe(expectedChallenge(c.code, c.presented, c.scope))
      // Deny replies go through Fastify's reply pipeline: onSend hooks still run.
      expect(res.headers.get('x-on-send')).toBe('ran')
      expect(hits).toEqual([])
    })
  })

  describe('case, trailing-slash and duplicate-slash variants that this router sends to the same handler', () => {
    const variants = ['/API/Admin/', '/api/admin/', '/Api/ADMIN', '//api/admin', '/api//admin/']

    it.each(variants)('%s reaches the /api/admin handler for an admin', async (path) => {
      const res = await rawRequest(server.port, 'GET', path, bearer(adminToken()))
      expect(res.status).toBe(200)
      expect(hits).toEqual(['api-admin'])
    })

    it.each(variants)('%s is still refused to a plain user (403 insufficient_role)', async (path) => {
      const res = await rawRequest(server.port, 'GET', path, bearer(userToken()))
      expect(res.status).toBe(403)
      expect(JSON.parse(res.body)).toMatchObject({ error: 'insufficient_role' })
      expect(hits).toEqual([])
    })

    it('does not stretch public rules: /HEALTH reaches the handler only with credentials', async () => {
      expect((await fetch(`${server.url}/HEALTH`)).status).toBe(401)
      const authed = await fetch(`${server.url}/HEALTH`, { headers: bearer(userToken()) })
      expect(await json(authed)).toEqual({ ok: true, via: 'bearer' })
    })
  })

  describe('hostile request-targets sent raw over a socket', () => {
    const hostile = ['/public/../admin', '/public/%2e%2e/admin', '/public/%2E%2E/admin', '//admin', '/admin;x', '/public%2F..%2Fadmin', '/public/..%2Fadmin', '/public/.%2e/admin', '/./admin', '/public/../api/admin']

    it.each(hostile)('%s without credentials is refused with 401 before any handler runs', async (target) => {
      const res = await rawRequest(server.port, 'GET', target)
      expect(res.status).toBe(401)
      expect(JSON.parse(res.body)).toEqual({ error: 'credentials_missing', message: DENY_MESSAGES.credentials_missing })
      expect(hits).toEqual([])
    })

    it.each(hostile)('%s never reaches an admin handler with a user token', async (target) => {
      const res = await rawRequest(server.port, 'GET', target, bearer(userToken()))
      expect(hits.filter((h) => h.includes('admin'))).toEqual([])
      expect([403, 404]).toContain(res.status)
    })

    it('property: no generated traversal spelling reaches a handler without credentials', async () => {
      const segment = fc.constantFrom('..', '.', '%2e%2e', '%2E.', '.%2e', '', 'admin', 'api', 'public', 'admin;x', '%2F', '%5C', 'x%00')
      const target = fc.array(segment, { minLength: 1, maxLength: 5 }).map((segs) => `/public/${segs.join('/')}`)
      await fc.assert(
        fc.asyncProperty(target, async (t) => {
          hits.length = 0
          const res = await rawRequest(server.port, 'GET', t)
          const canonical = !/(^|\/)(\.|\.\.|%2e%2e|%2E\.|\.%2e)(\/|$)|\/\/|;|%2F|%5C|%00/i.test(t)
          if (!canonical) {
            expect(res.status).toBe(401)
            expect(hits).toEqual([])
          }
        }),
        { numRuns: 150 },
      )
    })
  })

  it('refuses two Authorization headers, which Node alone would fold into the first', async () => {
    const res = await rawRequest(server.port, 'GET', '/api/me', { Authorization: `Bearer ${userToken()}`, authorization: 'Bearer forged' })
    expect(res.status).toBe(401)
    expect(JSON.parse(res.body)).toEqual({ error: 'credentials_malformed', message: DENY_MESSAGES.credentials_malformed })
    expect(hits).toEqual([])
  })

  describe('per-route config', () => {
    it('{ roles }: any one of the roles suffices, after authentication', async () => {
      expect((await fetch(`${server.url}/route/editor`, { headers: bearer(userToken({ roles: ['editor'] })) })).status).toBe(200)
      expect((await fetch(`${server.url}/route/editor`, { headers: bearer(adminToken()) })).status).toBe(200)
      const no = await fetch(`${server.url}/route/editor`, { headers: bearer(userToken({ roles: ['viewer'] })) })
      expect(no.status).toBe(403)
      expect(await json(no)).toEqual({ error: 'insufficient_role', message: DENY_MESSAGES.insufficient_role })
      expect(no.headers.get('www-authenticate')).toBeNull()
      const anon = await fetch(`${server.url}/route/editor`)
      expect(anon.status).toBe(401)
      expect(hits).toEqual(['editor', 'editor'])
    })

    it('{ scopes }: every scope is needed, and the challenge names them', async () => {
      expect((await fetch(`${server.url}/route/scopes`, { headers: bearer(userToken({ scope: 'b a' })) })).status).toBe(200)
      const no = await fetch(`${server.url}/route/scopes`, { headers: bearer(userToken({ scope: 'a' })) })
      expect(no.status).toBe(403)
      expect(await json(no)).toEqual({ error: 'insufficient_scope', message: DENY_MESSAGES.insufficient_scope })
      expect(no.headers.get('www-authenticate')).toBe(`Bearer realm="${REALM}", error="insufficient_scope", scope="a b"`)
    })

    it("'public' skips the check: no credentials needed, request.auth stays null", async () => {
      const res = await fetch(`${server.url}/route/open`)
      expect(res.status).toBe(200)
      expect(await json(res)).toEqual({ auth: null })
      // Even a broken credential is not looked at on such a route.
      expect((await fetch(`${server.url}/route/open`, { headers: { authorization: 'Bearer nope' } })).status).toBe(200)
    })

    it('applies route requirements to the spellings the router folds onto the route', async () => {
      const res = await rawRequest(server.port, 'GET', '/ROUTE//Editor/', bearer(userToken({ roles: ['viewer'] })))
      expect(res.status).toBe(403)
      expect(hits).toEqual([])
    })

    it('answers 401 on a route with requirements that a public rule let in without credentials', async () => {
      const res = await fetch(`${server.url}/public/guarded`)
      expect(res.status).toBe(401)
      expect(await json(res)).toEqual({ error: 'credentials_missing', message: DENY_MESSAGES.credentials_missing })
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${REALM}"`)
      expect(hits).toEqual([])
    })

    it('judges session principals too', async () => {
      const cookie = await loginAs(server, 'sam', 'editor')
      expect((await fetch(`${server.url}/route/editor`, { headers: { cookie } })).status).toBe(200)
      expect((await fetch(`${server.url}/route/scopes`, { headers: { cookie } })).status).toBe(403)
    })
  })

  describe('sessions: login → request → logout → request', () => {
    it('logs in, uses the session, logs out and is refused afterwards', async () => {
      const res = await fetch(`${server.url}/login?user=alice`, { method: 'POST' })
      const setCookie = res.headers.getSetCookie()
      expect(setCookie.some((c) => c.startsWith('theme=dark'))).toBe(true)
      const cookie = cookiePair(setCookie, COOKIE) as string
      expect(setCookie.find((c) => c.startsWith(`${COOKIE}=`))).toMatch(/HttpOnly/i)

      const me = await fetch(`${server.url}/api/me`, { headers: { cookie } })
      expect(await json(me)).toEqual({ id: 'alice', via: 'session', roles: ['user'] })

      const out = await fetch(`${server.url}/logout`, { method: 'POST', headers: { cookie, origin: APP_ORIGIN } })
      expect(out.status).toBe(204)
      expect(out.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`))).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i)

      const after = await fetch(`${server.url}/api/me`, { headers: { cookie } })
      expect(after.status).toBe(401)
      expect(await json(after)).toEqual({ error: 'session_invalid', message: DENY_MESSAGES.session_invalid })
    })

    it('regenerateSession rotates the id: the old cookie dies, the new one carries the new roles', async () => {
      const old = await loginAs(server, 'paula')
      const res = await fetch(`${server.url}/promote`, { method: 'POST', headers: { cookie: old, origin: APP_ORIGIN } })
      expect(res.status).toBe(200)
      const fresh = cookiePair(res.headers.getSetCookie(), COOKIE) as string
      expect(fresh).not.toBe(old)
      expect((await fetch(`${server.url}/api/admin`, { headers: { cookie: fresh } })).status).toBe(200)
      expect((await fetch(`${server.url}/api/me`, { headers: { cookie: old } })).status).toBe(401)
    })

    it('forwards a refreshed session cookie without clobbering the cookies the route sets', async () => {
      const previous = createAuth({ jwt: issuer.options, session: { secret: OLD_SESSION_SECRET, store, cookie: { secure: false } } })
      const { setCookie } = await previous.sessions.create({ userId: 'rita', roles: ['user'] })
      const cookie = setCookie.split(';', 1)[0] as string
      const res = await fetch(`${server.url}/api/prefs`, { headers: { cookie } })
      expect(res.status).toBe(200)
      const values = res.headers.getSetCookie()
      expect(values.some((c) => c.startsWith('theme=light'))).toBe(true)
      const resigned = cookiePair(values, COOKIE)
      expect(resigned).toBeDefined()
      expect(resigned).not.toBe(cookie)
      expect((await fetch(`${server.url}/api/me`, { headers: { cookie: resigned as string } })).status).toBe(200)
      await previous.close()
    })
  })

  describe('CSRF on cookie-authenticated requests', () => {
    it('refuses a POST from a foreign Origin and lets the allowed origin through', async () => {
      const cookie = await loginAs(server, 'casey')
      const foreign = await fetch(`${server.url}/api/things`, { method: 'POST', headers: { cookie, origin: 'https://evil.test' } })
      expect(foreign.status).toBe(403)
      expect(await json(foreign)).toEqual({ error: 'csrf_rejected', message: DENY_MESSAGES.csrf_rejected })
      expect(hits).toEqual([])
      const same = await fetch(`${server.url}/api/things`, { method: 'POST', headers: { cookie, origin: APP_ORIGIN } })
      expect(same.status).toBe(201)
      expect(await json(same)).toEqual({ created: true, by: 'casey' })
    })
  })

  describe('@fastify/websocket routes go through checkUpgrade', () => {
    it('opens with a token in the subprotocol and an allowed origin, selecting the marker, never the token', async () => {
      const token = userToken()
      const result = await handshake(`${server.wsUrl}/ws`, { protocols: ['gatehouse', `${PROTOCOL_BEARER_PREFIX}${token}`], origin: APP_ORIGIN })
      expect(result).toEqual({ open: true, protocol: 'gatehouse', message: { id: 'user-1', via: 'bearer' } })
    })

    it('never echoes the token even when the client offers it first', async () => {
      const token = userToken()
      const result = await handshake(`${server.wsUrl}/ws`, { protocols: [`${PROTOCOL_BEARER_PREFIX}${token}`, 'gatehouse'], origin: APP_ORIGIN })
      expect(result.open && result.protocol).toBe('gatehouse')
    })

    it('opens with an Authorization header and with a session cookie', async () => {
      const byHeader = await handshake(`${server.wsUrl}/ws`, { headers: bearer(userToken()), origin: APP_ORIGIN })
      expect(byHeader.open && byHeader.message).toEqual({ id: 'user-1', via: 'bearer' })
      const cookie = await loginAs(server, 'wendy')
      const bySession = await handshake(`${server.wsUrl}/ws`, { headers: { cookie }, origin: APP_ORIGIN })
      expect(bySession.open && bySession.message).toEqual({ id: 'wendy', via: 'session' })
    })

    it('refuses a foreign origin with 403 origin_rejected before the upgrade, even with a valid token', async () => {
      const result = await handshake(`${server.wsUrl}/ws`, { protocols: ['gatehouse', `${PROTOCOL_BEARER_PREFIX}${userToken()}`], origin: 'https://evil.test' })
      expect(result.open).toBe(false)
      if (result.open) return
      expect(result.status).toBe(403)
      expect(JSON.parse(result.body)).toEqual({ error: 'origin_rejected', message: DENY_MESSAGES.origin_rejected })
      expect(hits).toEqual([])
    })

    it('refuses a cross-site handshake riding a session cookie', async () => {
      const cookie = await loginAs(server, 'victim')
      const result = await handshake(`${server.wsUrl}/ws`, { headers: { cookie }, origin: 'https://evil.test' })
      expect(result.open === false && result.status).toBe(403)
      expect(hits).toEqual([])
    })

    it('refuses a bad token with 401 and its code', async () => {
      const expired = issuer.sign({ sub: 'user-1' }, { expiresIn: -600 })
      const result = await handshake(`${server.wsUrl}/ws`, { protocols: ['gatehouse', `${PROTOCOL_BEARER_PREFIX}${expired}`], origin: APP_ORIGIN })
      expect(result.open).toBe(false)
      if (result.open) return
      expect(result.status).toBe(401)
      expect(JSON.parse(result.body)).toEqual({ error: 'token_expired', message: DENY_MESSAGES.token_expired })
      expect(result.headers['www-authenticate']).toBe(`Bearer realm="${REALM}", error="invalid_token"`)
    })

    it('refuses a handshake without credentials with 401', async () => {
      const result = await handshake(`${server.wsUrl}/ws`, { origin: APP_ORIGIN })
      expect(result.open === false && result.status).toBe(401)
    })

    it('applies route requirements to websocket routes', async () => {
      const user = await handshake(`${server.wsUrl}/ws/admin`, { headers: bearer(userToken()), origin: APP_ORIGIN })
      expect(user.open === false && user.status).toBe(403)
      const admin = await handshake(`${server.wsUrl}/ws/admin`, { headers: bearer(adminToken()), origin: APP_ORIGIN })
      expect(admin.open && admin.message).toEqual({ id: 'admin-1' })
      expect(hits).toEqual(['ws-admin'])
    })

    it('does not accept a subprotocol token on plain HTTP requests', async () => {
      const res = await fetch(`${server.url}/api/me`, { headers: { 'sec-websocket-protocol': `gatehouse, ${PROTOCOL_BEARER_PREFIX}${userToken()}` } })
      expect(res.status).toBe(401)
    })
  })

  it('survives a principal hook that throws: 503, then the next request is served', async () => {
    const rejections: unknown[] = []
    const onRejection = (reason: unknown) => rejections.push(reason)
    process.on('unhandledRejection', onRejection)
    try {
      const res = await fetch(`${server.url}/api/me`, { headers: bearer(userToken({ sub: 'boom' })) })
      expect(res.status).toBe(503)
      expect(await json(res)).toEqual({ error: 'auth_unavailable', message: DENY_MESSAGES.auth_unavailable })
      expect((await fetch(`${server.url}/api/me`, { headers: bearer(userToken()) })).status).toBe(200)
      await new Promise((r) => setTimeout(r, 20))
      expect(rejections).toEqual([])
    } finally {
      process.off('unhandledRejection', onRejection)
    }
  })
})

describe('registration order of @fastify/websocket does not matter', () => {
  it('judges handshakes with checkUpgrade when gatehouse is registered first', async () => {
    const auth = makeAuth(expirableStore())
    const app = Fastify()
    await app.register(gatehouse, { auth })
    await app.register(websocket, { options: { handleProtocols } })
    app.get('/ws', { websocket: true }, (socket, request) => {
      socket.send(JSON.stringify({ id: request.auth?.principal?.id }))
    })
    const server = await listen(app)
    try {
      const bad = await handshake(`${server.wsUrl}/ws`, { headers: bearer(userToken()), origin: 'https://evil.test' })
      expect(bad.open === false && bad.status).toBe(403)
      const good = await handshake(`${server.wsUrl}/ws`, { protocols: ['gatehouse', `${PROTOCOL_BEARER_PREFIX}${userToken()}`], origin: APP_ORIGIN })
      expect(good.open && good.message).toEqual({ id: 'user-1' })
    } finally {
      await server.close()
      await auth.close()
    }
  })

  it.each(['gatehouse first', 'websocket first'])('closes the socket of a refused handshake (%s)', async (order) => {
    const auth = makeAuth(expirableStore())
    const app = Fastify()
    if (order === 'websocket first') await app.register(websocket)
    await app.register(gatehouse, { auth })
    if (order === 'gatehouse first') await app.register(websocket)
    app.get('/ws', { websocket: true }, (socket) => socket.send('"hello"'))
    const server = await listen(app)
    try {
      const refused = await rawHandshake(server.port, '/ws', { origin: 'https://evil.test', ...bearer(userToken()) })
      expect(refused.response).toMatch(/^HTTP\/1\.1 403 /)
      expect(refused.closedByServer).toBe(true)
      const unauthenticated = await rawHandshake(server.port, '/ws', { origin: APP_ORIGIN })
      expect(unauthenticated.response).toMatch(/^HTTP\/1\.1 401 /)
      expect(unauthenticated.closedByServer).toBe(true)
    } finally {
      await server.close()
      await auth.close()
    }
  })

  it('judges an HTTP request that merely carries Upgrade headers as HTTP when nothing upgrades it', async () => {
    const auth = makeAuth(expirableStore())
    const app = Fastify()
    await app.register(gatehouse, { auth })
    app.get('/api/me', async (request) => ({ id: request.auth?.principal?.id }))
    const server = await listen(app)
    try {
      // No upgrade listener: Node delivers it as a request. The subprotocol token must not count.
      const res = await rawRequest(server.port, 'GET', '/api/me', {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-protocol': `gatehouse, ${PROTOCOL_BEARER_PREFIX}${userToken()}`,
      })
      expect(res.status).toBe(401)
    } finally {
      await server.close()
      await auth.close()
    }
  })
})

describe('encapsulation', () => {
  it('registered inside a prefixed scope, it judges that scope only', async () => {
    const auth = makeAuth(expirableStore(), { public: ['/api/health'], rules: [{ match: '/api/admin/**', roles: ['admin'] }] })
    const app = Fastify()
    await app.register(
      async (api) => {
        await api.register(gatehouse, { auth })
        api.get('/health', async (request) => ({ via: request.auth?.via }))
        api.get('/admin', async (request) => ({ id: request.auth?.principal?.id }))
        api.get('/me', async (request) => ({ id: request.auth?.principal?.id }))
      },
      { prefix: '/api' },
    )
    app.get('/outside', async (request) => ({ decorated: 'auth' in request, judged: Boolean((request as { auth?: unknown }).auth) }))
    const server = await listen(app)
    try {
      expect(await json(await fetch(`${server.url}/api/health`))).toEqual({ via: 'public' })
      expect((await fetch(`${server.url}/api/me`)).status).toBe(401)
      expect((await fetch(`${server.url}/api/admin`, { headers: bearer(userToken()) })).status).toBe(403)
      expect(await json(await fetch(`${server.url}/api/admin`, { headers: bearer(adminToken()) }))).toEqual({ id: 'admin-1' })
      const outside = await fetch(`${server.url}/outside`)
      expect(outside.status).toBe(200)
      expect(await json(outside)).toEqual({ decorated: false, judged: false })
      // Sibling scopes can carry their own engine.
      expect(server.app.hasDecorator('gatehouse')).toBe(false)
    } finally {
      await server.close()
      await auth.close()
    }
  })

  it('registered at the root, it judges every route, including those of child scopes', async () => {
    const auth = makeAuth(expirableStore())
    const app = Fastify()
    await app.register(gatehouse, { auth })
    await app.register(async (child) => {
      child.get('/child', async () => ({ reached: true }))
    })
    const server = await listen(app)
    try {
      expect((await fetch(`${server.url}/child`)).status).toBe(401)
    } finally {
      await server.close()
      await auth.close()
    }
  })
})

describe("onDeny: 'error' and Fastify's error handler", () => {
  it('hands the deny to a custom error handler as a GatehouseError', async () => {
    const auth = makeAuth(expirableStore())
    const { app, hits } = await buildApp(auth, { onDeny: 'error' })
    const seen: GatehouseError[] = []
    app.setErrorHandler((error, _request, reply) => {
      if (error instanceof GatehouseError) {
        seen.push(error)
        return reply.code(error.statusCode).headers(error.headers).send({ custom: true, ...error.body })
      }
      return reply.send(error)
    })
    const server = await listen(app)
    try {
      const expired = issuer.sign({ sub: 'user-1' }, { expiresIn: -600 })
      const res = await fetch(`${server.url}/api/me`, { headers: bearer(expired) })
      expect(res.status).toBe(401)
      expect(await json(res)).toEqual({ custom: true, error: 'token_expired', message: DENY_MESSAGES.token_expired })
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${REALM}", error="invalid_token"`)
      const err = seen[0] as GatehouseError
      expect(err.name).toBe('GatehouseError')
      expect(err.code).toBe('token_expired')
      expect(err.message).toBe(DENY_MESSAGES.token_expired)
      expect(err.message).not.toContain(expired)
      expect(err.decision.hint).toMatch(/exp/)
      const scoped = await fetch(`${server.url}/route/scopes`, { headers: bearer(userToken({ scope: 'a' })) })
      expect(scoped.status).toBe(403)
      expect(seen[1]?.headers['www-authenticate']).toBe(`Bearer realm="${REALM}", error="insufficient_scope", scope="a b"`)
      expect(hits).toEqual([])
    } finally {
      await server.close()
      await auth.close()
    }
  })

  it("Fastify's default error handler answers with the deny's status, code and WWW-Authenticate", async () => {
    const auth = makeAuth(expirableStore())
    const { app } = await buildApp(auth, { onDeny: 'error' })
    const server = await listen(app)
    try {
      const res = await fetch(`${server.url}/api/me`)
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${REALM}"`)
      expect((await json(res)) as object).toMatchObject({ statusCode: 401, code: 'credentials_missing', message: DENY_MESSAGES.credentials_missing })
    } finally {
      await server.close()
      await auth.close()
    }
  })

  it('sends a rejected check (a bug anywhere) to the error handler, and the server keeps serving', async () => {
    const auth = makeAuth(expirableStore())
    const broken: Auth = { ...auth, decide: () => Promise.reject(new Error('bug in a store driver')) }
    const app = Fastify()
    await app.register(gatehouse, { auth: broken })
    app.get('/x', async () => 'reached')
    app.get('/open', { config: { gatehouse: 'public' } }, async () => 'open')
    const server = await listen(app)
    try {
      const res = await fetch(`${server.url}/x`)
      expect(res.status).toBe(500)
      expect(await res.text()).not.toContain('reached')
      expect((await fetch(`${server.url}/open`)).status).toBe(200)
    } finally {
      await server.close()
      await auth.close()
    }
  })
})

describe('exposeHints', () => {
  it.each([true, false])('exposeHints: %s decides whether the body carries the hint', async (exposeHints) => {
    const auth = makeAuth(expirableStore(), { exposeHints })
    const { app } = await buildApp(auth)
    const server = await listen(app)
    try {
      const token = userToken({ aud: 'another-service' })
      const res = await fetch(`${server.url}/api/me`, { headers: bearer(token) })
      const body = (await json(res)) as Record<string, unknown>
      expect(body.error).toBe('token_audience_mismatch')
      if (exposeHints) {
        expect(body.hint).toMatch(/another-service/)
        expect(body.hint).not.toContain(token.split('.')[2] as string)
      } else {
        expect(body).not.toHaveProperty('hint')
      }
    } finally {
      await server.close()
      await auth.close()
    }
  })
})

describe('plugin registration', () => {
  it('creates the engine from options, decorates app.gatehouse and closes it with the app', async () => {
    const app = Fastify()
    await app.register(gatehouse, { options: { jwt: issuer.options, public: ['/health'] } })
    app.get('/health', async () => 'ok')
    app.get('/me', async (request) => ({ id: request.auth?.principal?.id }))
    const server = await listen(app)
    const engine = app.gatehouse
    let closed = false
    const close = engine.close.bind(engine)
    engine.close = async () => {
      closed = true
      await close()
    }
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
    expect(await json(await fetch(`${server.url}/me`, { headers: bearer(issuer.sign({ sub: 'zed' })) }))).toEqual({ id: 'zed' })
    await server.close()
    expect(closed).toBe(true)
  })

  it('does not close an engine it was given', async () => {
    const auth = makeAuth(expirableStore())
    let closed = false
    const app = Fastify()
    await app.register(gatehouse, {
      auth: {
        ...auth,
        close: async () => {
          closed = true
        },
      },
    })
    await app.ready()
    await app.close()
    expect(closed).toBe(false)
    await auth.close()
  })

  const failures: Array<[string, unknown, RegExp]> = [
    ['neither auth nor options', {}, /needs auth \(an engine from createAuth\) or options/],
    ['both auth and options', { auth: 'AUTH', options: {} }, /either auth .* or options .*, not both/],
    ['a prefix, which would do nothing', { auth: 'AUTH', prefix: '/api' }, /prefix: has no effect/],
    ['an unknown option', { auth: 'AUTH', onDney: 'error' }, /onDney: unknown option/],
    ['a bad onDeny', { auth: 'AUTH', onDeny: 'next' }, /onDeny: must be 'reply' or 'error'/],
    ['something that is not an engine', { auth: { check: 1 } }, /auth: must be the engine returned by createAuth\(\)/],
    ['bad auth options', { options: { jwt: { secret: 'short' } } }, /jwt\.secret/],
  ]

  it.each(failures)('refuses %s with a GatehouseConfigError', async (_name, opts, message) => {
    const auth = makeAuth(expirableStore())
    const app = Fastify()
    const resolved = Object.fromEntries(Object.entries(opts as object).map(([k, v]) => [k, v === 'AUTH' ? auth : v]))
    app.register(gatehouse, resolved as GatehousePluginOptions)
    const error = await app.ready().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(GatehouseConfigError)
    expect((error as Error).message).toMatch(message)
    await app.close().catch(() => undefined)
    await auth.close()
  })

  it('refuses a second registration in the same scope tree', async () => {
    const auth = makeAuth(expirableStore())
    const app = Fastify()
    await app.register(gatehouse, { auth })
    app.register(async (child) => {
      await child.register(gatehouse, { auth })
    })
    await expect(app.ready()).rejects.toThrow(/already decorated in this scope or an enclosing one/)
    await app.close().catch(() => undefined)
    await auth.close()
  })

  it('names the refusing route in the hint, also when routes share one requirement object', async () => {
    const auth = makeAuth(expirableStore(), { exposeHints: true })
    const app = Fastify()
    await app.register(gatehouse, { auth })
    const adminOnly = { roles: ['admin'] }
    app.get('/a', { config: { gatehouse: adminOnly } }, async () => 'a')
    app.get('/b', { config: { gatehouse: adminOnly } }, async () => 'b')
    const server = await listen(app)
    try {
      const res = await fetch(`${server.url}/b`, { headers: bearer(userToken()) })
      expect(res.status).toBe(403)
      const body = (await json(res)) as { hint: string }
      expect(body.hint).toBe("route GET /b needs one of roles ['admin']; principal 'user-1' has ['user']")
    } finally {
      await server.close()
      await auth.close()
    }
  })

  it('refuses an invalid route config when the route is registered', async () => {
    const auth = makeAuth(expirableStore())
    const app = Fastify()
    await app.register(gatehouse, { auth })
    expect(() => app.get('/x', { config: { gatehouse: { roles: 'admin' } as never } }, async () => 'x')).toThrow(/config\.gatehouse\.roles: must be an array of strings/)
    expect(() => app.get('/y', { config: { gatehouse: 'publik' as never } }, async () => 'y')).toThrow(/config\.gatehouse: must be 'public' or \{ roles, scopes \} \(got "publik"\)/)
    expect(() => app.get('/z', { config: { gatehouse: {} } }, async () => 'z')).toThrow(/lists no roles and no scopes/)
    expect(() => app.get('/w', { config: { gatehouse: { role: ['admin'] } as never } }, async () => 'w')).toThrow(/config\.gatehouse\.role: unknown key/)
    await app.close()
    await auth.close()
  })

  it('fails closed on an invalid route config it could only see at request time', async () => {
    const auth = makeAuth(expirableStore())
    const app = Fastify()
    // Declared before the plugin is loaded, so its onRoute hook never saw the route.
    app.get('/early', { config: { gatehouse: { roles: 'admin' } as never } }, async () => 'reached')
    app.get('/early-ok', { config: { gatehouse: { roles: ['admin'] } } }, async () => 'reached')
    await app.register(gatehouse, { auth })
    const server = await listen(app)
    try {
      const res = await fetch(`${server.url}/early`, { headers: bearer(adminToken()) })
      expect(res.status).toBe(500)
      expect(await res.text()).not.toContain('reached')
      expect((await fetch(`${server.url}/early-ok`, { headers: bearer(userToken()) })).status).toBe(403)
      expect((await fetch(`${server.url}/early-ok`, { headers: bearer(adminToken()) })).status).toBe(200)
    } finally {
      await server.close()
      await auth.close()
    }
  })
})
