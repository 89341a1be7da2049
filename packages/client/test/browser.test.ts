import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Auth, createAuth } from '@gatehouse/core'
import { createTestIssuer } from '@gatehouse/core/testing'
import { gatehouse } from '@gatehouse/express'
import { createUpgradeHandler, handleProtocols, type UpgradeHandler } from '@gatehouse/ws'
import express from 'express'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { hasChromium, launchChromium } from '../../../test/browser/chromium'
import { bundleClient } from './bundle'

type Client = typeof import('../src/index')

/** Every request either server received, as the server saw it, with the status it was answered with. */
interface Hit {
  origin: 'app' | 'other'
  method: string
  path: string
  headers: IncomingHttpHeaders
  status?: number
}

/** What gatehouse decided, as `onDecision` reported it. */
interface Judged {
  method: string
  path: string
  upgrade: boolean
  code: string
}

/** One WebSocket handshake the app's `ws` server answered: what was offered, what it sent back. */
interface Handshake {
  origin: string | undefined
  offered: string | undefined
  response: string[]
}

const issuer = createTestIssuer({ alg: 'HS256' })
/** What the page's cookie holds when it loads: gatehouse answers it with 401 `token_expired`. */
const expired = issuer.sign({ sub: 'user-1' }, { expiresIn: -60 })

const hits: Hit[] = []
const judged: Judged[] = []
const handshakes: Handshake[] = []
const state = { refreshes: 0, issued: [] as string[], connections: 0 }

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)))
}

function close(server: Server | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve()
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

/** A page that loads the bundled client from its own origin and exposes it as `window.gatehouse`. */
const html = `<!doctype html><script type="module">import * as client from '/client.js'; window.gatehouse = client</script>`

describe.skipIf(!hasChromium())('@gatehouse/client in Chromium against a gatehouse-protected server', () => {
  let browser: Browser
  let appPage: Page
  let appServer: Server
  let otherServer: Server
  let appOrigin: string
  let otherOrigin: string
  let auth: Auth
  let wss: WebSocketServer
  let upgrade: UpgradeHandler

  /** Replaces the page's `client_token` cookie, as a login or an expiry would. */
  const setCookie = (token: string) =>
    appPage.evaluate((value) => {
      document.cookie = `client_token=${value}; Path=/; SameSite=Strict`
    }, token)

  beforeAll(async () => {
    const client = await bundleClient()

    // The second origin lets any header through CORS, so a wrongly attached token would reach it.
    // It also serves a page with the client, to open a WebSocket to the app from a foreign origin.
    otherServer = createServer((req, res) => {
      hits.push({ origin: 'other', method: req.method ?? '', path: req.url ?? '', headers: req.headers })
      if (req.url === '/') {
        res.writeHead(200, { 'content-type': 'text/html' })
        return void res.end(html)
      }
      if (req.url === '/client.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' })
        return void res.end(client)
      }
      res.writeHead(req.method === 'OPTIONS' ? 204 : 200, {
        'access-control-allow-origin': '*',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-allow-methods': 'GET, POST',
      })
      res.end('other')
    })
    otherOrigin = await listen(otherServer)

    // The app's origin is part of its auth policy, so the server listens before the app exists.
    appServer = createServer()
    appOrigin = await listen(appServer)
    auth = createAuth({
      jwt: issuer.options,
      public: ['GET /', 'GET /client.js', 'POST /api/refresh'],
      origins: { allow: [appOrigin] },
      onDecision: ({ method, path, upgrade, decision }) => judged.push({ method, path, upgrade, code: decision.ok ? 'allow' : decision.code }),
    })

    const app = express()
    app.use((req, res, next) => {
      if (req.path.startsWith('/api/')) {
        const hit: Hit = { origin: 'app', method: req.method, path: req.originalUrl, headers: req.headers }
        hits.push(hit)
        res.on('finish', () => (hit.status = res.statusCode))
      }
      next()
    })
    app.use(gatehouse(auth))
    app.get('/', (_req, res) => {
      res.cookie('client_token', expired, { path: '/', sameSite: 'strict' })
      res.type('html').send(html)
    })
    app.get('/client.js', (_req, res) => void res.type('text/javascript').send(client))
    app.post('/api/refresh', (_req, res) => {
      state.refreshes++
      const token = issuer.sign({ sub: 'user-1' })
      state.issued.push(token)
      res.cookie('client_token', token, { path: '/', sameSite: 'strict' })
      res.json({ token })
    })
    app.get('/api/to-other', (_req, res) => res.redirect(302, `${otherOrigin}/redirected`))
    app.get('/api/{*rest}', (req, res) => void res.json({ path: req.path, sub: req.auth?.principal?.id }))
    appServer.on('request', app)

    wss = new WebSocketServer({ noServer: true, handleProtocols })
    wss.on('headers', (response, req) => {
      handshakes.push({ origin: req.headers.origin, offered: req.headers['sec-websocket-protocol'], response: [...response] })
    })
    wss.on('connection', (ws, req) => {
      state.connections++
      ws.send(`hello ${req.auth?.principal?.id}`)
    })
    upgrade = createUpgradeHandler({ auth, wss, reject: 'close' })
    appServer.on('upgrade', upgrade)

    browser = await launchChromium()
    appPage = await browser.newPage()
    appPage.setDefaultTimeout(10_000)
    await appPage.goto(`${appOrigin}/`)
    await appPage.waitForFunction(() => 'gatehouse' in window)
  })

  afterAll(async () => {
    await browser?.close()
    upgrade?.close()
    for (const ws of wss?.clients ?? []) ws.terminate()
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()))
    await auth?.close()
    await Promise.all([close(appServer), close(otherServer)])
  })

  it('sends the token read with fromCookie to the API origin, where gatehouse verifies it', async () => {
    const valid = issuer.sign({ sub: 'cookie-user' })
    await setCookie(expired)
    hits.length = judged.length = 0
    const result = await appPage.evaluate(async (valid) => {
      const { createAuthFetch, fromCookie } = (window as unknown as { gatehouse: Client }).gatehouse
      const api = createAuthFetch({ token: fromCookie('client_token') })
      const refused = await api('/api/me')
      const before = { status: refused.status, wwwAuthenticate: refused.headers.get('www-authenticate'), body: await refused.json() }
      document.cookie = `client_token=${valid}; Path=/; SameSite=Strict`
      const accepted = await api('/api/me')
      return { before, after: { status: accepted.status, body: await accepted.json() } }
    }, valid)

    // Without a refresh function the 401 reaches the caller: it is gatehouse's, not a stand-in.
    expect(result.before).toEqual({
      status: 401,
      wwwAuthenticate: 'Bearer realm="gatehouse", error="invalid_token"',
      body: { error: 'token_expired', message: expect.any(String) },
    })
    expect(result.after).toEqual({ status: 200, body: { path: '/api/me', sub: 'cookie-user' } })
    expect(hits.map((h) => [h.path, h.headers.authorization, h.status])).toEqual([
      ['/api/me', `Bearer ${expired}`, 401],
      ['/api/me', `Bearer ${valid}`, 200],
    ])
    expect(judged).toEqual([
      { method: 'GET', path: '/api/me', upgrade: false, code: 'token_expired' },
      { method: 'GET', path: '/api/me', upgrade: false, code: 'allow' },
    ])
  })

  it('never sends an Authorization header to the second origin, not even after a redirect from the API', async () => {
    const valid = issuer.sign({ sub: 'user-1' })
    await setCookie(valid)
    hits.length = 0
    const statuses = await appPage.evaluate(async (otherOrigin) => {
      const { createAuthFetch, fromCookie } = (window as unknown as { gatehouse: Client }).gatehouse
      const api = createAuthFetch({ token: fromCookie('client_token') })
      const schemeRelative = otherOrigin.replace(/^http:/, '')
      const responses = await Promise.all([api(`${otherOrigin}/direct`), api(`${schemeRelative}/scheme-relative`), api('/api/to-other'), api(new Request(`${otherOrigin}/request`))])
      return responses.map((r) => r.status)
    }, otherOrigin)
    expect(statuses).toEqual([200, 200, 200, 200])
    const toOther = hits.filter((h) => h.origin === 'other')
    expect(toOther.map((h) => h.path).sort()).toEqual(['/direct', '/redirected', '/request', '/scheme-relative'])
    expect(toOther.filter((h) => 'authorization' in h.headers)).toEqual([])
    // The redirect started on the API origin, where gatehouse accepted the token: it was stripped on the way.
    expect(hits.filter((h) => h.origin === 'app').map((h) => [h.path, h.headers.authorization, h.status])).toEqual([['/api/to-other', `Bearer ${valid}`, 302]])
  })

  it('answers ten concurrent token_expired 401s from gatehouse with exactly one refresh', async () => {
    await setCookie(expired)
    state.refreshes = 0
    state.issued.length = 0
    hits.length = judged.length = 0
    const result = await appPage.evaluate(async () => {
      const { createAuthFetch, fromCookie } = (window as unknown as { gatehouse: Client }).gatehouse
      // What the page itself received for each attempt, before the client retried it.
      const refused: Array<{ wwwAuthenticate: string | null; body: unknown }> = []
      const api = createAuthFetch({
        token: fromCookie('client_token'),
        fetch: async (input, init) => {
          const res = await fetch(input, init)
          if (res.status === 401) refused.push({ wwwAuthenticate: res.headers.get('www-authenticate'), body: await res.clone().json() })
          return res
        },
        refresh: async () => {
          const res = await api('/api/refresh', { method: 'POST', auth: false })
          return res.ok ? ((await res.json()) as { token: string }).token : null
        },
      })
      const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => api(`/api/items/${i}`)))
      return {
        statuses: responses.map((r) => r.status),
        subs: await Promise.all(responses.map(async (r) => ((await r.json()) as { sub: string }).sub)),
        refused,
        cookie: fromCookie('client_token')(),
        locks: 'locks' in navigator,
      }
    })

    expect(result.statuses).toEqual(Array(10).fill(200))
    expect(result.subs).toEqual(Array(10).fill('user-1'))
    expect(state.refreshes).toBe(1)
    const [fresh] = state.issued
    expect(result.cookie).toBe(fresh)
    expect(result.refused).toEqual(
      Array(10).fill({ wwwAuthenticate: 'Bearer realm="gatehouse", error="invalid_token"', body: { error: 'token_expired', message: expect.any(String) } }),
    )

    const items = hits.filter((h) => h.path.startsWith('/api/items/'))
    const expiredTries = items.filter((h) => h.headers.authorization === `Bearer ${expired}`)
    const freshTries = items.filter((h) => h.headers.authorization === `Bearer ${fresh}`)
    expect(items).toHaveLength(20)
    expect(expiredTries.map((h) => h.status)).toEqual(Array(10).fill(401))
    expect(freshTries.map((h) => h.status)).toEqual(Array(10).fill(200))
    expect(new Set(freshTries.map((h) => h.path))).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `/api/items/${i}`)))
    const itemCodes = judged.filter((j) => j.path.startsWith('/api/items/')).map((j) => j.code)
    expect(itemCodes.filter((c) => c === 'token_expired')).toHaveLength(10)
    expect(itemCodes.filter((c) => c === 'allow')).toHaveLength(10)
    // The refresh call opted out of the token; gatehouse let it through as a public route.
    expect(hits.filter((h) => h.path === '/api/refresh').map((h) => [h.headers.authorization, h.status])).toEqual([[undefined, 200]])
    // The refresh went through Web Locks, which Chromium offers on this secure origin.
    expect(result.locks).toBe(true)
  })

  it('opens a WebSocket through api.ws that gatehouse accepts, without echoing the token', async () => {
    const valid = issuer.sign({ sub: 'socket-user' })
    await setCookie(valid)
    handshakes.length = judged.length = 0
    const before = state.connections
    const result = await appPage.evaluate(async () => {
      const { createAuthFetch, fromCookie } = (window as unknown as { gatehouse: Client }).gatehouse
      const api = createAuthFetch({ token: fromCookie('client_token') })
      const socket = api.ws('/ws')
      return new Promise<{ greeting: unknown; protocol: string | undefined }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no greeting within 5 s')), 5_000)
        socket.on('message', (event) => {
          clearTimeout(timer)
          resolve({ greeting: event.data, protocol: socket.socket?.protocol })
          socket.close(1000)
        })
        socket.on('close', (event) => {
          clearTimeout(timer)
          reject(new Error(`closed before a greeting: ${event.code} ${event.reason}`))
        })
      })
    })

    expect(result).toEqual({ greeting: 'hello socket-user', protocol: 'gatehouse' })
    expect(state.connections).toBe(before + 1)
    expect(judged).toEqual([{ method: 'GET', path: '/ws', upgrade: true, code: 'allow' }])
    expect(handshakes).toHaveLength(1)
    const [handshake] = handshakes
    expect(handshake?.origin).toBe(appOrigin)
    expect(handshake?.offered).toBe(`gatehouse, gatehouse.bearer.${valid}`)
    // The 101 selects the marker protocol; the token offered beside it never comes back.
    expect(handshake?.response.filter((line) => /^sec-websocket-protocol:/i.test(line))).toEqual(['Sec-WebSocket-Protocol: gatehouse'])
    expect(handshake?.response.filter((line) => line.includes(valid))).toEqual([])
  })

  it('refuses a WebSocket opened from the second origin with 4403 origin_rejected', async () => {
    const valid = issuer.sign({ sub: 'socket-user' })
    const otherPage = await browser.newPage()
    otherPage.setDefaultTimeout(10_000)
    await otherPage.goto(`${otherOrigin}/`)
    await otherPage.waitForFunction(() => 'gatehouse' in window)
    handshakes.length = judged.length = 0
    const before = state.connections
    const result = await otherPage.evaluate(
      async ({ appOrigin, valid }) => {
        const { createAuthFetch } = (window as unknown as { gatehouse: Client }).gatehouse
        type Outcome = { code: number; reason: string; messages: unknown[] }
        const deadline = (what: string) => new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not close within 5 s`)), 5_000))

        const throughClient = new Promise<Outcome>((resolve) => {
          const messages: unknown[] = []
          const socket = createAuthFetch({ baseUrl: appOrigin, token: () => valid }).ws('/ws')
          socket.on('message', (event) => messages.push(event.data))
          socket.on('close', (event) => resolve({ code: event.code, reason: event.reason, messages }))
        })
        const plain = new Promise<Outcome>((resolve) => {
          const messages: unknown[] = []
          const socket = new WebSocket(`${appOrigin.replace(/^http/, 'ws')}/ws`, ['gatehouse', `gatehouse.bearer.${valid}`])
          socket.addEventListener('message', (event) => messages.push(event.data))
          socket.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason, messages }))
        })
        return Promise.all([Promise.race([throughClient, deadline('api.ws')]), Promise.race([plain, deadline('new WebSocket')])])
      },
      { appOrigin, valid },
    )

    expect(result).toEqual([
      { code: 4403, reason: 'origin_rejected', messages: [] },
      { code: 4403, reason: 'origin_rejected', messages: [] },
    ])
    expect(state.connections).toBe(before)
    expect(judged).toEqual([
      { method: 'GET', path: '/ws', upgrade: true, code: 'origin_rejected' },
      { method: 'GET', path: '/ws', upgrade: true, code: 'origin_rejected' },
    ])
    expect(handshakes.map((h) => h.origin)).toEqual([otherOrigin, otherOrigin])
    expect(handshakes.flatMap((h) => h.response).filter((line) => line.includes(valid))).toEqual([])
  })
})
