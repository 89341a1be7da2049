import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import WebSocket from 'ws'

/** A Fastify app listening on 127.0.0.1 on a free port. */
export interface Running {
  app: FastifyInstance
  port: number
  /** `http://127.0.0.1:<port>` */
  url: string
  /** `ws://127.0.0.1:<port>` */
  wsUrl: string
  close(): Promise<void>
}

/** Starts `app` on 127.0.0.1, port 0. */
export async function listen(app: FastifyInstance): Promise<Running> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return { app, port, url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}`, close: () => app.close() }
}

/** A response read off the wire. */
export interface RawResponse {
  status: number
  headers: Record<string, string | string[]>
  body: string
}

/**
 * Sends one request exactly as written (the request-target is not normalised by any client) and
 * reads the response until the server closes the connection.
 */
export function rawRequest(port: number, method: string, target: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const split = text.indexOf('\r\n\r\n')
      const head = text.slice(0, split).split('\r\n')
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0)
      const out: Record<string, string | string[]> = {}
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':')
        const name = line.slice(0, colon).trim().toLowerCase()
        const value = line.slice(colon + 1).trim()
        const prev = out[name]
        out[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value]
      }
      resolve({ status, headers: out, body: text.slice(split + 4) })
    })
    const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
    socket.end(`${lines.join('\r\n')}\r\n\r\n`)
  })
}

/** What a WebSocket handshake came to. */
export type Handshake =
  | { open: true; protocol: string; message: unknown }
  | { open: false; status: number; headers: Record<string, string | string[] | undefined>; body: string }

/**
 * Opens a WebSocket with the `ws` client; when it opens, waits for the server's first message (a
 * JSON text) and closes. When the server refuses the upgrade, returns the HTTP status and body.
 */
export function handshake(url: string, options: { protocols?: string[]; origin?: string; headers?: Record<string, string> } = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], { origin: options.origin, headers: options.headers })
    ws.once('message', (data) => {
      resolve({ open: true, protocol: ws.protocol, message: JSON.parse(String(data)) })
      ws.close()
    })
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ open: false, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    ws.once('error', reject)
  })
}

/** The `name=value` part of the cookie `name` among `Set-Cookie` values, for a `Cookie` header. */
export function cookiePair(setCookie: readonly string[], name: string): string | undefined {
  for (const c of setCookie) {
    const pair = c.split(';', 1)[0] as string
    if (pair.startsWith(`${name}=`)) return pair
  }
  return undefined
}

/**
 * Sends a WebSocket handshake by hand and reports what came back and whether the server closed
 * the connection within `waitMs` (a refused handshake must not leave its socket open).
 */
export function rawHandshake(port: number, target: string, headers: Record<string, string>, waitMs = 2000): Promise<{ response: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let response = ''
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ response, closedByServer: false })
    }, waitMs)
    socket.on('data', (c: Buffer) => {
      response += c.toString('latin1')
    })
    socket.on('error', reject)
    socket.on('end', () => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ response, closedByServer: true })
    })
    const lines = [
      `GET ${target} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Connection: Upgrade',
      'Upgrade: websocket',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ]
    socket.write(`${lines.join('\r\n')}\r\n\r\n`)
  })
}
