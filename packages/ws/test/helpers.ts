import { once } from 'node:events'
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { createUpgradeHandler, handleProtocols, type UpgradeAuth, type UpgradeHandler, type UpgradeHandlerOptions } from '@gatehouse/ws'
import WebSocket, { WebSocketServer } from 'ws'

/** What the test server sends as the first message of every socket it admits. */
export interface Hello {
  id: string | null
  via: string | undefined
  protocol: string
}

export interface TestServer {
  url: string
  port: number
  server: http.Server
  wss: WebSocketServer
  handler: UpgradeHandler
  /** Every `connection` event, in order. */
  connections: Array<{ ws: WebSocket; req: IncomingMessage }>
  close(): Promise<void>
}

/**
 * A real http.Server on 127.0.0.1, port 0, with a `ws` server in noServer mode behind
 * `createUpgradeHandler`. Every admitted socket is greeted with a {@link Hello}.
 */
export async function startServer(
  auth: UpgradeAuth,
  options: Partial<UpgradeHandlerOptions> = {},
  onRequest: http.RequestListener = (_req, res) => res.writeHead(404).end(),
): Promise<TestServer> {
  const server = http.createServer(onRequest)
  const wss = new WebSocketServer({ noServer: true, handleProtocols })
  const handler = createUpgradeHandler({ auth, wss, ...options })
  server.on('upgrade', handler)
  const connections: TestServer['connections'] = []
  wss.on('connection', (ws, req) => {
    connections.push({ ws, req })
    const hello: Hello = { id: req.auth?.principal?.id ?? null, via: req.auth?.via, protocol: ws.protocol }
    ws.send(JSON.stringify(hello))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    server,
    wss,
    handler,
    connections,
    async close() {
      handler.close()
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export type Outcome =
  | { kind: 'open'; ws: WebSocket; hello: Hello; upgradeHeaders: IncomingHttpHeaders }
  | { kind: 'http'; status: number; headers: IncomingHttpHeaders; body: string }
  | { kind: 'closed'; code: number; reason: string; messages: string[]; upgradeHeaders: IncomingHttpHeaders | undefined }
  | { kind: 'error'; message: string }

export interface ConnectOptions {
  protocols?: string[]
  headers?: Record<string, string>
  origin?: string
  protocolVersion?: 8 | 13
}

/**
 * Opens a real `ws` client and reports how the attempt ended: admitted (with the server's hello),
 * refused with an HTTP response, or upgraded and then closed before any message.
 */
export function connect(url: string, options: ConnectOptions = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, options.protocols ?? [], {
      headers: options.headers,
      origin: options.origin,
      protocolVersion: options.protocolVersion ?? 13,
    })
    let upgradeHeaders: IncomingHttpHeaders | undefined
    const messages: string[] = []
    ws.on('upgrade', (res) => (upgradeHeaders = res.headers))
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => {
        resolve({ kind: 'http', status: res.statusCode ?? 0, headers: res.headers, body })
        ws.terminate()
      })
    })
    ws.on('error', (error) => resolve({ kind: 'error', message: error.message }))
    ws.on('message', (data) => {
      const text = String(data)
      messages.push(text)
      if (messages.length === 1) resolve({ kind: 'open', ws, hello: JSON.parse(text) as Hello, upgradeHeaders: upgradeHeaders ?? {} })
    })
    ws.on('close', (code, reason) => resolve({ kind: 'closed', code, reason: String(reason), messages, upgradeHeaders }))
  })
}

/** Closes a client socket and waits until both sides are done. */
export async function hangUp(outcome: Outcome): Promise<void> {
  if (outcome.kind !== 'open') return
  if (outcome.ws.readyState === WebSocket.CLOSED) return
  const closed = once(outcome.ws, 'close')
  outcome.ws.close(1000)
  await closed
}

/** A valid `Sec-WebSocket-Key` (RFC 6455's sample nonce). */
export const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='

/** The header lines of a valid version-13 upgrade for `path`, to which a test adds its own. */
export function upgradeHead(path: string, extra: string[] = []): string {
  return [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', ...extra, '', ''].join('\r\n')
}

export interface RawResponse {
  status: number
  head: string
  body: string
}

/**
 * Sends bytes on a raw TCP socket, which lets a test send what no WebSocket client would (two
 * Origin headers, a broken key), and reads the response: up to the end of the head for a 101,
 * else until the server closes.
 */
export function rawExchange(port: number, bytes: string | Buffer, timeoutMs = 3000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let text = ''
    const finish = () => {
      clearTimeout(timer)
      socket.destroy()
      const end = text.indexOf('\r\n\r\n')
      const head = end === -1 ? text : text.slice(0, end)
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body: end === -1 ? '' : text.slice(end + 4) })
    }
    const timer = setTimeout(finish, timeoutMs)
    socket.on('error', (error) => (text ? finish() : reject(error)))
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      text += chunk
      if (text.startsWith('HTTP/1.1 101') && text.includes('\r\n\r\n')) finish()
    })
    socket.on('close', finish)
    socket.write(bytes)
  })
}

/** The `name=value` pair of a `Set-Cookie` header, ready for a `Cookie` header. */
export function cookiePair(setCookie: string): string {
  return setCookie.split(';', 1)[0] as string
}

/** Resolves after `ms` of real time. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Count of live `setTimeout` timers, as Node reports them, once the count is steady. The test
 * runner keeps short-lived timers of its own (a 100 ms one after a test starts, others for worker
 * messages), which only ever add to the count, so each reading is the smallest of samples spread
 * over 150 ms; sockets of an earlier test may still be finishing their close handshake, so
 * readings repeat until two in a row agree.
 */
export async function activeTimeouts(): Promise<number> {
  const reading = async () => {
    let least = Number.POSITIVE_INFINITY
    for (let i = 0; i < 10; i++) {
      await sleep(15)
      least = Math.min(least, process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length)
    }
    return least
  }
  let previous = await reading()
  for (let i = 0; i < 20; i++) {
    const current = await reading()
    if (current === previous) return current
    previous = current
  }
  return previous
}
