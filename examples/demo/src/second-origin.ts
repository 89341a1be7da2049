import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { redactValue } from './decision-log.js'

/** What the second origin saw of one request it received. */
export interface RecordedRequest {
  method: string
  path: string
  origin: string | null
  /** The `Authorization` header redacted, or `null` when none was sent (the expected case). */
  authorization: string | null
  /** Names of the cookies sent with the request (values are never kept). */
  cookies: string[]
}

/** A tiny server on another port: another origin, as a third-party API or a hostile page would be. */
export interface SecondOrigin {
  url: string
  /** Every request to `/hello`, oldest first (at most 100). */
  requests(): RecordedRequest[]
  close(): Promise<void>
}

const FOREIGN_PAGE = readFileSync(new URL('../src/page/foreign.html', import.meta.url), 'utf8')
const MAX_RECORDED = 100

function cors(res: ServerResponse): void {
  // Deliberately permissive: any header a client attaches reaches this server and is recorded,
  // so a token sent by mistake would show up rather than be stopped by a CORS preflight.
  res.setHeader('access-control-allow-origin', '*')
  res.setHeader('access-control-allow-headers', 'authorization, content-type')
  res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS')
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function record(req: IncomingMessage): RecordedRequest {
  const auth = req.headers.authorization
  const cookie = req.headers.cookie
  return {
    method: req.method ?? 'GET',
    path: (req.url ?? '/').split('?')[0] as string,
    origin: req.headers.origin ?? null,
    authorization: auth === undefined ? null : redactValue(auth),
    cookies: cookie === undefined ? [] : cookie.split(';').map((p) => p.split('=')[0]?.trim() ?? '').filter(Boolean),
  }
}

/**
 * Starts the second origin. It answers `GET /hello` with CORS headers and records what it
 * received; `GET /recorded` lists the records; `GET /foreign` is a page that tries to open the
 * demo's chat WebSocket from this origin and reports the outcome to the demo page embedding it.
 */
export async function startSecondOrigin(host: string, demoOrigin: string): Promise<SecondOrigin> {
  const recorded: RecordedRequest[] = []
  const demoWs = demoOrigin.replace(/^http/, 'ws')
  const config = JSON.stringify({ parent: demoOrigin, targets: [`${demoWs}/ws/chat`, `${demoWs}/ws/chat-http`] }).replace(/</g, '\\u003c')
  const foreignPage = FOREIGN_PAGE.replace('/*CONFIG*/null', config)

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    cors(res)
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end()
    } else if (path === '/hello') {
      const seen = record(req)
      recorded.push(seen)
      if (recorded.length > MAX_RECORDED) recorded.shift()
      json(res, 200, { service: 'second origin', sawAuthorization: seen.authorization !== null, cookies: seen.cookies })
    } else if (path === '/recorded' && req.method === 'GET') {
      json(res, 200, recorded)
    } else if (path === '/foreign' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      res.end(foreignPage)
    } else {
      json(res, 404, { error: 'not_found' })
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    requests: () => recorded.map((r) => ({ ...r, cookies: [...r.cookies] })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
