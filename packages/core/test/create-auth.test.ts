import { afterEach, describe, expect, it, vi } from 'vitest'
import { createAuth, fromNodeRequest, GatehouseConfigError, type AuthOptions, type Decision, type DecisionEvent } from '@gatehouse/core'
import { createTestIssuer, request } from '@gatehouse/core/testing'

const issuer = createTestIssuer({ alg: 'HS256', issuer: 'https://id.example.com', audience: 'backend' })
const SESSION_SECRET = 'session-secret-of-at-least-32-characters!'
const opened: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((a) => a.close()))
})

function make<const O extends AuthOptions>(options: O) {
  const auth = createAuth(options)
  opened.push(auth)
  return auth
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

function denied(d: Decision) {
  if (d.ok) throw new Error(`expected a deny, got allow via ${d.via}`)
  return d
}

describe('configuration', () => {
  it('lists every problem at once, with option paths and fixes', () => {
    let error: unknown
    try {
      createAuth({ jwt: issuer.options, public: ['/**', 'health'], bogus: true } as unknown as AuthOptions)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(GatehouseConfigError)
    const problems = (error as GatehouseConfigError).problems
    const paths = problems.map((p) => p.path)
    expect(paths).toContain('public[0]')
    expect(paths).toContain('public[1]')
    expect(problems.some((p) => p.message.includes('bogus'))).toBe(true)
    expect((error as Error).message).toMatch(/default: 'public'/)
  })

  it('refuses a policy that protects paths but has no way to authenticate', () => {
    expect(() => createAuth({ public: ['/health'] })).toThrow(/configure jwt and\/or session/)
    expect(() => createAuth({ default: 'public', public: ['/health'] })).not.toThrow()
  })

  it("refuses origins ['*'] while cookies carry credentials", () => {
    expect(() => createAuth({ session: { secret: SESSION_SECRET }, origins: { allow: ['*'] } })).toThrow(/origins\.allow/)
    expect(() => createAuth({ jwt: { ...issuer.options, from: ['header', { cookie: 'tok' }] }, origins: { allow: ['*'] } })).toThrow(/ride the user's cookies/)
  })

  it('refuses a realm that would break the header', () => {
    expect(() => createAuth({ jwt: issuer.options, realm: 'a"b' })).toThrow(/realm/)
  })
})

describe('rules and public paths', () => {
  const options = { jwt: issuer.options, public: ['/health', '/docs/**'], rules: [{ match: '/api/admin/**', roles: ['admin'] }, { match: '/api/reports/**', scopes: ['reports:read'] }] } satisfies AuthOptions

  it('lets public paths through without credentials', async () => {
    const auth = make(options)
    const d = await auth.check(request('GET', '/docs/intro'))
    expect(d).toMatchObject({ ok: true, via: 'public', principal: null })
  })

  it('judges a non-canonical path as protected even when it starts like a public one', async () => {
    const auth = make(options)
    for (const url of ['/docs/../api/admin/users', '/docs/%2e%2e/api/admin', '/docs%2F..%2Fapi', '//docs/x']) {
      const d = denied(await auth.check(request('GET', url)))
      expect(d.code, url).toBe('credentials_missing')
    }
  })

  it('treats CORS preflights as public but not a plain OPTIONS', async () => {
    const auth = make(options)
    expect((await auth.check(request('OPTIONS', '/api/admin/x', { 'access-control-request-method': 'DELETE', origin: 'https://app.example.com' }))).ok).toBe(true)
    expect(denied(await auth.check(request('OPTIONS', '/api/admin/x'))).code).toBe('credentials_missing')
  })

  it('answers 403 insufficient_role naming the needed and the held roles', async () => {
    const auth = make(options)
    const d = denied(await auth.check(request('DELETE', '/API/Admin/users/', bearer(issuer.sign({ sub: 'u1', roles: ['user'] })))))
    expect(d).toMatchObject({ status: 403, code: 'insufficient_role' })
    expect(d.hint).toContain("'admin'")
    expect(d.hint).toContain("'user'")
    expect(d.headers['www-authenticate']).toBeUndefined()
    const ok = await auth.check(request('DELETE', '/api/admin/users', bearer(issuer.sign({ sub: 'u2', roles: ['admin'] }))))
    expect(ok).toMatchObject({ ok: true, via: 'bearer', principal: { id: 'u2', roles: ['admin'] } })
  })

  it('answers 403 insufficient_scope with the RFC 6750 header', async () => {
    const auth = make(options)
    const d = denied(await auth.check(request('GET', '/api/reports/1', bearer(issuer.sign({ sub: 'u1', scope: 'profile' })))))
    expect(d).toMatchObject({ status: 403, code: 'insufficient_scope' })
    expect(d.headers['www-authenticate']).toBe('Bearer realm="gatehouse", error="insufficient_scope", scope="reports:read"')
    const ok = await auth.check(request('GET', '/api/reports/1', bearer(issuer.sign({ sub: 'u1', scope: 'profile reports:read' }))))
    expect(ok.ok).toBe(true)
    const scp = await auth.check(request('GET', '/api/reports/1', bearer(issuer.sign({ sub: 'u1', scp: ['reports:read'] }))))
    expect(scp.ok).toBe(true)
  })

  it('lets anonymous requests into optional paths but still judges credentials there', async () => {
    const auth = make({ jwt: issuer.options, rules: [{ match: 'GET /feed/**', allow: 'optional' }] })
    expect(await auth.check(request('GET', '/feed/today'))).toMatchObject({ ok: true, via: 'public', principal: null })
    expect(await auth.check(request('GET', '/feed/today', bearer(issuer.sign({ sub: 'reader' }))))).toMatchObject({ ok: true, via: 'bearer', principal: { id: 'reader' } })
    expect(denied(await auth.check(request('GET', '/feed/today', bearer(issuer.sign({}, { expiresIn: -60 })))))).toMatchObject({ status: 401, code: 'token_expired' })
    expect(denied(await auth.check(request('GET', '/feed/today', { authorization: 'Basic abc' }))).code).toBe('credentials_malformed')
    // Matched narrowly, like public paths: other methods and non-canonical spellings need credentials.
    expect(denied(await auth.check(request('POST', '/feed/today'))).code).toBe('credentials_missing')
    expect(denied(await auth.check(request('GET', '/feed/../admin'))).code).toBe('credentials_missing')
  })

  it('refuses optional rules that also demand roles, and optional catch-alls', () => {
    expect(() => createAuth({ jwt: issuer.options, rules: [{ match: '/feed/**', allow: 'optional', roles: ['x'] }] })).toThrow(/allow: 'optional' cannot be combined with roles/)
    expect(() => createAuth({ jwt: issuer.options, rules: [{ match: '/**', allow: 'optional' }] })).toThrow(/rules\[0\]\.match/)
  })

  it('enforces both rules when the raw and the normalised path match different ones', async () => {
    const auth = make({ jwt: issuer.options, rules: [{ match: '/b/**', scopes: ['b'] }, { match: '/a/**', roles: ['a'] }] })
    const url = '/a/%2e%2e/b/x'
    expect(denied(await auth.check(request('GET', url, bearer(issuer.sign({ scope: 'b' }))))).code).toBe('insufficient_role')
    expect(denied(await auth.check(request('GET', url, bearer(issuer.sign({ roles: ['a'] }))))).code).toBe('insufficient_scope')
    expect((await auth.check(request('GET', url, bearer(issuer.sign({ roles: ['a'], scope: 'b' }))))).ok).toBe(true)
  })

  it('runs rule checks, failing closed when they throw', async () => {
    const auth = make({
      jwt: issuer.options,
      rules: [
        { match: 'DELETE /api/items/:id', check: (p, req) => req.url.endsWith(`/${p.id}`) },
        { match: '/api/broken', check: () => { throw new Error('db down') } },
      ],
    })
    const token = issuer.sign({ sub: '7' })
    expect((await auth.check(request('DELETE', '/api/items/7', bearer(token)))).ok).toBe(true)
    expect(denied(await auth.check(request('DELETE', '/api/items/8', bearer(token))))).toMatchObject({ status: 403, code: 'forbidden' })
    expect((await auth.check(request('GET', '/api/items/8', bearer(token)))).ok).toBe(true)
    expect(denied(await auth.check(request('GET', '/api/broken', bearer(token))))).toMatchObject({ status: 503, code: 'auth_unavailable' })
  })
})

describe('credentials', () => {
  it('asks for credentials with a bare Bearer challenge', async () => {
    const auth = make({ jwt: issuer.options })
    const d = denied(await auth.check(request('GET', '/api/x')))
    expect(d).toMatchObject({ status: 401, code: 'credentials_missing' })
    expect(d.headers['www-authenticate']).toBe('Bearer realm="gatehouse"')
  })

  it('points at a cookie that holds the token when only the header is read', async () => {
    const auth = make({ jwt: issuer.options })
    const d = denied(await auth.check(request('GET', '/api/x', { cookie: `theme=dark; client_token=${issuer.sign()}` })))
    expect(d.hint).toContain("jwt.from: ['header', { cookie: 'client_token' }]")
    expect(d.hint).not.toContain('eyJ')
  })

  it('refuses malformed Authorization headers with invalid_request', async () => {
    const auth = make({ jwt: issuer.options })
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Token abc', '', 'Bearer a b']) {
      const d = denied(await auth.check(request('GET', '/api/x', { authorization })))
      expect(d.code, authorization).toBe('credentials_malformed')
      expect(d.headers['www-authenticate']).toBe('Bearer realm="gatehouse", error="invalid_request"')
    }
  })

  it('refuses two Authorization headers, which Node would otherwise hide', async () => {
    const auth = make({ jwt: issuer.options })
    const good = issuer.sign()
    const req = fromNodeRequest({ method: 'GET', url: '/api/x', headers: { authorization: `Bearer ${good}` }, rawHeaders: ['Authorization', `Bearer ${good}`, 'authorization', 'Bearer other'] })
    expect(denied(await auth.check(req)).code).toBe('credentials_malformed')
  })

  it('accepts the scheme in any case', async () => {
    const auth = make({ jwt: issuer.options })
    expect((await auth.check(request('GET', '/api/x', { authorization: `bEaReR ${issuer.sign()}` }))).ok).toBe(true)
  })

  it('marks a failed presented token with invalid_token', async () => {
    const auth = make({ jwt: issuer.options })
    const d = denied(await auth.check(request('GET', '/api/x', bearer(issuer.sign({}, { expiresIn: -600 })))))
    expect(d.code).toBe('token_expired')
    expect(d.headers['www-authenticate']).toBe('Bearer realm="gatehouse", error="invalid_token"')
  })

  it('never falls through from a broken header to a valid cookie', async () => {
    const auth = make({ jwt: { ...issuer.options, from: ['header', { cookie: 'tok' }] } })
    const d = denied(await auth.check(request('GET', '/api/x', { authorization: 'Bearer not-a-jwt', cookie: `tok=${issuer.sign()}` })))
    expect(d.code).toBe('credentials_malformed')
  })

  it('reads a token from a cookie and protects unsafe methods against CSRF', async () => {
    const auth = make({ jwt: { ...issuer.options, from: ['header', { cookie: 'tok' }] }, origins: { allow: ['https://app.example.com'] } })
    const cookie = `tok=${issuer.sign()}`
    expect(await auth.check(request('GET', '/api/x', { cookie }))).toMatchObject({ ok: true, via: 'bearer' })
    expect(denied(await auth.check(request('POST', '/api/x', { cookie, origin: 'https://evil.example' })))).toMatchObject({ status: 403, code: 'csrf_rejected' })
    expect((await auth.check(request('POST', '/api/x', { cookie, origin: 'https://app.example.com' }))).ok).toBe(true)
    expect((await auth.check(request('POST', '/api/x', { cookie, 'sec-fetch-site': 'same-origin' }))).ok).toBe(true)
    // A header credential is not ambient: no CSRF check.
    expect((await auth.check(request('POST', '/api/x', { ...bearer(issuer.sign()), origin: 'https://evil.example' }))).ok).toBe(true)
  })

  it('refuses duplicate token cookies', async () => {
    const auth = make({ jwt: { ...issuer.options, from: [{ cookie: 'tok' }] } })
    expect(denied(await auth.check(request('GET', '/api/x', { cookie: `tok=${issuer.sign()}; tok=${issuer.sign()}` }))).code).toBe('credentials_malformed')
  })

  it('reads the query only when from lists it', async () => {
    const listed = make({ jwt: { ...issuer.options, from: ['header', { query: 'access_token' }] } })
    const plain = make({ jwt: issuer.options })
    const url = `/api/x?access_token=${issuer.sign()}`
    expect((await listed.check(request('GET', url))).ok).toBe(true)
    expect(denied(await plain.check(request('GET', url))).code).toBe('credentials_missing')
    expect(denied(await listed.check(request('GET', `${url}&access_token=x`))).code).toBe('credentials_malformed')
  })
})

describe('principal', () => {
  it('maps claims by default and through configurable claim names', async () => {
    const auth = make({ jwt: { ...issuer.options, claims: { id: 'uid', roles: 'groups' } } })
    const d = await auth.check(request('GET', '/x', bearer(issuer.sign({ uid: 'abc', groups: ['ops'] }))))
    expect(d).toMatchObject({ ok: true, principal: { id: 'abc', roles: ['ops'], scopes: [] } })
  })

  it('derives the principal of a cached token once, frozen like its claims', async () => {
    const auth = make({ jwt: issuer.options })
    const token = issuer.sign({ sub: 'same', roles: ['a'] })
    const first = await auth.check(request('GET', '/x', bearer(token)))
    const second = await auth.check(request('GET', '/x', bearer(token)))
    if (!first.ok || !second.ok) throw new Error('expected allows')
    expect(second.principal).toEqual({ id: 'same', roles: ['a'], scopes: [] })
    expect(Object.isFrozen(second.principal)).toBe(true)
    expect(Object.isFrozen(second.principal?.roles)).toBe(true)
    const other = await auth.check(request('GET', '/x', bearer(issuer.sign({ sub: 'other' }))))
    expect(other).toMatchObject({ ok: true, principal: { id: 'other' } })
  })

  it('rejects a token for a user the hook no longer knows, naming the subject', async () => {
    const auth = make({ jwt: issuer.options, principal: async ({ claims }) => (claims?.sub === 'alive' ? { id: 'alive', roles: [], scopes: [] } : null) })
    expect((await auth.check(request('GET', '/x', bearer(issuer.sign({ sub: 'alive' }))))).ok).toBe(true)
    const d = denied(await auth.check(request('GET', '/x', bearer(issuer.sign({ sub: 'deleted-user' })))))
    expect(d).toMatchObject({ status: 401, code: 'principal_rejected' })
    expect(d.hint).toContain("'deleted-user'")
    expect(d.headers['www-authenticate']).toContain('invalid_token')
  })

  it('answers 503 when the hook throws or hangs', async () => {
    const throwing = make({ jwt: issuer.options, principal: () => { throw new Error('connection refused') } })
    expect(denied(await throwing.check(request('GET', '/x', bearer(issuer.sign()))))).toMatchObject({ status: 503, code: 'auth_unavailable' })
    const hanging = make({ jwt: issuer.options, hookTimeout: 0.05, principal: () => new Promise(() => {}) })
    const d = denied(await hanging.check(request('GET', '/x', bearer(issuer.sign()))))
    expect(d).toMatchObject({ status: 503, code: 'auth_unavailable' })
    expect(d.hint).toContain('50 ms')
  })

  it('answers 503 when the hook returns something that is not a principal', async () => {
    const auth = make({ jwt: issuer.options, principal: () => ({ id: 'x', roles: 'admin' }) as never })
    expect(denied(await auth.check(request('GET', '/x', bearer(issuer.sign())))).code).toBe('auth_unavailable')
  })
})

describe('sessions', () => {
  it('authenticates by session cookie and refuses it after logout', async () => {
    const auth = make({ session: { secret: SESSION_SECRET, cookie: { secure: false } }, rules: [{ match: '/admin/**', roles: ['admin'] }] })
    const { setCookie } = await auth.sessions.create({ userId: 'u1', roles: ['admin'] })
    const cookie = setCookie.split(';')[0] as string
    const d = await auth.check(request('GET', '/admin/panel', { cookie }))
    expect(d).toMatchObject({ ok: true, via: 'session', principal: { id: 'u1', roles: ['admin'] } })
    await auth.sessions.destroy(request('POST', '/logout', { cookie }))
    const after = denied(await auth.check(request('GET', '/admin/panel', { cookie })))
    expect(after).toMatchObject({ status: 401, code: 'session_invalid' })
    expect(after.headers['www-authenticate']).toContain('invalid_token')
  })

  it('prefers the Authorization header over a session cookie', async () => {
    const auth = make({ jwt: issuer.options, session: { secret: SESSION_SECRET, cookie: { secure: false } } })
    const d = await auth.check(request('GET', '/x', { ...bearer(issuer.sign({ sub: 'from-token' })), cookie: 'gatehouse.sid=garbage' }))
    expect(d).toMatchObject({ ok: true, via: 'bearer', principal: { id: 'from-token' } })
  })

  it('checks CSRF for session-authenticated writes', async () => {
    const auth = make({ session: { secret: SESSION_SECRET, cookie: { secure: false } } })
    const { setCookie } = await auth.sessions.create({ userId: 'u1' })
    const cookie = setCookie.split(';')[0] as string
    expect(denied(await auth.check(request('POST', '/x', { cookie, host: 'app.example.com', origin: 'https://evil.example' }))).code).toBe('csrf_rejected')
    expect((await auth.check(request('POST', '/x', { cookie, host: 'app.example.com', origin: 'https://app.example.com' }))).ok).toBe(true)
  })
})

describe('upgrades', () => {
  const options = { jwt: issuer.options, origins: { allow: ['https://app.example.com'] } } satisfies AuthOptions

  it('applies the origin policy before anything else', async () => {
    const auth = make({ ...options, default: 'public' })
    const d = denied(await auth.checkUpgrade(request('GET', '/ws', { origin: 'https://evil.example' })))
    expect(d).toMatchObject({ status: 403, code: 'origin_rejected' })
    expect((await auth.checkUpgrade(request('GET', '/ws', { origin: 'https://app.example.com' }))).ok).toBe(true)
    // HTTP requests are not subject to the origin policy (CORS is the app's business there).
    expect((await auth.check(request('GET', '/ws', { origin: 'https://evil.example' }))).ok).toBe(true)
  })

  it('checks Sec-WebSocket-Origin on version 8 handshakes', async () => {
    const auth = make({ ...options, default: 'public' })
    const d = denied(await auth.checkUpgrade(request('GET', '/ws', { 'sec-websocket-version': '8', 'sec-websocket-origin': 'https://evil.example' })))
    expect(d.code).toBe('origin_rejected')
  })

  it('reads the token from the subprotocol and never selects it', async () => {
    const auth = make(options)
    const token = issuer.sign()
    const d = await auth.checkUpgrade(request('GET', '/ws', { origin: 'https://app.example.com', 'sec-websocket-protocol': `gatehouse, gatehouse.bearer.${token}, chat.v1` }))
    expect(d).toMatchObject({ ok: true, via: 'bearer', protocol: 'chat.v1' })
    const marker = await auth.checkUpgrade(request('GET', '/ws', { 'sec-websocket-protocol': `gatehouse, gatehouse.bearer.${token}` }))
    expect(marker).toMatchObject({ ok: true, protocol: 'gatehouse' })
    // Plain HTTP never reads the subprotocol.
    expect(denied(await auth.check(request('GET', '/ws', { 'sec-websocket-protocol': `gatehouse, gatehouse.bearer.${token}` }))).code).toBe('credentials_missing')
  })

  it('refuses two bearer subprotocols', async () => {
    const auth = make(options)
    const t = issuer.sign()
    expect(denied(await auth.checkUpgrade(request('GET', '/ws', { 'sec-websocket-protocol': `gatehouse.bearer.${t}, gatehouse.bearer.${t}` }))).code).toBe('credentials_malformed')
  })
})

describe('decide', () => {
  it('answers at once when nothing has to wait, and with a promise otherwise', async () => {
    const auth = make({ jwt: issuer.options, session: { secret: SESSION_SECRET, cookie: { secure: false } }, public: ['/health'] })
    const pub = auth.decide(request('GET', '/health'))
    expect(pub).not.toBeInstanceOf(Promise)
    expect(pub).toMatchObject({ ok: true, via: 'public' })
    const token = auth.decide(request('GET', '/x', bearer(issuer.sign({ sub: 'now' }))))
    expect(token).not.toBeInstanceOf(Promise)
    expect(token).toMatchObject({ ok: true, principal: { id: 'now' } })
    const expired = auth.decide(request('GET', '/x', bearer(issuer.sign({}, { expiresIn: -60 }))))
    expect(expired).toMatchObject({ ok: false, code: 'token_expired' })
    const { setCookie } = await auth.sessions.create({ userId: 'u1' })
    const session = auth.decide(request('GET', '/x', { cookie: setCookie.split(';')[0] as string }))
    expect(session).toBeInstanceOf(Promise)
    expect(await session).toMatchObject({ ok: true, via: 'session' })
  })

  it('waits for an async principal hook and rule check, with the same outcome as check', async () => {
    const auth = make({ jwt: issuer.options, principal: async ({ claims }) => ({ id: String(claims?.sub), roles: [], scopes: [] }), rules: [{ match: '/x', check: async (p) => p.id === 'ok' }] })
    for (const sub of ['ok', 'no']) {
      const req = request('GET', '/x', bearer(issuer.sign({ sub })))
      const pending = auth.decide(req)
      expect(pending).toBeInstanceOf(Promise)
      expect(await pending).toEqual(await auth.check(req))
    }
  })
})

describe('observability', () => {
  it('reports every decision without the query string, and survives a throwing listener', async () => {
    const events: DecisionEvent[] = []
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    const auth = make({ jwt: { ...issuer.options, from: ['header', { query: 't' }] }, onDecision: (e) => { events.push(e); throw new Error('logger broke') } })
    const d = await auth.check(request('GET', `/api/x?t=${issuer.sign()}`))
    expect(d.ok).toBe(true)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ method: 'GET', path: '/api/x', upgrade: false })
    expect(error).toHaveBeenCalledOnce()
    error.mockRestore()
  })

  it('explains a decision step by step without firing onDecision', async () => {
    const onDecision = vi.fn()
    const auth = make({ jwt: issuer.options, public: ['/docs/**'], onDecision })
    const { decision, steps } = await auth.explain(request('GET', '/docs/../admin', bearer(issuer.sign({}, { expiresIn: -60 }))))
    expect(decision.ok).toBe(false)
    const names = steps.map((s) => s.step)
    expect(names[0]).toBe('request')
    expect(names).toContain('path')
    expect(names).toContain('credentials')
    expect(names.at(-1)).toBe('decision')
    expect(steps.at(-1)?.detail).toContain('token_expired')
    expect(onDecision).not.toHaveBeenCalled()
  })

  it('sends hints to clients only when exposeHints is on', async () => {
    const quiet = make({ jwt: issuer.options })
    const loud = make({ jwt: issuer.options, exposeHints: true })
    const q = quiet.respond(denied(await quiet.check(request('GET', '/x'))))
    const l = loud.respond(denied(await loud.check(request('GET', '/x'))))
    expect(JSON.parse(q.body)).toEqual({ error: 'credentials_missing', message: 'Authentication required.' })
    expect(JSON.parse(l.body).hint).toMatch(/Authorization/)
    expect(q.headers['www-authenticate']).toBe('Bearer realm="gatehouse"')
    expect(q.status).toBe(401)
  })

  it('never throws for hostile requests', async () => {
    const auth = make({ jwt: { ...issuer.options, from: ['header', { cookie: 'c' }, { query: 'q' }] }, session: { secret: SESSION_SECRET, cookie: { secure: false } }, public: ['/p/**'] })
    const hostile = [
      request('GET', '/p/%', { cookie: ['a', 'b=%', 'c=%E0%A4%A'] }),
      request('GET', '\u0000', { authorization: ['Bearer x', 'Bearer y', 'Bearer z'] }),
      request('POST', `/${'a/'.repeat(5000)}`, { cookie: `gatehouse.sid=${'x'.repeat(10000)}` }),
      request('GET', '/x?q=%zz&q', {}),
      request('GET', 'http://evil/p/x', { authorization: `Bearer ${'a'.repeat(100_000)}.b.c` }),
    ]
    for (const req of hostile) {
      const d = await auth.check(req)
      expect(d.ok).toBe(false)
      if (!d.ok) expect([401, 403, 503]).toContain(d.status)
    }
  })
})
