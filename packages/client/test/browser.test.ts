import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasChromium, launchChromium } from '../../../test/browser/chromium'
import { bundleClient } from './bundle'

type Client = typeof import('../src/index')

/** Every request either server received, as the server saw it. */
interface Hit {
  origin: 'app' | 'other'
  method: string
  path: string
  authorization: string | undefined
}

const hits: Hit[] = []
/** The one token the API accepts at the moment; rotated by the test to simulate expiry. */
const state = { valid: 'tok.one', refreshes: 0 }

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<[Server, string]> {
  const server = createServer(handler)
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve([server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`])))
}

describe.skipIf(!hasChromium())('@gatehouse/client in Chromium', () => {
  let browser: Browser
  let page: Page
  let app: Server
  let other: Server
  let appOrigin: string
  let otherOrigin: string

  beforeAll(async () => {
    const client = await bundleClient()
    // The second origin lets any header through CORS, so a wrongly attached token would reach it.
    ;[other, otherOrigin] = await listen((req, res) => {
      hits.push({ origin: 'other', method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization })
      res.writeHead(req.method === 'OPTIONS' ? 204 : 200, {
        'access-control-allow-origin': '*',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-allow-methods': 'GET, POST',
      })
      res.end('other')
    })
    ;[app, appOrigin] = await listen((req, res) => {
      const path = req.url ?? '/'
      if (path.startsWith('/api/')) hits.push({ origin: 'app', method: req.method ?? '', path, authorization: req.headers.authorization })
      if (path === '/') {
        res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': `client_token=${encodeURIComponent(state.valid)}; Path=/; SameSite=Strict` })
        res.end(`<!doctype html><script type="module">import * as client from '/client.js'; window.gatehouse = client</script>`)
      } else if (path === '/client.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' })
        res.end(client)
      } else if (path === '/api/refresh' && req.method === 'POST') {
        state.refreshes++
        state.valid = 'tok.fresh'
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': `client_token=${state.valid}; Path=/; SameSite=Strict` })
        res.end(JSON.stringify({ token: state.valid }))
      } else if (path === '/api/to-other') {
        res.writeHead(302, { location: `${otherOrigin}/redirected` })
        res.end()
      } else if (req.headers.authorization === `Bearer ${state.valid}`) {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ path }))
      } else {
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="api", error="invalid_token"' })
        res.end()
      }
    })
    browser = await launchChromium()
    page = await browser.newPage()
    await page.goto(`${appOrigin}/`)
    await page.waitForFunction(() => 'gatehouse' in window)
  })

  afterAll(async () => {
    await browser?.close()
    await Promise.all([app, other].map((s) => s && new Promise((resolve) => s.close(resolve))))
  })

  it('sends the token read with fromCookie to the API origin', async () => {
    hits.length = 0
    const status = await page.evaluate(async () => {
      const { createAuthFetch, fromCookie } = (window as unknown as { gatehouse: Client }).gatehouse
      const api = createAuthFetch({ token: fromCookie('client_token') })
      return (await api('/api/me')).status
    })
    expect(status).toBe(200)
    expect(hits).toEqual([{ origin: 'app', method: 'GET', path: '/api/me', authorization: 'Bearer tok.one' }])
  })

  it('never sends an Authorization header to the second origin', async () => {
    hits.length = 0
    const statuses = await page.evaluate(async (otherOrigin) => {
      const { createAuthFetch, fromCookie } = (window as unknown as { gatehouse: Client }).gatehouse
      const api = createAuthFetch({ token: fromCookie('client_token') })
      const schemeRelative = otherOrigin.replace(/^http:/, '')
      const responses = await Promise.all([api(`${otherOrigin}/direct`), api(`${schemeRelative}/scheme-relative`), api('/api/to-other'), api(new Request(`${otherOrigin}/request`))])
      return responses.map((r) => r.status)
    }, otherOrigin)
    expect(statuses).toEqual([200, 200, 200, 200])
    const toOther = hits.filter((h) => h.origin === 'other')
    expect(toOther.map((h) => h.path).sort()).toEqual(['/direct', '/redirected', '/request', '/scheme-relative'])
    expect(toOther.every((h) => h.authorization === undefined)).toBe(true)
    // The redirect started on the API origin, where the token was due: it was stripped on the way.
    expect(hits.find((h) => h.path === '/api/to-other')?.authorization).toBe('Bearer tok.one')
  })

  it('answers ten concurrent 401s with exactly one refresh', async () => {
    state.valid = 'tok.two'
    state.refreshes = 0
    hits.length = 0
    const result = await page.evaluate(async () => {
      const { createAuthFetch, fromCookie } = (window as unknown as { gatehouse: Client }).gatehouse
      const api = createAuthFetch({
        token: fromCookie('client_token'),
        refresh: async () => {
          const res = await api('/api/refresh', { method: 'POST', auth: false })
          return res.ok ? ((await res.json()) as { token: string }).token : null
        },
      })
      const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => api(`/api/items/${i}`)))
      return { statuses: responses.map((r) => r.status), locks: 'locks' in navigator }
    })
    expect(result.statuses).toEqual(Array(10).fill(200))
    expect(state.refreshes).toBe(1)
    const items = hits.filter((h) => h.path.startsWith('/api/items/'))
    expect(items.filter((h) => h.authorization === 'Bearer tok.one')).toHaveLength(10)
    expect(items.filter((h) => h.authorization === 'Bearer tok.fresh')).toHaveLength(10)
    expect(hits.find((h) => h.path === '/api/refresh')?.authorization).toBeUndefined()
    // The refresh went through Web Locks, which Chromium offers on this secure origin.
    expect(result.locks).toBe(true)
  })
})
