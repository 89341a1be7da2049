import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createTestIssuer } from '@gatehouse/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'

// The getting-started snippets read their configuration from the environment, as a service would,
// and start listening when imported: each is loaded here exactly as docs/getting-started.md shows it.
const env = { JWT_SECRET: randomBytes(32).toString('base64url'), SESSION_SECRET: randomBytes(32).toString('base64url'), PORT: '0' }
const issuer = createTestIssuer({ secret: env.JWT_SECRET, issuer: 'https://id.example.com', audience: 'api' })
const bearer = (claims: Record<string, unknown>) => ({ authorization: `Bearer ${issuer.sign(claims)}` })

async function load<T>(importer: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  Object.assign(process.env, env)
  try {
    return await importer()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

async function origin(server: Server): Promise<string> {
  if (!server.listening) await once(server, 'listening')
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function call(url: string, init: RequestInit = {}) {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000), ...init })
  const text = await res.text()
  return { status: res.status, text, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {}, cookies: res.headers.getSetCookie(), headers: res.headers }
}

describe('getting started: Express', () => {
  let snippet: typeof import('../snippets/express')
  let url: string

  beforeAll(async () => {
    snippet = await load(() => import('../snippets/express'))
    url = await origin(snippet.server)
  })
  afterAll(async () => {
    snippet?.server.close()
    await snippet?.auth.close()
  })

  it('keeps /health public and answers 401 credentials_missing without a token', async () => {
    expect((await call(`${url}/health`)).text).toBe('ok')
    const res = await call(`${url}/me`)
    expect(res.status).toBe(401)
    expect(res.body.error).toBe('credentials_missing')
    expect(res.body.hint).toBeUndefined()
  })

  it('accepts a token from the issuer and enforces the admin rule and the route guard', async () => {
    expect((await call(`${url}/me`, { headers: bearer({ sub: 'u1', roles: ['user'] }) })).body).toEqual({ principal: { id: 'u1', roles: ['user'], scopes: [] }, via: 'bearer' })
    expect((await call(`${url}/admin/reindex`, { method: 'POST', headers: bearer({ roles: ['user'] }) })).body.error).toBe('insufficient_role')
    expect((await call(`${url}/admin/reindex`, { method: 'POST', headers: bearer({ roles: ['admin'] }) })).status).toBe(202)
    expect((await call(`${url}/posts/7`, { method: 'DELETE', headers: bearer({ roles: ['user'] }) })).status).toBe(403)
    expect((await call(`${url}/posts/7`, { method: 'DELETE', headers: bearer({ roles: ['editor'] }) })).status).toBe(204)
    const wrongAudience = createTestIssuer({ secret: env.JWT_SECRET, issuer: 'https://id.example.com', audience: 'billing' })
    const res = await call(`${url}/me`, { headers: { authorization: `Bearer ${wrongAudience.sign()}` } })
    expect(res.body.error).toBe('token_audience_mismatch')
  })

  it('logs in with a session cookie and logs out', async () => {
    const json = { 'content-type': 'application/json', origin: 'http://localhost:5173' }
    expect((await call(`${url}/login`, { method: 'POST', headers: json, body: '{"username":"alice","password":"nope"}' })).status).toBe(401)
    const res = await call(`${url}/login`, { method: 'POST', headers: json, body: '{"username":"alice","password":"wonderland"}' })
    expect(res.status).toBe(204)
    const cookie = (res.cookies[0] as string).split(';')[0] as string
    expect((await call(`${url}/me`, { headers: { cookie } })).body).toMatchObject({ principal: { id: 'alice' }, via: 'session' })
    expect((await call(`${url}/logout`, { method: 'POST', headers: { cookie, origin: 'https://evil.example' } })).body.error).toBe('csrf_rejected')
    expect((await call(`${url}/logout`, { method: 'POST', headers: { cookie, origin: 'http://localhost:5173' } })).status).toBe(204)
    expect((await call(`${url}/me`, { headers: { cookie } })).body.error).toBe('session_invalid')
  })
})

describe('getting started: Fastify', () => {
  let snippet: typeof import('../snippets/fastify')

  beforeAll(async () => {
    snippet = await load(() => import('../snippets/fastify'))
  })
  afterAll(async () => {
    await snippet?.app.close()
    await snippet?.auth.close()
  })

  it('protects routes with the same policy', async () => {
    const { app } = snippet
    expect((await app.inject({ url: '/health' })).body).toBe('ok')
    const missing = await app.inject({ url: '/me' })
    expect(missing.statusCode).toBe(401)
    expect(missing.json()).toMatchObject({ error: 'credentials_missing' })
    expect((await app.inject({ url: '/me', headers: bearer({ sub: 'u2' }) })).json()).toEqual({ principal: { id: 'u2', roles: [], scopes: [] }, via: 'bearer' })
    expect((await app.inject({ method: 'POST', url: '/admin/reindex', headers: bearer({ roles: ['user'] }) })).json()).toMatchObject({ error: 'insufficient_role' })
    expect((await app.inject({ method: 'POST', url: '/admin/reindex', headers: bearer({ roles: ['admin'] }) })).statusCode).toBe(202)
  })

  it('enforces the per-route scope requirement', async () => {
    const { app } = snippet
    const denied = await app.inject({ url: '/reports', headers: bearer({ scope: 'profile' }) })
    expect(denied.statusCode).toBe(403)
    expect(denied.json()).toMatchObject({ error: 'insufficient_scope' })
    expect(denied.headers['www-authenticate']).toContain('error="insufficient_scope"')
    expect((await app.inject({ url: '/reports', headers: bearer({ scope: 'profile reports:read' }) })).statusCode).toBe(200)
  })

  it('is listening as written', async () => {
    const port = (snippet.app.server.address() as AddressInfo).port
    expect(port).toBeGreaterThan(0)
  })
})

describe('getting started: ws', () => {
  let snippet: typeof import('../snippets/ws')
  let url: string

  beforeAll(async () => {
    snippet = await load(() => import('../snippets/ws'))
    url = (await origin(snippet.server)).replace('http', 'ws')
  })
  afterAll(async () => {
    snippet?.server.closeAllConnections()
    snippet?.server.close()
    await snippet?.auth.close()
  })

  function open(protocols: string[], origin = 'http://localhost:5173') {
    const ws = new WebSocket(url, protocols, { headers: { origin } })
    ws.on('error', () => {})
    return ws
  }
  const next = async (ws: WebSocket, event: 'message' | 'close') => (await once(ws, event, { signal: AbortSignal.timeout(5000) })).map(String)

  it('admits the token offered in the subprotocol and selects the marker, never the token', async () => {
    const ws = open(['gatehouse', `gatehouse.bearer.${issuer.sign({ sub: 'carol' })}`])
    expect(await next(ws, 'message')).toEqual(['hello carol', 'false'])
    expect(ws.protocol).toBe('gatehouse')
    ws.send('ping')
    expect((await next(ws, 'message'))[0]).toBe('echo: ping')
    ws.close()
  })

  it('closes with 4401 without a token and 4403 for another origin', async () => {
    expect(await next(open([]), 'close')).toEqual(['4401', 'credentials_missing'])
    expect(await next(open(['gatehouse', `gatehouse.bearer.${issuer.sign()}`], 'https://evil.example'), 'close')).toEqual(['4403', 'origin_rejected'])
  })
})
