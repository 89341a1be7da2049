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

export { cookiePair, rawRequest, type RawResponse } from '../../../test/support/raw-http.js'
