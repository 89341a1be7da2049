import { createAuth, GatehouseConfigError, type Principal } from '@gatehouse/core'
import { createTestIssuer, request } from '@gatehouse/core/testing'
import { afterAll, describe, expect, it } from 'vitest'

// The policy under test. In an application these options live in their own module (say
// auth.config.ts) that the server and the tests both import; here they are inline.
const issuer = createTestIssuer({ alg: 'ES256', issuer: 'https://id.example.com', audience: 'backend' })
const users = new Map<string, Principal>([
  ['alice', { id: 'alice', roles: ['user'], scopes: ['reports:read'] }],
  ['root', { id: 'root', roles: ['admin'], scopes: [] }],
])

const auth = createAuth({
  jwt: issuer.options,
  public: ['/health', 'GET /docs/**'],
  rules: [
    { match: '/api/admin/**', roles: ['admin'] },
    { match: 'GET /api/reports/**', scopes: ['reports:read'] },
    // Only the author may delete a post; the check sees the principal and the raw request.
    { match: 'DELETE /api/posts/:author/:id', check: (principal, req) => req.url.split('/')[3] === principal.id },
  ],
  // The database decides who exists and which roles they hold, not the token.
  principal: ({ claims }) => users.get(String(claims?.sub)) ?? null,
})

afterAll(() => auth.close())

const as = (sub: string, options?: Parameters<typeof issuer.sign>[1]) => ({ authorization: `Bearer ${issuer.sign({ sub }, options)}` })

describe('public paths', () => {
  it('lets anyone read the health check and the docs', async () => {
    expect(await auth.check(request('GET', '/health'))).toMatchObject({ ok: true, via: 'public' })
    expect(await auth.check(request('GET', '/docs/getting-started'))).toMatchObject({ ok: true, via: 'public' })
  })

  it('opens only what it names: no other method, no path that is not canonical', async () => {
    expect(await auth.check(request('POST', '/docs/x'))).toMatchObject({ ok: false, code: 'credentials_missing' })
    expect(await auth.check(request('GET', '/docs/../api/admin/users'))).toMatchObject({ ok: false, status: 401 })
    expect(await auth.check(request('GET', '/docs/%2e%2e/api/admin/users'))).toMatchObject({ ok: false, status: 401 })
  })

  it("treats '/' as the root only, and refuses a catch-all public pattern at start-up", async () => {
    const rootOnly = createAuth({ jwt: issuer.options, public: ['/'] })
    expect(await rootOnly.check(request('GET', '/'))).toMatchObject({ ok: true })
    expect(await rootOnly.check(request('GET', '/api/admin/users'))).toMatchObject({ ok: false, code: 'credentials_missing' })
    expect(() => createAuth({ jwt: issuer.options, public: ['/**'] })).toThrow(GatehouseConfigError)
    expect(() => createAuth({ jwt: issuer.options, public: ['/**'] })).toThrow(/public\[0\]: matches every path/)
  })
})

describe('who are you? (401)', () => {
  it('answers a request without a token with 401 credentials_missing, not 403', async () => {
    const d = await auth.check(request('GET', '/api/reports/2024'))
    expect(d).toMatchObject({ ok: false, status: 401, code: 'credentials_missing' })
    expect(d.ok || d.headers['www-authenticate']).toBe('Bearer realm="gatehouse"')
  })

  it('names the cookie when the token was left in one instead of the header', async () => {
    const d = await auth.check(request('GET', '/api/reports/2024', { cookie: `client_token=${issuer.sign({ sub: 'alice' })}` }))
    expect(d.ok || d.hint).toContain("set jwt.from: ['header', { cookie: 'client_token' }]")
  })

  it('refuses an expired token, a token for another audience and one from another key', async () => {
    expect(await auth.check(request('GET', '/api/reports/1', as('alice', { expiresIn: -60 })))).toMatchObject({ code: 'token_expired' })
    // Same issuer and key, minted for another service.
    const wrongAudience = await auth.check(request('GET', '/api/reports/1', { authorization: `Bearer ${issuer.sign({ sub: 'alice', aud: 'billing' })}` }))
    expect(wrongAudience).toMatchObject({ code: 'token_audience_mismatch' })
    expect(wrongAudience.ok || wrongAudience.hint).toContain("'backend'")
    const otherKey = createTestIssuer({ alg: 'ES256', issuer: 'https://id.example.com', audience: 'backend' })
    expect(await auth.check(request('GET', '/api/reports/1', { authorization: `Bearer ${otherKey.sign({ sub: 'alice' })}` }))).toMatchObject({ code: 'token_signature_invalid' })
  })

  it('refuses a valid token for a user the database no longer knows: principal_rejected', async () => {
    const d = await auth.check(request('GET', '/api/reports/1', as('bob')))
    expect(d).toMatchObject({ ok: false, status: 401, code: 'principal_rejected' })
    expect(d.ok || d.hint).toContain("'bob'")
  })
})

describe('I know who you are, and no (403)', () => {
  it('needs the admin role for the admin API, and says which roles were held', async () => {
    const d = await auth.check(request('DELETE', '/api/admin/users/7', as('alice')))
    expect(d).toMatchObject({ ok: false, status: 403, code: 'insufficient_role' })
    expect(d.ok || d.hint).toBe("rule 0 (/api/admin/**) needs one of roles ['admin']; principal 'alice' has ['user']")
    expect(await auth.check(request('DELETE', '/api/admin/users/7', as('root')))).toMatchObject({ ok: true, principal: { id: 'root' } })
  })

  it('matches protective rules the way Express routes: case and trailing slash do not get around them', async () => {
    expect(await auth.check(request('GET', '/API/Admin/users/', as('alice')))).toMatchObject({ code: 'insufficient_role' })
  })

  it('needs the reports:read scope, announced in WWW-Authenticate', async () => {
    expect(await auth.check(request('GET', '/api/reports/1', as('alice')))).toMatchObject({ ok: true })
    const d = await auth.check(request('GET', '/api/reports/1', as('root')))
    expect(d).toMatchObject({ status: 403, code: 'insufficient_scope' })
    expect(d.ok || d.headers['www-authenticate']).toContain('scope="reports:read"')
  })

  it('lets only the author delete a post', async () => {
    expect(await auth.check(request('DELETE', '/api/posts/alice/1', as('alice')))).toMatchObject({ ok: true })
    expect(await auth.check(request('DELETE', '/api/posts/root/1', as('alice')))).toMatchObject({ status: 403, code: 'forbidden' })
  })
})

describe('a browser session', () => {
  it('authenticates by cookie, refuses a write from another site, and ends at logout', async () => {
    const web = createAuth({ session: { secret: 'a-test-session-secret-of-32-bytes' }, origins: { allow: ['https://app.example.com'] } })
    const { setCookie } = await web.sessions.create({ userId: 'alice', roles: ['user'] })
    const cookie = setCookie.split(';')[0] as string
    expect(await web.check(request('GET', '/api/me', { cookie }))).toMatchObject({ ok: true, via: 'session', principal: { id: 'alice' } })
    expect(await web.check(request('POST', '/api/me', { cookie, origin: 'https://evil.example' }))).toMatchObject({ status: 403, code: 'csrf_rejected' })
    expect(await web.check(request('POST', '/api/me', { cookie, origin: 'https://app.example.com' }))).toMatchObject({ ok: true })
    await web.sessions.destroy(request('POST', '/logout', { cookie }))
    expect(await web.check(request('GET', '/api/me', { cookie }))).toMatchObject({ status: 401, code: 'session_invalid' })
    await web.close()
  })
})

describe('explain', () => {
  it('shows the step that decided', async () => {
    const { decision, steps } = await auth.explain(request('GET', '/api/reports/1', as('root')))
    expect(decision.ok).toBe(false)
    expect(steps.find((s) => s.outcome === 'fail')?.detail).toContain('reports:read')
  })
})
