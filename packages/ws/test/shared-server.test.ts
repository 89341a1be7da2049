import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Auth, createAuth } from '@gatehouse/core'
import { createTestIssuer } from '@gatehouse/core/testing'
import { gatehouse } from '@gatehouse/express'
import { createUpgradeHandler, getAuth, handleProtocols } from '@gatehouse/ws'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { connect, hangUp, type Outcome } from './helpers.js'

// One policy object, one port: Express answers HTTP through auth.check, ws answers upgrades
// through auth.checkUpgrade. CORS middleware would never see the upgrade; the origin policy does.
const issuer = createTestIssuer({ alg: 'HS256' })
const auth = createAuth({
  jwt: issuer.options,
  public: ['/health'],
  rules: [{ match: '/admin/**', roles: ['admin'] }],
  origins: { allow: ['https://app.example.com'], allowMissing: true },
}) as Auth

const app = express()
app.use(gatehouse(auth))
app.get('/health', (_req, res) => void res.json({ ok: true }))
app.get('/api/me', (req, res) => void res.json({ id: req.auth?.principal?.id }))
app.get('/admin/stats', (_req, res) => void res.json({ sockets: wss.clients.size }))

const server = http.createServer(app)
const wss = new WebSocketServer({ noServer: true, handleProtocols })
const upgrade = createUpgradeHandler({ auth, wss })
server.on('upgrade', upgrade)
wss.on('connection', (ws) => ws.send(JSON.stringify({ id: getAuth(ws)?.principal?.id, via: getAuth(ws)?.via, protocol: ws.protocol })))

let base = ''
const outcomes: Outcome[] = []
beforeAll(async () => {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  for (const o of outcomes) await hangUp(o)
  upgrade.close()
  await auth.close()
  await new Promise<void>((resolve) => wss.close(() => resolve()))
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

const alice = issuer.sign({ sub: 'alice', roles: ['user'] }, { expiresIn: '1h' })
const admin = issuer.sign({ sub: 'root', roles: ['admin'] }, { expiresIn: '1h' })
const get = (path: string, token?: string) => fetch(`http://${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
const ws = async (path: string, options: Parameters<typeof connect>[1]) => {
  const o = await connect(`ws://${base}${path}`, options)
  outcomes.push(o)
  return o
}

describe('Express and ws on one http.Server with one policy', () => {
  it('serves public and protected HTTP routes through auth.check', async () => {
    expect((await get('/health')).status).toBe(200)
    const anonymous = await get('/api/me')
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse"')
    expect(await anonymous.json()).toEqual({ error: 'credentials_missing', message: 'Authentication required.' })
    expect(await (await get('/api/me', alice)).json()).toEqual({ id: 'alice' })
    expect((await get('/admin/stats', alice)).status).toBe(403)
    expect((await get('/admin/stats', admin)).status).toBe(200)
  })

  it('authenticates WebSocket upgrades on the same port with the same rules', async () => {
    expect(await ws('/api/live', { origin: 'https://app.example.com', protocols: ['gatehouse', `gatehouse.bearer.${alice}`] })).toMatchObject({
      kind: 'open',
      hello: { id: 'alice', via: 'bearer', protocol: 'gatehouse' },
    })
    expect(await ws('/api/live', { origin: 'https://app.example.com' })).toMatchObject({ kind: 'http', status: 401 })
    expect(await ws('/admin/live', { headers: { Authorization: `Bearer ${alice}` } })).toMatchObject({ kind: 'http', status: 403 })
    expect(await ws('/admin/live', { headers: { Authorization: `Bearer ${admin}` } })).toMatchObject({ kind: 'open', hello: { id: 'root' } })
  })

  it('applies the origin policy to upgrades even to a public path, where a CORS middleware would never run', async () => {
    expect(await ws('/health', { origin: 'https://evil.example' })).toMatchObject({ kind: 'http', status: 403 })
    expect(await ws('/health', { origin: 'https://app.example.com' })).toMatchObject({ kind: 'open', hello: { via: 'public' } })
  })

  it('keeps HTTP working while sockets are open', async () => {
    const live = await ws('/api/live', { headers: { Authorization: `Bearer ${alice}` } })
    expect(live.kind).toBe('open')
    expect(await (await get('/admin/stats', admin)).json()).toMatchObject({ sockets: expect.any(Number) })
    expect(wss.clients.size).toBeGreaterThan(0)
  })
})
