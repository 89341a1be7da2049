/**
 * A real identity provider serving a JWK Set over node:http on 127.0.0.1, whose faults a test
 * switches at will: slow, hanging, resetting connections, answering garbage or an error status,
 * or down altogether (nothing listening on its port), and back up on the same port.
 */
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** How the provider answers `GET /jwks`. */
export type IdpMode =
  | { kind: 'ok' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'status'; status: number; location?: string }
  | { kind: 'body'; body: string; type?: string }

/** A running provider. */
export interface Idp {
  /** `http://127.0.0.1:<port>/jwks`, stable across `down()`/`up()`. */
  url: string
  jwks: { keys: unknown[] }
  mode: IdpMode
  /** Requests received, across restarts. */
  readonly requests: number
  /** Stops listening (connections are cut): fetches fail with ECONNREFUSED. */
  down(): Promise<void>
  /** Listens again on the same port. */
  up(): Promise<void>
  close(): Promise<void>
}

export async function startIdp(jwks: { keys: unknown[] }): Promise<Idp> {
  const state: { jwks: { keys: unknown[] }; mode: IdpMode; requests: number } = { jwks, mode: { kind: 'ok' }, requests: 0 }
  const timers = new Set<NodeJS.Timeout>()
  const sockets = new Set<Socket>()
  let server: http.Server | undefined
  let port = 0

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    state.requests++
    const mode = state.mode
    switch (mode.kind) {
      case 'ok':
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(state.jwks))
        return
      case 'slow': {
        const body = JSON.stringify(state.jwks)
        const timer = setTimeout(() => {
          timers.delete(timer)
          if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(body)
        }, mode.delayMs)
        timers.add(timer)
        return
      }
      case 'hang':
        // Headers go out, the body never ends: the fetch must give up on its own.
        res.writeHead(200, { 'content-type': 'application/json' })
        res.write('{"keys":[')
        return
      case 'reset':
        req.socket.destroy()
        return
      case 'status':
        res.writeHead(mode.status, mode.location ? { location: mode.location } : { 'content-type': 'text/plain' }).end('unavailable')
        return
      case 'body':
        res.writeHead(200, { 'content-type': mode.type ?? 'application/json' }).end(mode.body)
    }
  }

  async function listen(): Promise<void> {
    server = http.createServer(handle)
    server.on('connection', (socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
    })
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  }

  async function stop(): Promise<void> {
    for (const timer of timers) clearTimeout(timer)
    timers.clear()
    const s = server
    server = undefined
    if (s === undefined) return
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  await listen()
  return {
    url: `http://127.0.0.1:${port}/jwks`,
    get jwks() {
      return state.jwks
    },
    set jwks(value) {
      state.jwks = value
    },
    get mode() {
      return state.mode
    },
    set mode(value) {
      state.mode = value
    },
    get requests() {
      return state.requests
    },
    down: stop,
    up: listen,
    close: stop,
  }
}
