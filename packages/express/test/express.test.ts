import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import express, { type ErrorRequestHandler, type Express } from 'express'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Auth, createAuth, DENY_MESSAGES, GatehouseConfigError } from '@gatehouse/core'
import { gatehouse, GatehouseError, login, logout, regenerateSession, requireRoles, requireScopes } from '@gatehouse/express'
import { cookiePair, listen, rawRequest, type Running } from './helpers.js'
import { adminToken, APP_ORIGIN, bearer, denyCases, expectedChallenge, expirableStore, issuer, makeAuth, OLD_SESSION_SECRET, REALM, userToken } from '../../../test/support/http-policy.js'

const COOKIE = 'gatehouse.sid'

/** The test app: which handlers ran is recorded in `hits`, so a test can prove one never ran. */
function buildApp(auth: Auth, options?: Parameters<typeof gatehouse>[1]): { app: Express; hits: string[] } {
  const app = express()
  const hits: string[] = []
  app.use(gatehouse(auth, options))
  app.get('/health', (req, res) => {
    res.json({ ok: true, via: req.auth?.via })
  })
  app.get('/public/guarded', requireRoles('admin'), (_req, res) => {
    hits.push('public-guarded')
    res.json({ reached: true })
  })
  app.get('/public/{*rest}', (req, res) => {
    hits.push(`public:${req.path}`)
    res.json({ public: true })
  })
  app.get('/api/me', (req, res) => {
    hits.push('me')
    res.json({ id: req.auth?.principal?.id, via: req.auth?.via, roles: req.auth?.principal?.roles })
  })
  app.get('/api/admin', (req, res) => {
    hits.push('api-admin')
    res.json({ admin: true, id: req.auth?.principal?.id })
  })
  app.get('/admin', (_req, res) => {
    hits.push('admin')
    res.json({ admin: true })
  })
  app.get('/api/reports', (_req, res) => {
    hits.push('reports')
    res.json({ reports: [] })
  })
  app.get('/api/prefs', (_req, res) => {
    res.cookie('theme', 'light')
    res.json({ saved: true })
  })
  app.get('/api/owner-only', (_req, res) => {
    res.json({ owner: true })
  })
  app.post('/api/things', (req, res) => {
    hits.push('things')
    res.status(201).json({ created: true, by: req.auth?.principal?.id })
  })
  app.get('/guarded/editor', requireRoles('editor', 'admin'), (_req, res) => {
    hits.push('editor')
    res.json({ editor: true })
  })
  app.get('/guarded/scopes', requireScopes('a', 'b'), (_req, res) => {
    hits.push('scopes')
    res.json({ scopes: true })
  })
  app.post('/login', async (req, res) => {
    res.cookie('theme', 'dark')
    const role = String(req.query.role ?? 'user')
    const session = await login(res, auth, { userId: String(req.query.user ?? 'alice'), roles: [role] })
    res.json({ userId: session.userId })
  })
  app.post('/logout', async (req, res) => {
    await logout(req, res, auth)
    res.status(204).end()
  })
  app.post('/promote', async (req, res) => {
    const session = await regenerateSession(req, res, auth, { roles: ['admin'] })
    res.json({ roles: session.roles })
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

describe('@gatehouse/express against a real server', () => {
  const store = expirableStore()
  const auth = makeAuth(store)
  const { app, hits } = buildApp(auth)
  let server: Running
  beforeAll(async () => {
    server = await listen(app)
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
    const pub = await fetch(`${server.url}/public/docs/intro`)
    expect(pub.status).toBe(200)
  })

  it('lets a valid bearer token through and sets req.auth', async () => {
    const res = await fetch(`${server.url}/api/me`, { headers: bearer(userToken()) })
    expect(res.status).toBe(200)
    expect(await json(res)).toEqual({ id: 'user-1', via: 'bearer', roles: ['user'] })
  })

  it('lets an admin through the admin-only route and keeps users out', async () => {
    const ok = await fetch(`${server.url}/api/admin`, { headers: bearer(adminToken()) })
    expect(ok.status).toBe(200)
    const no = await fetch(`${server.url}/api/admin`, { headers: bearer(userToken()) })
    expect(no.status).toBe(403)
    expect(hits).toEqual(['api-admin'])
  })

  it('requires every scope of a scope rule', async () => {
    const ok = await fetch(`${server.url}/api/reports`, { headers: bearer(userToken({ scope: 'reports:read reports:write' })) })
    expect(ok.status).toBe(200)
    const no = await fetch(`${server.url}/api/reports`, { headers: bearer(userToken({ scope: 'reports:write' })) })
    expect(no.status).toBe(403)
    expect(no.headers.get('www-authenticate')).toBe(`Bearer realm="${REALM}", error="insufficient_scope", scope="reports:read"`)
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
      const out = await fetch(`${server.url}/logout`, { method: 'POST', headers: { cookie: dead, origin: APP_ORIGIN } })
      expect(out.status).toBe(204)
    })
    const cases = denyCases({ live: () => live, expired: () => expired, dead: () => dead })

    it('covers the whole catalogue except the upgrade-only origin_rejected', () => {
      const codes = new Set(cases.map((c) => c.code))
      expect(codes.size).toBe(19)
      expect(codes.has('origin_rejected')).toBe(false)
    })

    it.each(cases)('$code → $status with body, headers and WWW-Authenticate', async (c) => {
      const res = await fetch(`${server.url}${c.path}`, { method: c.method, headers: c.headers() })
      expect(res.status).toBe(c.status)
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(await json(res)).toEqual({ error: c.code, message: DENY_MESSAGES[c.code] })
      expect(res.headers.get('www-authenticate')).toBe(expectedChallenge(c.code, c.presented, c.scope))
      expect(hits).toEqual([])
    })

    it('answers HEAD denies with the status and headers but no body', async () => {
      const res = await rawRequest(server.port, 'HEAD', '/api/me')
      expect(res.status).toBe(401)
      expect(res.headers['www-authenticate']).toBe(`Bearer realm="${REALM}"`)
      expect(res.body).toBe('')
    })
  })

  describe('case and trailing-slash variants that Express routes to the same handler', () => {
    const variants = ['/API/Admin/', '/api/admin/', '/Api/ADMIN', '/API/ADMIN']

    it.each(variants)('%s reaches the /api/admin handler for an admin', async (path) => {
      const res = await fetch(`${server.url}${path}`, { headers: bearer(adminToken()) })
      expect(res.status).toBe(200)
      expect(hits).toEqual(['api-admin'])
    })

    it.each(variants)('%s is still refused to a plain user (403 insufficient_role)', async (path) => {
      const res = await fetch(`${server.url}${path}`, { headers: bearer(userToken()) })
      expect(res.status).toBe(403)
      expect((await json(res)) as object).toMatchObject({ error: 'insufficient_role' })
      expect(hits).toEqual([])
    })

    it('applies scope rules to /API/Reports/ too', async () => {
      const res = await fetch(`${server.url}/API/Reports/`, { headers: bearer(userToken()) })
      expect(res.status).toBe(403)
      expect((await json(res)) as object).toMatchObject({ error: 'insufficient_scope' })
    })

    it('does not stretch public rules: /HEALTH reaches the handler only with credentials', async () => {
      const anon = await fetch(`${server.url}/HEALTH`)
      expect(anon.status).toBe(401)
      const authed = await fetch(`${server.url}/HEALTH`, { headers: bearer(userToken()) })
      expect(authed.status).toBe(200)
      expect(await json(authed)).toEqual({ ok: true, via: 'bearer' })
    })
  })

  describe('hostile request-targets sent raw over a socket', () => {
    const hostile = ['/public/../admin', '/public/%2e%2e/admin', '/public/%2E%2E/admin', '//admin', '/admin;x', '/public%2F..%2Fadmin', '/public/..%2Fadmin', '/public/.%2e/admin', '/public\\..\\admin', '/./admin', '/public/../api/admin']

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
          // A non-canonical path is never public; a canonical one under /public is.
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

  describe('per-route guards', () => {
    it('requireRoles: any one of the roles suffices', async () => {
      expect((await fetch(`${server.url}/guarded/editor`, { headers: bearer(userToken({ roles: ['editor'] })) })).status).toBe(200)
      expect((await fetch(`${server.url}/guarded/editor`, { headers: bearer(adminToken()) })).status).toBe(200)
      const no = await fetch(`${server.url}/guarded/editor`, { headers: bearer(userToken({ roles: ['viewer'] })) })
      expect(no.status).toBe(403)
      expect(await json(no)).toEqual({ error: 'insufficient_role', message: DENY_MESSAGES.insufficient_role })
      expect(no.headers.get('www-authenticate')).toBeNull()
      expect(hits).toEqual(['editor', 'editor'])
    })

    it('requireScopes: every scope is needed, and the challenge names them', async () => {
      expect((await fetch(`${server.url}/guarded/scopes`, { headers: bearer(userToken({ scope: 'b a c' })) })).status).toBe(200)
      const no = await fetch(`${server.url}/guarded/scopes`, { headers: bearer(userToken({ scope: 'a' })) })
      expect(no.status).toBe(403)
      expect(await json(no)).toEqual({ error: 'insufficient_scope', message: DENY_MESSAGES.insufficient_scope })
      expect(no.headers.get('www-authenticate')).toBe(`Bearer realm="${REALM}", error="insufficient_scope", scope="a b"`)
    })

    it('answers 401 on a route that a public rule let in without credentials', async () => {
      const res = await fetch(`${server.url}/public/guarded`)
      expect(res.status).toBe(401)
      expect(await json(res)).toEqual({ error: 'credentials_missing', message: DENY_MESSAGES.credentials_missing })
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${REALM}"`)
      expect(hits).toEqual([])
    })

    it('judges session principals too', async () => {
      const cookie = await loginAs(server, 'sam', 'editor')
      expect((await fetch(`${server.url}/guarded/editor`, { headers: { cookie } })).status).toBe(200)
      const scoped = await fetch(`${server.url}/guarded/scopes`, { headers: { cookie } })
      expect(scoped.status).toBe(403)
    })

    it('refuses bad guard arguments at creation', () => {
      expect(() => requireRoles()).toThrow(GatehouseConfigError)
      expect(() => requireScopes('a', '')).toThrow(/\[1\]: must be a non-empty string/)
      expect(() => requireRoles(42 as unknown as string)).toThrow(/must be a non-empty string \(got number\)/)
    })
  })

  describe('sessions: login → request → logout → request', () => {
    it('logs in, uses the session, logs out and is refused afterwards', async () => {
      const res = await fetch(`${server.url}/login?user=alice`, { method: 'POST' })
      const setCookie = res.headers.getSetCookie()
      // login appends: the cookie the route set itself survives.
      expect(setCookie.some((c) => c.startsWith('theme=dark'))).toBe(true)
      const cookie = cookiePair(setCookie, COOKIE) as string
      expect(setCookie.find((c) => c.startsWith(`${COOKIE}=`))).toMatch(/HttpOnly/i)

      const me = await fetch(`${server.url}/api/me`, { headers: { cookie } })
      expect(me.status).toBe(200)
      expect(await json(me)).toEqual({ id: 'alice', via: 'session', roles: ['user'] })

      const out = await fetch(`${server.url}/logout`, { method: 'POST', headers: { cookie, origin: APP_ORIGIN } })
      expect(out.status).toBe(204)
      const clearing = out.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`))
      expect(clearing).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i)

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
      // A cookie signed with the older secret is re-signed on use: the Allow carries a Set-Cookie.
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
      const again = await fetch(`${server.url}/api/me`, { headers: { cookie: resigned as string } })
      expect(again.status).toBe(200)
      expect(again.headers.getSetCookie()).toEqual([])
      await previous.close()
    })

    it('login and logout refuse an engine without sessions', async () => {
      const bare = createAuth({ jwt: issuer.options })
      const res = new ServerResponse(new IncomingMessage(new Socket()))
      await expect(login(res, bare, { userId: 'x' })).rejects.toThrow(/login\(\) needs server-side sessions/)
      await expect(logout(new IncomingMessage(new Socket()), res, bare)).rejects.toThrow(GatehouseConfigError)
      await bare.close()
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

    it('does not apply to bearer tokens, which a browser never attaches on its own', async () => {
      const res = await fetch(`${server.url}/api/things`, { method: 'POST', headers: { ...bearer(userToken()), origin: 'https://evil.test' } })
      expect(res.status).toBe(201)
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
      const next = await fetch(`${server.url}/api/me`, { headers: bearer(userToken()) })
      expect(next.status).toBe(200)
      await new Promise((r) => setTimeout(r, 20))
      expect(rejections).toEqual([])
    } finally {
      process.off('unhandledRejection', onRejection)
    }
  })
})

describe('exposeHints', () => {
  it.each([true, false])('exposeHints: %s decides whether the body carries the hint', async (exposeHints) => {
    const auth = makeAuth(expirableStore(), { exposeHints })
    const server = await listen(buildApp(auth).app)
    try {
      const token = userToken({ aud: 'another-service' })
      const res = await fetch(`${server.url}/api/me`, { headers: bearer(token) })
      expect(res.status).toBe(401)
      const body = (await json(res)) as Record<string, unknown>
      expect(body.error).toBe('token_audience_mismatch')
      if (exposeHints) {
        expect(body.hint).toMatch(/another-service/)
        expect(body.hint).not.toContain(token)
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

describe("onDeny: 'next'", () => {
  const auth = makeAuth(expirableStore())
  let server: Running
  let hits: string[]
  const seen: GatehouseError[] = []
  beforeAll(async () => {
    const built = buildApp(auth, { onDeny: 'next' })
    hits = built.hits
    const handler: ErrorRequestHandler = (err, _req, res, next) => {
      if (!(err instanceof GatehouseError)) return next(err)
      seen.push(err)
      res.status(err.status).set(err.headers).json({ custom: true, ...err.body })
    }
    built.app.use(handler)
    server = await listen(built.app)
  })
  afterAll(async () => {
    await server.close()
    await auth.close()
  })

  it('hands the deny to the error middleware with status, code, headers and a client-safe message', async () => {
    const expiredToken = issuer.sign({ sub: 'user-1' }, { expiresIn: -600 })
    const res = await fetch(`${server.url}/api/me`, { headers: bearer(expiredToken) })
    expect(res.status).toBe(401)
    expect(await json(res)).toEqual({ custom: true, error: 'token_expired', message: DENY_MESSAGES.token_expired })
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${REALM}", error="invalid_token"`)
    const err = seen.at(-1) as GatehouseError
    expect(err).toBeInstanceOf(Error)
    expect(err.name).toBe('GatehouseError')
    expect(err.code).toBe('token_expired')
    expect(err.status).toBe(401)
    expect(err.message).toBe(DENY_MESSAGES.token_expired)
    expect(err.message).not.toContain(expiredToken)
    expect(err.decision.hint).toMatch(/exp/)
    expect(err.body).not.toHaveProperty('hint')
    expect(hits).toEqual([])
  })

  it('routes guard denies through the error middleware too', async () => {
    const res = await fetch(`${server.url}/guarded/scopes`, { headers: bearer(userToken({ scope: 'a' })) })
    expect(res.status).toBe(403)
    expect(await json(res)).toEqual({ custom: true, error: 'insufficient_scope', message: DENY_MESSAGES.insufficient_scope })
    expect(seen.at(-1)?.headers['www-authenticate']).toBe(`Bearer realm="${REALM}", error="insufficient_scope", scope="a b"`)
  })

  it("Express's default error handler still answers with the deny's status and WWW-Authenticate", async () => {
    const plain = express()
    plain.use(gatehouse(auth, { onDeny: 'next' }))
    plain.get('/x', (_req, res) => res.send('x'))
    const s = await listen(plain)
    try {
      const res = await fetch(`${s.url}/x`)
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${REALM}"`)
    } finally {
      await s.close()
    }
  })
})

describe('failures inside the middleware never crash the process', () => {
  it('passes a rejected check (a bug anywhere) to next(err)', async () => {
    const auth = makeAuth(expirableStore())
    const broken: Auth = { ...auth, decide: () => Promise.reject(new Error('bug in a store driver')) }
    const app = express()
    app.use(gatehouse(broken))
    app.get('/x', (_req, res) => res.send('reached'))
    const errors: unknown[] = []
    app.use(((err, _req, res, _next) => {
      errors.push(err)
      res.status(500).json({ error: 'internal' })
    }) as ErrorRequestHandler)
    const server = await listen(app)
    try {
      const res = await fetch(`${server.url}/x`, { headers: bearer(userToken()) })
      expect(res.status).toBe(500)
      expect((errors[0] as Error).message).toBe('bug in a store driver')
      expect((await fetch(`${server.url}/x`)).status).toBe(500)
    } finally {
      await server.close()
      await auth.close()
    }
  })

  it('passes a check that throws synchronously to next(err)', async () => {
    const auth = makeAuth(expirableStore())
    const broken: Auth = {
      ...auth,
      decide: () => {
        throw new Error('sync bug')
      },
    }
    const app = express()
    app.use(gatehouse(broken))
    app.get('/x', (_req, res) => res.send('reached'))
    const server = await listen(app)
    try {
      const res = await fetch(`${server.url}/x`)
      expect(res.status).toBe(500)
      expect(await res.text()).not.toContain('reached')
    } finally {
      await server.close()
      await auth.close()
    }
  })
})

describe('mounting under a prefix', () => {
  it('judges req.originalUrl: rules name full paths, and routes outside the router are not judged', async () => {
    const auth = makeAuth(expirableStore(), { public: ['/v1/health', '/me'], rules: [{ match: '/v1/admin/**', roles: ['admin'] }] })
    const router = express.Router()
    router.use(gatehouse(auth))
    router.get('/health', (req, res) => res.json({ via: req.auth?.via }))
    router.get('/admin', (req, res) => res.json({ id: req.auth?.principal?.id }))
    router.get('/me', (req, res) => res.json({ url: req.url, originalUrl: req.originalUrl }))
    const app = express()
    app.use('/v1', router)
    app.get('/outside', (req, res) => res.json({ judged: req.auth !== undefined }))
    const server = await listen(app)
    try {
      expect(await json(await fetch(`${server.url}/v1/health`))).toEqual({ via: 'public' })
      const user = await fetch(`${server.url}/v1/admin`, { headers: bearer(userToken()) })
      expect(user.status).toBe(403)
      expect((await fetch(`${server.url}/V1/Admin/`, { headers: bearer(userToken()) })).status).toBe(403)
      expect(await json(await fetch(`${server.url}/v1/admin`, { headers: bearer(adminToken()) }))).toEqual({ id: 'admin-1' })
      // `/me` is public, but the router's /me is /v1/me on the wire: public paths are not shifted.
      expect((await fetch(`${server.url}/v1/me`)).status).toBe(401)
      expect(await json(await fetch(`${server.url}/v1/me`, { headers: bearer(userToken()) }))).toEqual({ url: '/me', originalUrl: '/v1/me' })
      expect(await json(await fetch(`${server.url}/outside`))).toEqual({ judged: false })
    } finally {
      await server.close()
      await auth.close()
    }
  })

  it("app.use('/v1', gatehouse(auth)) sees the full path as well", async () => {
    const auth = makeAuth(expirableStore(), { public: ['/health'], rules: [] })
    const app = express()
    app.use('/v1', gatehouse(auth))
    app.get('/v1/health', (_req, res) => res.send('ok'))
    const server = await listen(app)
    try {
      expect((await fetch(`${server.url}/v1/health`)).status).toBe(401)
    } finally {
      await server.close()
      await auth.close()
    }
  })
})

describe('gatehouse() creation', () => {
  it('creates the engine from options and exposes it', async () => {
    const mw = gatehouse({ jwt: issuer.options, public: ['/health'] })
    expect(typeof mw.auth.check).toBe('function')
    const app = express()
    app.use(mw)
    app.get('/health', (_req, res) => res.send('ok'))
    app.get('/me', (req, res) => res.json({ id: req.auth?.principal?.id }))
    const server = await listen(app)
    try {
      expect((await fetch(`${server.url}/health`)).status).toBe(200)
      expect(await json(await fetch(`${server.url}/me`, { headers: bearer(issuer.sign({ sub: 'zed' })) }))).toEqual({ id: 'zed' })
    } finally {
      await server.close()
      await mw.auth.close()
    }
  })

  it('refuses invalid auth options with the problems listed', () => {
    expect(() => gatehouse({ jwt: { secret: 'short' } })).toThrow(GatehouseConfigError)
    expect(() => gatehouse(null as unknown as Auth)).toThrow(/needs an engine from createAuth\(\)/)
  })

  it('refuses invalid middleware options', async () => {
    const auth = createAuth({ jwt: issuer.options })
    try {
      expect(() => gatehouse(auth, { onDeny: 'throw' as 'next' })).toThrow(/onDeny: must be 'respond' or 'next' \(got "throw"\)/)
      expect(() => gatehouse(auth, { onDney: 'next' } as never)).toThrow(/onDney: unknown option/)
      const error = (() => {
        try {
          gatehouse(auth, { onDeny: 'x' as 'next', extra: 1 } as never)
        } catch (e) {
          return e as GatehouseConfigError
        }
      })()
      expect(error?.problems.map((p) => p.path).sort()).toEqual(['extra', 'onDeny'])
    } finally {
      await auth.close()
    }
  })

  it('a guard without gatehouse() in front refuses with 401', async () => {
    const app = express()
    app.get('/x', requireRoles('admin'), (_req, res) => res.send('reached'))
    const server = await listen(app)
    const warnings: unknown[][] = []
    const warn = console.warn
    console.warn = (...args: unknown[]) => warnings.push(args)
    try {
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${server.url}/x`, { headers: bearer(adminToken()) })
        expect(res.status).toBe(401)
        expect(await json(res)).toEqual({ error: 'credentials_missing', message: DENY_MESSAGES.credentials_missing })
      }
      expect(warnings).toHaveLength(1)
      expect(String(warnings[0]?.[0])).toMatch(/requireRoles\('admin'\): gatehouse\(\) did not run/)
    } finally {
      console.warn = warn
      await server.close()
    }
  })
})
