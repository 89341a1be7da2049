import { once } from 'node:events'
import { type Auth, type AuthOptions, createAuth } from '@gatehouse/core'
import { createTestIssuer } from '@gatehouse/core/testing'
import { getAuth } from '@gatehouse/ws'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { connect, hangUp, type Outcome, rawExchange, startServer, type TestServer, upgradeHead } from './helpers.js'

const issuer = createTestIssuer({ alg: 'HS256' })
const origins = { allow: ['https://app.example.com'], allowMissing: true }
const page = 'https://app.example.com'

const servers: TestServer[] = []
const outcomes: Outcome[] = []
async function serve(options: AuthOptions, handler: Parameters<typeof startServer>[1] = {}) {
  const s = await startServer(createAuth(options) as Auth, handler)
  servers.push(s)
  return s
}
async function attempt(s: TestServer, path: string, options: Parameters<typeof connect>[1] = {}) {
  const outcome = await connect(`${s.url}${path}`, options)
  outcomes.push(outcome)
  return outcome
}
afterEach(async () => {
  for (const o of outcomes.splice(0)) await hangUp(o)
  for (const s of servers.splice(0)) await s.close()
})

describe("reject: 'http' (default)", () => {
  it('writes a real HTTP/1.1 response: status line, Connection: close, JSON type, exact length, challenge, body', async () => {
    const s = await serve({ jwt: issuer.options, origins, realm: 'chat' })
    const res = await rawExchange(s.port, upgradeHead('/live'))
    const lines = res.head.split('\r\n')
    expect(lines[0]).toBe('HTTP/1.1 401 Unauthorized')
    expect(lines).toContain('Connection: close')
    expect(lines).toContain('Content-Type: application/json; charset=utf-8')
    expect(lines).toContain('Cache-Control: no-store')
    expect(lines).toContain('WWW-Authenticate: Bearer realm="chat"')
    expect(lines).toContain(`Content-Length: ${Buffer.byteLength(res.body)}`)
    expect(JSON.parse(res.body)).toEqual({ error: 'credentials_missing', message: 'Authentication required.' })
    expect(lines.some((l) => /^Upgrade:/i.test(l) || /^Sec-WebSocket-Accept:/i.test(l))).toBe(false)
    expect(s.connections).toHaveLength(0)
  })

  it('answers 403 without a challenge for a refused origin', async () => {
    const s = await serve({ jwt: issuer.options, origins })
    const res = await rawExchange(s.port, upgradeHead('/live', ['Origin: https://evil.example']))
    const lines = res.head.split('\r\n')
    expect(lines[0]).toBe('HTTP/1.1 403 Forbidden')
    expect(lines.some((l) => l.startsWith('WWW-Authenticate'))).toBe(false)
    expect(JSON.parse(res.body)).toEqual({ error: 'origin_rejected', message: 'The request origin is not allowed.' })
  })

  it('answers 503 when the principal look-up fails', async () => {
    const s = await serve({
      jwt: issuer.options,
      origins,
      principal: () => {
        throw new Error('database down')
      },
    })
    const token = issuer.sign({ sub: 'alice' }, { expiresIn: '1h' })
    const outcome = await attempt(s, '/live', { origin: page, headers: { Authorization: `Bearer ${token}` } })
    expect(outcome).toMatchObject({ kind: 'http', status: 503 })
    if (outcome.kind === 'http') expect(JSON.parse(outcome.body)).toMatchObject({ error: 'auth_unavailable' })
  })

  it('adds the hint to the body only with exposeHints', async () => {
    const s = await serve({ jwt: issuer.options, origins, exposeHints: true })
    const outcome = await attempt(s, '/live', { origin: page })
    expect(outcome.kind === 'http' && JSON.parse(outcome.body)).toMatchObject({ error: 'credentials_missing', hint: expect.stringContaining('Authorization') })
  })
})

describe("reject: 'close'", () => {
  it('completes the upgrade, then closes with 4401 and the deny code before any message', async () => {
    const s = await serve({ jwt: issuer.options, origins }, { reject: 'close' })
    const outcome = await attempt(s, '/live', { origin: page, protocols: ['gatehouse'] })
    expect(outcome).toMatchObject({ kind: 'closed', code: 4401, reason: 'credentials_missing', messages: [] })
    expect(outcome.kind === 'closed' && outcome.upgradeHeaders?.['sec-websocket-protocol']).toBe('gatehouse')
    expect(s.connections).toHaveLength(0)
  })

  it('closes a refused origin with 4403 origin_rejected', async () => {
    const s = await serve({ jwt: issuer.options, origins }, { reject: 'close' })
    const token = issuer.sign({ sub: 'alice' }, { expiresIn: '1h' })
    expect(await attempt(s, '/live', { origin: 'https://evil.example', headers: { Authorization: `Bearer ${token}` } })).toMatchObject({
      kind: 'closed',
      code: 4403,
      reason: 'origin_rejected',
      messages: [],
    })
    expect(s.connections).toHaveLength(0)
  })

  it('closes with 4403 insufficient_role when a rule needs a role the user lacks', async () => {
    const s = await serve({ jwt: issuer.options, origins, rules: [{ match: '/admin/**', roles: ['admin'] }] }, { reject: 'close' })
    const token = issuer.sign({ sub: 'alice', roles: ['user'] }, { expiresIn: '1h' })
    expect(await attempt(s, '/admin/feed', { origin: page, headers: { Authorization: `Bearer ${token}` } })).toMatchObject({ kind: 'closed', code: 4403, reason: 'insufficient_role' })
  })

  it('closes with 1011 auth_unavailable on a 503', async () => {
    const s = await serve(
      {
        jwt: issuer.options,
        origins,
        principal: () => {
          throw new Error('database down')
        },
      },
      { reject: 'close' },
    )
    const token = issuer.sign({ sub: 'alice' }, { expiresIn: '1h' })
    expect(await attempt(s, '/live', { origin: page, headers: { Authorization: `Bearer ${token}` } })).toMatchObject({ kind: 'closed', code: 1011, reason: 'auth_unavailable', messages: [] })
  })

  it('does not deliver what a refused client sends before the close', async () => {
    const s = await serve({ jwt: issuer.options, origins }, { reject: 'close' })
    const received: unknown[] = []
    s.wss.on('connection', (ws) => ws.on('message', (m) => received.push(m)))
    const ws = new WebSocket(`${s.url}/live`, { origin: page })
    ws.on('open', () => ws.send('hello?'))
    const [code, reason] = await once(ws, 'close')
    expect([code, String(reason)]).toEqual([4401, 'credentials_missing'])
    expect(received).toEqual([])
    expect(s.connections).toHaveLength(0)
  })

  it('admits allowed upgrades exactly as in http mode', async () => {
    const s = await serve({ jwt: issuer.options, origins }, { reject: 'close' })
    const token = issuer.sign({ sub: 'alice' }, { expiresIn: '1h' })
    const outcome = await attempt(s, '/live', { origin: page, headers: { Authorization: `Bearer ${token}` } })
    expect(outcome).toMatchObject({ kind: 'open', hello: { id: 'alice', via: 'bearer' } })
    const server = s.connections[0]
    expect(server && getAuth(server.ws)).toBe(server?.req.auth)
  })
})
