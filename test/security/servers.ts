/**
 * Real Express and Fastify servers guarded by gatehouse, serving the policy's routes, and clients
 * that speak to them: raw bytes over `node:net` (for requests no HTTP client would send) and a
 * keep-alive `node:http` client (for load).
 */
import { once } from 'node:events'
import http, { type IncomingHttpHeaders } from 'node:http'
import net, { type AddressInfo } from 'node:net'
import type { Allow, Auth } from '@gatehouse/core'
import { gatehouse as expressGatehouse } from '@gatehouse/express'
import { gatehouse as fastifyGatehouse } from '@gatehouse/fastify'
import { express, fastify } from './deps.js'

/** Which handler ran, and for whom: a test can prove that a handler never ran for a request. */
export interface Hit {
  route: string
  id: string | null
  roles: readonly string[]
  scopes: readonly string[]
}

/** A server listening on 127.0.0.1 on a free port. */
export interface Running {
  port: number
  url: string
  hits: Hit[]
  close(): Promise<void>
}

function hit(route: string, auth: Allow | null | undefined): Hit {
  const p = auth?.principal ?? null
  return { route, id: p?.id ?? null, roles: p?.roles ?? [], scopes: p?.scopes ?? [] }
}

/** The routes every test server serves, each recording its hit. */
const ROUTES: Array<[method: 'get' | 'post' | 'delete', path: string, name: string]> = [
  ['get', '/health', 'health'],
  ['get', '/docs/:page', 'docs'],
  ['get', '/assets/:file', 'assets'],
  ['post', '/login', 'login'],
  ['post', '/webhooks/:id', 'webhooks'],
  ['get', '/api/me', 'me'],
  ['post', '/api/me', 'me'],
  ['get', '/api/admin/users', 'admin'],
  ['get', '/api/admin/:name', 'admin'],
  ['get', '/api/reports/:id', 'reports'],
  ['delete', '/api/items/:id', 'items'],
  ['get', '/api', 'api-root'],
]

/** Server options: `recordHits: false` for load tests, whose hits would pile up. */
export interface ServerOptions {
  recordHits?: boolean
}

/** Express 5 with `app.use(gatehouse(auth))` in front of the routes. */
export async function startExpress(auth: Auth, options: ServerOptions = {}): Promise<Running> {
  const app = express()
  const hits: Hit[] = []
  const record = options.recordHits ?? true
  app.use(expressGatehouse(auth))
  for (const [method, path, name] of ROUTES) {
    app[method](path, (req, res) => {
      if (record) hits.push(hit(name, req.auth))
      res.json({ route: name, id: req.auth?.principal?.id ?? null })
    })
  }
  const server = http.createServer(app)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Router options that fold case, trailing and duplicate slashes, as many Fastify apps set them. */
export const PERMISSIVE_ROUTER = { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true }

/** Fastify 5 with the gatehouse plugin registered at the root. */
export async function startFastify(auth: Auth, routerOptions: Record<string, boolean> = {}, options: ServerOptions = {}): Promise<Running> {
  const app = fastify({ routerOptions })
  const hits: Hit[] = []
  const record = options.recordHits ?? true
  await app.register(fastifyGatehouse, { auth })
  for (const [method, path, name] of ROUTES) {
    app[method](path, async (request) => {
      if (record) hits.push(hit(name, request.auth))
      return { route: name, id: request.auth?.principal?.id ?? null }
    })
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return { port, url: `http://127.0.0.1:${port}`, hits, close: () => app.close() }
}

/** What came back for raw bytes: the status (0 when the server closed without answering). */
export interface RawResponse {
  status: number
  head: string
  body: string
  /** The server closed the connection (rather than the client timing out). */
  closed: boolean
}

/**
 * Writes `bytes` on a fresh connection, half-closes it, and reads until the server closes the
 * connection or `timeoutMs` passes.
 */
export function rawExchange(port: number, bytes: string | Buffer, timeoutMs = 3000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let closed = false
    const finish = () => {
      clearTimeout(timer)
      socket.destroy()
      const text = Buffer.concat(chunks).toString('latin1')
      const end = text.indexOf('\r\n\r\n')
      const head = end === -1 ? text : text.slice(0, end)
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), head, body: end === -1 ? '' : text.slice(end + 4), closed })
    }
    const timer = setTimeout(finish, timeoutMs)
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      closed = true
      finish()
    })
    socket.end(bytes)
  })
}

/**
 * Writes a handshake on a fresh connection and reads the answer: up to the end of the head for a
 * 101 (the socket then belongs to the WebSocket), else until the server closes or `timeoutMs`.
 */
export function rawHandshake(port: number, bytes: string | Buffer, timeoutMs = 3000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let text = ''
    let closed = false
    let done = false
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      const end = text.indexOf('\r\n\r\n')
      const head = end === -1 ? text : text.slice(0, end)
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), head, body: end === -1 ? '' : text.slice(end + 4), closed })
    }
    const timer = setTimeout(finish, timeoutMs)
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      text += chunk
      if (text.startsWith('HTTP/1.1 101') && text.includes('\r\n\r\n')) finish()
    })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      closed = true
      finish()
    })
    socket.write(bytes)
  })
}

/** One answer of the keep-alive client. */
export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** A keep-alive HTTP client for load tests; `send` never rejects (a network error is status 0). */
export function keepAliveClient(url: string, sockets = 32): { send(method: string, path: string, headers?: Record<string, string>): Promise<Reply>; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets })
  const { hostname, port } = new URL(url)
  return {
    send(method, path, headers = {}) {
      return new Promise((resolve) => {
        const req = http.request({ agent, hostname, port, method, path, headers }, (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (c: string) => (body += c))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
          res.on('error', () => resolve({ status: 0, headers: {}, body: '' }))
        })
        req.on('error', (error) => resolve({ status: 0, headers: {}, body: String(error) }))
        req.end()
      })
    },
    close: () => agent.destroy(),
  }
}

/** The deny code of a JSON deny body, or `''`. */
export function codeOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown }
    return typeof parsed.error === 'string' ? parsed.error : ''
  } catch {
    return ''
  }
}
