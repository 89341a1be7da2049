import { once } from 'node:events'
import { type Auth, type AuthOptions, createAuth } from '@gatehouse/core'
import { createTestIssuer } from '@gatehouse/core/testing'
import { getAuth } from '@gatehouse/ws'
import { afterEach, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'
import { activeTimeouts, connect, cookiePair, hangUp, type Outcome, sleep, startServer, type TestServer } from './helpers.js'

const issuer = createTestIssuer({ alg: 'HS256' })
const origins = { allow: ['https://app.example.com'], allowMissing: true }
const SESSION_SECRET = 'ws-adapter-test-secret-0123456789abcdef'

const servers: TestServer[] = []
const outcomes: Outcome[] = []
async function serve(options: AuthOptions, handler: Parameters<typeof startServer>[1] = {}) {
  const auth = createAuth(options) as Auth
  const s = await startServer(auth, handler)
  servers.push(s)
  return Object.assign(s, { auth })
}
async function open(s: TestServer, headers: Record<string, string>): Promise<WebSocket> {
  const outcome = await connect(`${s.url}/live`, { headers })
  outcomes.push(outcome)
  if (outcome.kind !== 'open') throw new Error(`expected the socket to open, got ${JSON.stringify(outcome)}`)
  return outcome.ws
}
function closeOf(ws: WebSocket): Promise<{ code: number; reason: string; at: number }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason), at: Date.now() })))
}
afterEach(async () => {
  for (const o of outcomes.splice(0)) await hangUp(o)
  for (const s of servers.splice(0)) await s.close()
})

describe('expiry of open sockets', () => {
  it('closes a live socket with 4401 token_expired when its exp passes', async () => {
    const s = await serve({ jwt: issuer.options, origins })
    const token = issuer.sign({ sub: 'alice' }, { expiresIn: '2s' })
    const exp = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).exp as number
    const ws = await open(s, { Authorization: `Bearer ${token}` })
    const messages: string[] = []
    ws.on('message', (m) => messages.push(String(m)))
    s.connections[0]?.ws.send('still here')
    const closed = await closeOf(ws)
    expect(closed).toMatchObject({ code: 4401, reason: 'token_expired' })
    expect(closed.at).toBeGreaterThanOrEqual(exp * 1000)
    expect(closed.at).toBeLessThan(exp * 1000 + 1500)
    expect(messages).toEqual(['still here'])
  })

  it('closes a live socket with 4401 session_expired when its session times out', async () => {
    const s = await serve({ session: { secret: SESSION_SECRET, ttl: 2, absoluteTtl: 60 }, origins })
    const { session, setCookie } = await (s.auth.sessions as NonNullable<Auth['sessions']>).create({ userId: 'bob' })
    const ws = await open(s, { Cookie: cookiePair(setCookie) })
    const deadline = getAuth(s.connections[0]?.ws as WebSocket)?.session?.expiresAt ?? session.expiresAt
    const closed = await closeOf(ws)
    expect(closed).toMatchObject({ code: 4401, reason: 'session_expired' })
    expect(closed.at).toBeGreaterThanOrEqual(deadline)
  })

  it('leaves sockets open past exp with enforceExpiry: false', async () => {
    const s = await serve({ jwt: issuer.options, origins }, { enforceExpiry: false })
    const ws = await open(s, { Authorization: `Bearer ${issuer.sign({ sub: 'alice' }, { expiresIn: '1s' })}` })
    await sleep(2100)
    expect(ws.readyState).toBe(ws.OPEN)
  })
})

describe('re-validation (revalidateEvery)', () => {
  it('closes with 4401 session_invalid soon after the session is destroyed', async () => {
    const s = await serve({ session: { secret: SESSION_SECRET }, origins }, { revalidateEvery: 0.1 })
    const sessions = s.auth.sessions as NonNullable<Auth['sessions']>
    const { session, setCookie } = await sessions.create({ userId: 'bob' })
    const ws = await open(s, { Cookie: cookiePair(setCookie) })
    await sleep(350)
    expect(ws.readyState).toBe(ws.OPEN)
    const closing = closeOf(ws)
    const destroyedAt = Date.now()
    await sessions.destroy(session.id)
    const closed = await closing
    expect(closed).toMatchObject({ code: 4401, reason: 'session_invalid' })
    expect(closed.at - destroyedAt).toBeLessThan(1000)
  })

  it('closes with 4401 token_revoked when isRevoked starts answering true', async () => {
    const revoked = new Set<string>()
    const s = await serve({ jwt: { ...issuer.options, isRevoked: (claims) => revoked.has(String(claims.jti)) }, origins }, { revalidateEvery: 0.1 })
    const ws = await open(s, { Authorization: `Bearer ${issuer.sign({ sub: 'alice', jti: 't-1' }, { expiresIn: '1h' })}` })
    await sleep(250)
    expect(ws.readyState).toBe(ws.OPEN)
    revoked.add('t-1')
    expect(await closeOf(ws)).toMatchObject({ code: 4401, reason: 'token_revoked' })
  })
})

describe('timers', () => {
  it('leaves no timer behind once sockets close, whoever closes them', async () => {
    const s = await serve({ jwt: issuer.options, origins }, { revalidateEvery: '1h' })
    const token = issuer.sign({ sub: 'alice' }, { expiresIn: '1h' })
    const baseline = await activeTimeouts()
    const clients = await Promise.all(Array.from({ length: 6 }, () => open(s, { Authorization: `Bearer ${token}` })))
    // One expiry and one re-validation timer per socket.
    expect((await activeTimeouts()) - baseline).toBe(12)
    const closes = clients.map((ws) => once(ws, 'close'))
    clients.slice(0, 3).forEach((ws) => ws.close(1000))
    s.connections.slice(3).forEach(({ ws }) => ws.close(1000))
    await Promise.all(closes)
    await sleep(20)
    expect((await activeTimeouts())).toBe(baseline)
  })

  it('handler.close() clears every timer while the sockets stay open', async () => {
    const s = await serve({ jwt: issuer.options, origins })
    const token = issuer.sign({ sub: 'alice' }, { expiresIn: '1h' })
    const baseline = await activeTimeouts()
    const clients = await Promise.all(Array.from({ length: 4 }, () => open(s, { Authorization: `Bearer ${token}` })))
    expect((await activeTimeouts()) - baseline).toBe(4)
    s.handler.close()
    expect((await activeTimeouts())).toBe(baseline)
    for (const ws of clients) expect(ws.readyState).toBe(ws.OPEN)
  })

  it('waits out a 40-day token with one capped timer instead of overflowing setTimeout', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.name)
    process.on('warning', onWarning)
    const s = await serve({ jwt: issuer.options, origins })
    const baseline = await activeTimeouts()
    const ws = await open(s, { Authorization: `Bearer ${issuer.sign({ sub: 'alice' }, { expiresIn: '40d' })}` })
    await sleep(50)
    process.off('warning', onWarning)
    // Handed to setTimeout as is, 40 days would overflow to 1 ms: a warning, and a timer spinning every millisecond.
    expect(warnings).not.toContain('TimeoutOverflowWarning')
    expect(ws.readyState).toBe(ws.OPEN)
    expect((await activeTimeouts()) - baseline).toBe(1)
  })
})
