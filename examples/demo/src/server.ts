import { AsyncLocalStorage } from 'node:async_hooks'
import { createSecretKey, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { type AuthRequest, createAuth, createCsrfGuard, createOriginPolicy, type DecisionEvent, fingerprintKey, fromNodeRequest, readCookie } from '@gatehouse/core'
import { gatehouse, login } from '@gatehouse/express'
import { createUpgradeHandler, handleProtocols } from '@gatehouse/ws'
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express'
import { WebSocketServer } from 'ws'
import { createDecisionLog, credentialValues, type LogEntry, redactRequest, scrub } from './decision-log.js'
import { bundlePage } from './page-bundle.js'
import { type RecordedRequest, startSecondOrigin } from './second-origin.js'
import { ACCESS_TTL_SECONDS, accessCookie, clearTokenCookies, createTokenService, REFRESH_COOKIE, refreshCookie } from './tokens.js'
import { findUser, USERS, verifyPassword } from './users.js'

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** The port to listen on; `0` (the default) picks a free one. */
  port?: number
  /** The interface to listen on. Default `'127.0.0.1'`: the demo is for this machine only. */
  host?: string
  /** Receives one line per decision of the live log (the CLI prints them). */
  log?: (line: string) => void
}

/** A running demo. */
export interface Demo {
  /** The demo's origin, e.g. `http://127.0.0.1:3000`. */
  url: string
  /** The origin of the second server, which must never receive the token. */
  secondOrigin: string
  /** Fingerprints of this run's generated keys (never the keys), as `gatehouse fingerprint` prints them. */
  fingerprints: { jwt: string; session: string }
  /** What the second origin received on `/hello`, oldest first. */
  secondOriginRequests(): RecordedRequest[]
  /** Stops both servers, closes every socket and the auth engine. Idempotent. */
  close(): Promise<void>
}

/** Requests of the page's own plumbing (the log, its explanations, the status line): not shown in the log. */
const QUIET_PATHS = new Set(['/api/log', '/api/explain', '/events', '/api/whoami'])
const PAGE_HTML = readFileSync(new URL('../src/page/index.html', import.meta.url), 'utf8')
const MAX_NOTES = 50

/** What the decision log needs from the request being judged; carried through `auth.check` by AsyncLocalStorage. */
interface Pending {
  request: AuthRequest
  entry?: LogEntry
}

const time = (ms: number) => new Date(ms).toISOString().slice(11, 23)

/** One log entry as a line of text: `12:00:01.250 GET /api/me deny 401 credentials_missing: no credentials…`. */
export function formatEntry(e: LogEntry): string {
  const who = e.outcome === 'allow' ? ` via ${e.via}${e.user ? ` as ${e.user}` : ''}` : ''
  const code = e.code ? ` ${e.code}${e.hint ? `: ${e.hint}` : ''}` : ''
  return `${time(e.time)} ${e.upgrade ? 'WS ' : ''}${e.method} ${e.path} ${e.outcome} ${e.status}${who}${code}`
}

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

/**
 * Starts the demo: an Express 5 app protected by gatehouse (sessions in memory, a JWT secret and
 * a session secret generated for this run), the chat WebSocket behind `@gatehouse/ws`, the page,
 * the live decision log, and a second server on another port that plays another origin.
 *
 * @example
 * ```ts
 * const demo = await startDemo({ port: 0 })
 * console.log(demo.url)
 * await demo.close()
 * ```
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const host = options.host ?? '127.0.0.1'
  const pageScript = await bundlePage()
  const server = createServer()
  const port = await listen(server, options.port ?? 0, host)
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  let second: Awaited<ReturnType<typeof startSecondOrigin>>
  try {
    second = await startSecondOrigin(host, origin)
  } catch (error) {
    server.close()
    throw error
  }

  // Fresh secrets on every start: nothing to configure, nothing left behind, and two demos on
  // two ports never share keys.
  const jwtSecret = randomBytes(32).toString('base64url')
  const sessionSecret = randomBytes(32).toString('base64url')
  const tokens = createTokenService(jwtSecret)
  const log = createDecisionLog(100)
  const context = new AsyncLocalStorage<Pending>()
  if (options.log) {
    const print = options.log
    log.subscribe((entry) => print(formatEntry(entry)))
  }

  function onDecision(event: DecisionEvent): void {
    if (QUIET_PATHS.has(event.path)) return
    const pending = context.getStore()
    const entry = log.add(event, pending?.request)
    // An HTTP entry waits for the response, so it can show the status the route answered with.
    if (pending !== undefined && !event.upgrade) pending.entry = entry
    else log.publish(entry)
  }

  const auth = createAuth({
    jwt: tokens.jwt,
    session: { secret: sessionSecret },
    public: [
      'GET /',
      'GET /app.js',
      'GET /favicon.ico',
      'GET /api/public',
      'GET /api/log',
      'GET /api/explain',
      'GET /api/whoami',
      'GET /events',
      'POST /auth/login',
      'POST /auth/refresh',
      'POST /auth/logout',
    ],
    rules: [{ match: '/api/admin/**', roles: ['admin'] }],
    origins: { allow: [origin] },
    // The user table is the source of truth for roles, as a database would be: a token or a
    // session for a user who no longer exists is refused with 401 principal_rejected.
    principal: ({ claims, session }) => {
      const user = findUser(session ? session.userId : claims?.sub)
      return user ? { id: user.id, roles: [...user.roles], scopes: [] } : null
    },
    exposeHints: true,
    onDecision,
  })

  // The /auth endpoints are public to gatehouse but read cookies themselves, so they apply the
  // same CSRF rule gatehouse applies to cookie-authenticated requests.
  const csrf = createCsrfGuard(createOriginPolicy({ allow: [origin] }, { cookieCredentials: true }))
  const sameOrigin: RequestHandler = (req, res, next) => {
    const verdict = csrf.check(fromNodeRequest(req, req.originalUrl))
    if (verdict.ok) next()
    else res.status(403).json({ error: 'csrf_rejected', message: 'Cross-site request refused.', hint: verdict.hint })
  }

  const config = JSON.stringify({
    secondOrigin: second.url,
    accessTtlSeconds: ACCESS_TTL_SECONDS,
    users: USERS.map((u) => ({ id: u.id, roles: u.roles, password: u.password })),
  }).replace(/</g, '\\u003c')
  const page = PAGE_HTML.replace('/*CONFIG*/null', config)
  const notes: Array<{ id: number; by: string; text: string }> = []

  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  app.use((req, res, next) => {
    const pending: Pending = { request: fromNodeRequest(req, req.originalUrl) }
    res.once('close', () => {
      if (pending.entry === undefined) return
      if (pending.entry.outcome === 'allow') pending.entry.status = res.statusCode
      log.publish(pending.entry)
    })
    context.run(pending, next)
  })
  app.use(gatehouse(auth))

  app.get('/', (_req, res) => {
    res.type('html').set('cache-control', 'no-store').send(page)
  })
  app.get('/app.js', (_req, res) => {
    res.type('text/javascript').set('cache-control', 'no-store').send(pageScript)
  })
  app.get('/favicon.ico', (_req, res) => {
    res.status(204).end()
  })

  app.get('/api/public', (_req, res) => {
    res.json({ message: 'Anyone may read this.' })
  })
  app.get('/api/me', (req, res) => {
    const a = req.auth
    res.json({ id: a?.principal?.id, roles: a?.principal?.roles, via: a?.via })
  })
  app.post('/api/admin/notes', express.json({ limit: '4kb' }), (req, res) => {
    const text = typeof req.body?.text === 'string' ? req.body.text.slice(0, 200) : 'note'
    const note = { id: notes.length + 1, by: req.auth?.principal?.id ?? '?', text }
    notes.push(note)
    if (notes.length > MAX_NOTES) notes.shift()
    res.status(201).json(note)
  })

  app.get('/api/whoami', async (req, res) => {
    // The status line: what GET /api/me would decide for this browser right now. `explain`
    // fires no onDecision, so polling it keeps the log quiet.
    const { decision } = await auth.explain(fromNodeRequest(req, '/api/me'))
    // A rolled session's new cookie must reach the browser, or its expiry would lag the store's.
    if (decision.ok && decision.headers['set-cookie'] !== undefined) res.append('set-cookie', decision.headers['set-cookie'])
    if (!decision.ok) {
      res.json({ signedIn: false, code: decision.code })
      return
    }
    const expiresAt = decision.via === 'session' ? decision.session?.expiresAt : (decision.claims?.exp ?? 0) * 1000
    res.json({ signedIn: true, id: decision.principal?.id, roles: decision.principal?.roles, via: decision.via, expiresAt })
  })

  app.post('/auth/login', sameOrigin, express.json({ limit: '2kb' }), async (req: Request, res: Response) => {
    const { username, password, mode } = (req.body ?? {}) as Record<string, unknown>
    if (mode !== 'session' && mode !== 'token') {
      res.status(400).json({ error: 'bad_request', message: "mode must be 'session' or 'token'" })
      return
    }
    const user = verifyPassword(username, password)
    if (user === undefined) {
      res.status(401).json({ error: 'bad_credentials', message: 'Unknown user or wrong password.' })
      return
    }
    // One login at a time: end the other kind before starting this one.
    const request = fromNodeRequest(req, req.originalUrl)
    const clearSession = await auth.sessions.destroy(request)
    for (const value of readCookie(request.headers, REFRESH_COOKIE)) tokens.revokeRefresh(value)
    if (mode === 'session') {
      res.append('set-cookie', clearTokenCookies())
      await login(res, auth, { userId: user.id, roles: user.roles })
    } else {
      res.append('set-cookie', [clearSession, accessCookie(tokens.mintAccess(user)), refreshCookie(tokens.issueRefresh(user.id))])
    }
    res.json({ id: user.id, roles: user.roles, mode })
  })

  app.post('/auth/refresh', sameOrigin, (req, res) => {
    const values = readCookie(fromNodeRequest(req).headers, REFRESH_COOKIE)
    // Two refresh cookies mean one was planted; use neither.
    const rotated = values.length === 1 ? tokens.rotateRefresh(values[0]) : undefined
    const user = rotated && findUser(rotated.userId)
    if (rotated === undefined || user === undefined) {
      res.append('set-cookie', clearTokenCookies())
      res.status(401).json({ error: 'refresh_rejected', message: 'No valid refresh token: log in again.' })
      return
    }
    const token = tokens.mintAccess(user)
    res.append('set-cookie', [accessCookie(token), refreshCookie(rotated.refresh)])
    res.json({ token, expiresIn: ACCESS_TTL_SECONDS })
  })

  app.post('/auth/logout', sameOrigin, async (req, res) => {
    const request = fromNodeRequest(req, req.originalUrl)
    for (const value of readCookie(request.headers, REFRESH_COOKIE)) tokens.revokeRefresh(value)
    res.append('set-cookie', [await auth.sessions.destroy(request), ...clearTokenCookies()])
    res.status(204).end()
  })

  app.post('/auth/expire', (req, res) => {
    const user = findUser(req.auth?.principal?.id)
    if (req.auth?.via !== 'bearer' || user === undefined) {
      res.status(409).json({ error: 'not_token_login', message: 'Log in with tokens first: a session has no access token to expire.' })
      return
    }
    res.append('set-cookie', accessCookie(tokens.mintExpired(user)))
    res.json({ expired: true })
  })

  app.get('/api/log', (_req, res) => {
    res.set('cache-control', 'no-store').json(log.entries())
  })
  app.get('/api/explain', async (req, res) => {
    const id = Number(req.query.id)
    const stored = Number.isSafeInteger(id) ? log.request(id) : undefined
    if (stored === undefined) {
      res.status(404).json({ error: 'not_found', message: 'No such log entry: only the last 100 requests are kept.' })
      return
    }
    // The stored request keeps its real headers (explain needs them); what leaves the server is
    // redacted, and every text is scrubbed of the request's credential values as well.
    const { decision, steps } = await auth.explain(stored.request, { upgrade: stored.upgrade })
    const secrets = credentialValues(stored.request)
    res.set('cache-control', 'no-store').json({
      id,
      upgrade: stored.upgrade,
      request: redactRequest(stored.request),
      decision: decision.ok
        ? { ok: true, via: decision.via, user: decision.principal?.id ?? null }
        : { ok: false, status: decision.status, code: decision.code, hint: scrub(decision.hint ?? '', secrets) },
      steps: steps.map((s) => ({ step: s.step, outcome: s.outcome, detail: scrub(s.detail, secrets) })),
    })
  })
  app.get('/events', (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' })
    res.write(`event: snapshot\ndata: ${JSON.stringify(log.entries())}\n\n`)
    const unsubscribe = log.subscribe((entry) => res.write(`event: entry\ndata: ${JSON.stringify(entry)}\n\n`))
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000)
    ping.unref()
    req.once('close', () => {
      unsubscribe()
      clearInterval(ping)
    })
  })

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', message: 'No such route.' })
  })
  const onError: ErrorRequestHandler = (error: { status?: unknown; type?: unknown }, _req, res, next) => {
    if (res.headersSent) return next(error)
    const status = typeof error.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500
    if (status === 500) console.error('demo: request failed', error)
    res.status(status).json({ error: status === 500 ? 'server_error' : 'bad_request', message: status === 500 ? 'The demo failed; see its console.' : 'The request body could not be read.' })
  }
  app.use(onError)
  server.on('request', app)

  // The chat: one WebSocketServer, two ways of refusing. /ws/chat closes a refused socket with
  // 4401/4403 and the code as reason, which a browser can read; /ws/chat-http answers a real 403
  // before the upgrade, which is right for servers and curl but reaches a browser as a bare 1006.
  const wss = new WebSocketServer({ noServer: true, handleProtocols, maxPayload: 4096 })
  const chatClose = createUpgradeHandler({ auth, wss, reject: 'close' })
  const chatHttp = createUpgradeHandler({ auth, wss, reject: 'http' })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0]
    const handler = path === '/ws/chat' ? chatClose : path === '/ws/chat-http' ? chatHttp : undefined
    if (handler === undefined) {
      socket.on('error', () => socket.destroy())
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    context.run({ request: fromNodeRequest(req) }, () => handler(req, socket, head))
  })
  wss.on('connection', (ws, req) => {
    const who = req.auth?.principal?.id ?? 'anonymous'
    const broadcast = (message: object) => {
      const text = JSON.stringify(message)
      for (const client of wss.clients) if (client.readyState === client.OPEN) client.send(text)
    }
    ws.on('error', () => ws.terminate())
    ws.send(JSON.stringify({ type: 'system', text: `Welcome, ${who} (authenticated via ${req.auth?.via}).` }))
    ws.on('message', (data, isBinary) => {
      if (isBinary) return
      let text: unknown
      try {
        text = (JSON.parse(data.toString()) as { text?: unknown }).text
      } catch {
        return
      }
      if (typeof text === 'string' && text.trim() !== '') broadcast({ type: 'message', from: who, text: text.slice(0, 500), at: Date.now() })
    })
  })

  const jwtKey = auth.keys()[0]
  let closing: Promise<void> | undefined
  return {
    url: origin,
    secondOrigin: second.url,
    fingerprints: { jwt: jwtKey?.fingerprint ?? '', session: fingerprintKey(createSecretKey(Buffer.from(sessionSecret))) },
    secondOriginRequests: () => second.requests(),
    close() {
      closing ??= (async () => {
        chatClose.close()
        chatHttp.close()
        for (const ws of wss.clients) ws.terminate()
        await new Promise<void>((resolve) => wss.close(() => resolve()))
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
        await second.close()
        await auth.close()
      })()
      return closing
    },
  }
}
