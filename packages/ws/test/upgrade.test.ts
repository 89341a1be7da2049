import { type Auth, type AuthOptions, createAuth } from '@gatehouse/core'
import { createTestIssuer } from '@gatehouse/core/testing'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { connect, cookiePair, hangUp, type Outcome, rawExchange, startServer, type TestServer, upgradeHead } from './helpers.js'

const issuer = createTestIssuer({ alg: 'HS256' })
const token = issuer.sign({ sub: 'alice' }, { expiresIn: '1h' })
const origins = { allow: ['http://localhost:*', 'https://app.example.com'], allowMissing: true }
const SESSION_SECRET = 'ws-adapter-test-secret-0123456789abcdef'
const bearer = { Authorization: `Bearer ${token}` }

const servers: TestServer[] = []
const outcomes: Outcome[] = []
async function serve(options: AuthOptions, handler: Parameters<typeof startServer>[1] = {}): Promise<TestServer & { auth: Auth }> {
  const auth = createAuth(options) as Auth
  const s = await startServer(auth, handler)
  servers.push(s)
  return Object.assign(s, { auth })
}
async function attempt(s: TestServer, path: string, options: Parameters<typeof connect>[1] = {}): Promise<Outcome> {
  const outcome = await connect(`${s.url}${path}`, options)
  outcomes.push(outcome)
  return outcome
}
afterEach(async () => {
  for (const o of outcomes.splice(0)) await hangUp(o)
  for (const s of servers.splice(0)) await s.close()
  vi.restoreAllMocks()
})

function expectDenied(outcome: Outcome, status: number, code: string): void {
  expect(outcome).toMatchObject({ kind: 'http', status })
  if (outcome.kind === 'http') expect(JSON.parse(outcome.body)).toEqual({ error: code, message: expect.any(String) })
}

async function sessionCookie(auth: Auth, userId = 'bob'): Promise<{ Cookie: string; id: string }> {
  if (!auth.sessions) throw new Error('the auth under test has no session manager')
  const { session, setCookie } = await auth.sessions.create({ userId, roles: ['user'] })
  return { Cookie: cookiePair(setCookie), id: session.id }
}

describe('origin policy at the upgrade', () => {
  const jwtAuth: AuthOptions = { jwt: issuer.options, origins }

  it.each(['http://localhost:5173', 'http://localhost', 'https://app.example.com'])('admits the allowed origin %s', async (origin) => {
    const s = await serve(jwtAuth)
    expect(await attempt(s, '/live', { origin, headers: bearer })).toMatchObject({ kind: 'open', hello: { id: 'alice', via: 'bearer' } })
  })

  it.each(['https://evil.example', 'https://app.example.com.evil.example', 'http://localhost.evil.example:3000', 'https://app.example.com:8443', 'http://app.example.com'])(
    'refuses %s with 403 origin_rejected and never emits connection',
    async (origin) => {
      const s = await serve(jwtAuth)
      expectDenied(await attempt(s, '/live', { origin, headers: bearer }), 403, 'origin_rejected')
      expect(s.connections).toHaveLength(0)
    },
  )

  it('admits a request without Origin when allowMissing is on, and refuses it when off', async () => {
    const on = await serve(jwtAuth)
    expect(await attempt(on, '/live', { headers: bearer })).toMatchObject({ kind: 'open' })
    const off = await serve({ jwt: issuer.options, origins: { ...origins, allowMissing: false } })
    expectDenied(await attempt(off, '/live', { headers: bearer }), 403, 'origin_rejected')
  })

  it("refuses the opaque origin 'null' (sandboxed iframes, file: pages)", async () => {
    const s = await serve(jwtAuth)
    expectDenied(await attempt(s, '/live', { origin: 'null', headers: bearer }), 403, 'origin_rejected')
  })

  it('refuses two Origin headers, even when both are allowed', async () => {
    const s = await serve(jwtAuth)
    for (const pair of [
      ['Origin: http://localhost:3000', 'Origin: https://app.example.com'],
      ['Origin: https://app.example.com', 'Origin: https://evil.example'],
    ]) {
      const res = await rawExchange(s.port, upgradeHead('/live', [...pair, `Authorization: Bearer ${token}`]))
      expect(res.status).toBe(403)
      expect(JSON.parse(res.body)).toMatchObject({ error: 'origin_rejected' })
    }
    expect(s.connections).toHaveLength(0)
  })

  it('refuses comma-joined origins in one header', async () => {
    const s = await serve(jwtAuth)
    const res = await rawExchange(s.port, upgradeHead('/live', ['Origin: http://localhost:3000, https://app.example.com', `Authorization: Bearer ${token}`]))
    expect(res.status).toBe(403)
    expect(JSON.parse(res.body)).toMatchObject({ error: 'origin_rejected' })
  })

  it('checks Sec-WebSocket-Origin on version 8 handshakes, the header ws reads for them', async () => {
    const s = await serve(jwtAuth)
    expectDenied(await attempt(s, '/live', { protocolVersion: 8, origin: 'https://evil.example', headers: bearer }), 403, 'origin_rejected')
    expect(await attempt(s, '/live', { protocolVersion: 8, origin: 'https://app.example.com', headers: bearer })).toMatchObject({ kind: 'open', hello: { id: 'alice' } })
  })

  it('refuses an allowed Origin paired with a foreign Sec-WebSocket-Origin', async () => {
    const s = await serve(jwtAuth)
    const res = await rawExchange(s.port, upgradeHead('/live', ['Origin: https://app.example.com', 'Sec-WebSocket-Origin: https://evil.example', `Authorization: Bearer ${token}`]))
    expect(res.status).toBe(403)
    expect(s.connections).toHaveLength(0)
  })

  it('stops cross-site WebSocket hijacking: the victim’s valid session cookie from a foreign page is refused', async () => {
    const s = await serve({ session: { secret: SESSION_SECRET }, origins })
    const { Cookie } = await sessionCookie(s.auth)
    expectDenied(await attempt(s, '/live', { origin: 'https://evil.example', headers: { Cookie } }), 403, 'origin_rejected')
    expect(s.connections).toHaveLength(0)
    expect(await attempt(s, '/live', { origin: 'https://app.example.com', headers: { Cookie } })).toMatchObject({ kind: 'open', hello: { id: 'bob', via: 'session' } })
  })
})

describe('credentials', () => {
  const page = 'https://app.example.com'

  it('reads the Authorization header', async () => {
    const s = await serve({ jwt: issuer.options, origins })
    const outcome = await attempt(s, '/live', { origin: page, headers: bearer })
    expect(outcome).toMatchObject({ kind: 'open', hello: { id: 'alice', via: 'bearer' } })
    expect(s.connections[0]?.req.auth).toMatchObject({ ok: true, via: 'bearer', principal: { id: 'alice' }, claims: { sub: 'alice' } })
  })

  it('answers a missing credential with 401 and a bare Bearer challenge', async () => {
    const s = await serve({ jwt: issuer.options, origins })
    const outcome = await attempt(s, '/live', { origin: page })
    expectDenied(outcome, 401, 'credentials_missing')
    expect(outcome.kind === 'http' && outcome.headers['www-authenticate']).toBe('Bearer realm="gatehouse"')
  })

  it('answers a forged token with 401 and error="invalid_token"', async () => {
    const s = await serve({ jwt: issuer.options, origins })
    const forged = `${token.slice(0, -4)}AAAA`
    const outcome = await attempt(s, '/live', { origin: page, headers: { Authorization: `Bearer ${forged}` } })
    expectDenied(outcome, 401, 'token_signature_invalid')
    expect(outcome.kind === 'http' && outcome.headers['www-authenticate']).toBe('Bearer realm="gatehouse", error="invalid_token"')
  })

  it('reads a session cookie created by auth.sessions.create', async () => {
    const s = await serve({ session: { secret: SESSION_SECRET }, origins })
    const { Cookie, id } = await sessionCookie(s.auth, 'carol')
    expect(await attempt(s, '/live', { origin: page, headers: { Cookie } })).toMatchObject({ kind: 'open', hello: { id: 'carol', via: 'session' } })
    expect(s.connections[0]?.req.auth?.session).toMatchObject({ id, userId: 'carol' })
  })

  it('refuses a destroyed session', async () => {
    const s = await serve({ session: { secret: SESSION_SECRET }, origins })
    const { Cookie, id } = await sessionCookie(s.auth)
    await s.auth.sessions?.destroy(id)
    expectDenied(await attempt(s, '/live', { origin: page, headers: { Cookie } }), 401, 'session_invalid')
  })

  describe('subprotocol', () => {
    it('reads gatehouse.bearer.<token> and answers with the gatehouse marker, never the token', async () => {
      const s = await serve({ jwt: issuer.options, origins })
      const outcome = await attempt(s, '/live', { origin: page, protocols: ['gatehouse', `gatehouse.bearer.${token}`] })
      expect(outcome).toMatchObject({ kind: 'open', hello: { id: 'alice', via: 'bearer', protocol: 'gatehouse' } })
      if (outcome.kind !== 'open') return
      expect(outcome.upgradeHeaders['sec-websocket-protocol']).toBe('gatehouse')
      expect(JSON.stringify(outcome.upgradeHeaders)).not.toContain(token)
      expect(outcome.ws.protocol).toBe('gatehouse')
      expect(s.connections[0]?.req.auth?.protocol).toBe('gatehouse')
    })

    it('selects the application protocol when one is offered, wherever the bearer sits', async () => {
      const s = await serve({ jwt: issuer.options, origins })
      for (const protocols of [
        ['graphql-transport-ws', 'gatehouse', `gatehouse.bearer.${token}`],
        [`gatehouse.bearer.${token}`, 'gatehouse', 'graphql-transport-ws'],
      ]) {
        const outcome = await attempt(s, '/live', { origin: page, protocols })
        expect(outcome).toMatchObject({ kind: 'open', hello: { protocol: 'graphql-transport-ws' } })
        if (outcome.kind === 'open') expect(outcome.upgradeHeaders['sec-websocket-protocol']).toBe('graphql-transport-ws')
      }
    })

    it('keeps a refused token out of the response and of every log line', async () => {
      const logged: string[] = []
      for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
        vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map((a) => (a instanceof Error ? a.stack : String(a))).join(' ')))
      }
      const expired = issuer.sign({ sub: 'alice' }, { expiresIn: -3600 })
      const events: string[] = []
      const s = await serve({ jwt: issuer.options, origins, exposeHints: true, onDecision: (e) => events.push(JSON.stringify(e)) })
      for (const offered of [expired, `${token.slice(0, -4)}AAAA`]) {
        const outcome = await attempt(s, '/live', { origin: page, protocols: ['gatehouse', `gatehouse.bearer.${offered}`] })
        expect(outcome.kind).toBe('http')
        if (outcome.kind !== 'http') continue
        expect(outcome.status).toBe(401)
        expect(JSON.stringify(outcome.headers)).not.toContain(offered.split('.')[1])
        expect(outcome.body).not.toContain(offered.split('.')[1])
      }
      const secretParts = [expired, token].flatMap((t) => t.split('.').slice(1))
      for (const line of [...logged, ...events]) for (const part of secretParts) expect(line).not.toContain(part)
    })
  })

  describe('query parameter', () => {
    it('reads ?access_token= when jwt.from lists it', async () => {
      const s = await serve({ jwt: { ...issuer.options, from: ['header', { query: 'access_token' }] }, origins })
      expect(await attempt(s, `/live?access_token=${token}`, { origin: page })).toMatchObject({ kind: 'open', hello: { id: 'alice', via: 'bearer' } })
    })

    it('ignores ?access_token= when jwt.from does not list it', async () => {
      const s = await serve({ jwt: issuer.options, origins })
      expectDenied(await attempt(s, `/live?access_token=${token}`, { origin: page }), 401, 'credentials_missing')
    })
  })
})
