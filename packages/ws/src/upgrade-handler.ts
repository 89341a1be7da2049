import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Allow, AuthRequest, Decision, Deny } from '@gatehouse/core'
import { fromNodeRequest } from '@gatehouse/core'
import type { WebSocket } from 'ws'
import { createSocketWatcher } from './expiry.js'
import { resolveOptions, type UpgradeHandlerOptions } from './options.js'
import { CLOSE_CODES, headerLine, httpDenyResponse, unavailable } from './reject.js'

declare module 'http' {
  interface IncomingMessage {
    /**
     * The decision that let this WebSocket upgrade in, set by `@gatehouse/ws` before the
     * `connection` event: `req.auth.principal`, `req.auth.claims`, `req.auth.session`.
     */
    auth?: Allow
  }
}

/** A listener for `server.on('upgrade', …)`, with `close()` to stop its timers. */
export interface UpgradeHandler {
  (req: IncomingMessage, socket: Duplex, head: Buffer): void
  /**
   * Clears every expiry and re-validation timer and refuses later upgrades with 503
   * `auth_unavailable`. Open sockets stay open (close them through `wss.clients`); call it
   * beside `auth.close()` on shutdown. Idempotent.
   */
  close(): void
}

const decisions = new WeakMap<WebSocket, Allow>()

function hasAny(headers: Record<string, string>): boolean {
  for (const _ in headers) return true
  return false
}

/**
 * The decision that admitted a socket opened through {@link createUpgradeHandler}: the
 * principal, the token's claims or the session. After a re-validation it is the newest decision.
 * `undefined` for a socket the handler did not open.
 */
export function getAuth(ws: WebSocket): Allow | undefined {
  return decisions.get(ws)
}

/**
 * Authenticates WebSocket upgrades for `ws`: every upgrade goes through `auth.checkUpgrade`
 * (origin policy first, then rules and credentials) before `wss.handleUpgrade` runs.
 *
 * On allow the upgrade completes, `req.auth` and {@link getAuth} carry the decision, any header
 * the decision adds (a rolled session's `Set-Cookie`) goes into the 101 response, and `wss`
 * emits `connection`. On deny the client gets the status and JSON body (`reject: 'http'`) or a
 * socket closed at once with 4401/4403/1011 and the deny code (`reject: 'close'`); no
 * `connection` event either way. Open sockets are closed with 4401 when their token or session
 * expires (`enforceExpiry`, default on).
 *
 * Nothing a client sends makes it throw: a socket that errors or disappears while the check
 * runs is dropped quietly, and a failing `checkUpgrade` answers 503 `auth_unavailable`.
 *
 * @example
 * ```ts
 * const wss = new WebSocketServer({ noServer: true, handleProtocols })
 * const upgrade = createUpgradeHandler({ auth, wss })
 * server.on('upgrade', upgrade)
 * wss.on('connection', (ws, req) => ws.send(`hello ${req.auth?.principal?.id}`))
 * // on shutdown
 * upgrade.close()
 * await auth.close()
 * ```
 *
 * @throws {GatehouseConfigError} listing every invalid option, including a `wss` created without
 * `noServer: true` or without `handleProtocols`.
 */
export function createUpgradeHandler(options: UpgradeHandlerOptions): UpgradeHandler {
  const resolved = resolveOptions(options)
  const { auth, wss, reject, enforceExpiry, revalidateMs } = resolved
  const report = (error: unknown, req: IncomingMessage): void => {
    try {
      resolved.onError(error, req)
    } catch (thrown) {
      console.error('@gatehouse/ws: onError threw', thrown)
    }
  }
  const watcher = enforceExpiry || revalidateMs !== undefined
    ? createSocketWatcher({ auth, enforceExpiry, revalidateMs, onRevalidated: (ws, allow) => decisions.set(ws, allow), onError: report })
    : undefined
  // Requests being upgraded right now, so the 101 response can carry the decision's headers.
  const upgrading = new WeakMap<IncomingMessage, Allow>()
  let closed = false

  const addDecisionHeaders = (headers: string[], req: IncomingMessage): void => {
    const allow = upgrading.get(req)
    if (allow === undefined) return
    for (const [name, value] of Object.entries(allow.headers)) {
      const line = headerLine(name, value)
      if (line !== undefined) headers.push(line)
    }
  }
  wss.on('headers', addDecisionHeaders)

  function admit(req: IncomingMessage, socket: Duplex, head: Buffer, allow: Allow, request: AuthRequest): void {
    req.auth = allow
    if (hasAny(allow.headers)) upgrading.set(req, allow)
    wss.handleUpgrade(req, socket, head, (ws) => {
      upgrading.delete(req)
      decisions.set(ws, allow)
      watcher?.watch(ws, allow, request, req)
      wss.emit('connection', ws, req)
    })
  }

  function refuse(req: IncomingMessage, socket: Duplex, head: Buffer, deny: Deny): void {
    if (reject === 'close') {
      // The client gets a socket that is closed before any message; `connection` never fires.
      wss.handleUpgrade(req, socket, head, (ws) => ws.close(CLOSE_CODES[deny.status], deny.code))
      return
    }
    if (!socket.writable) return void socket.destroy()
    socket.once('finish', () => socket.destroy())
    socket.end(httpDenyResponse(auth.respond(deny)))
  }

  const handler = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Until ws takes the socket over, an ECONNRESET here would be an uncaught 'error' event.
    const onSocketError = (): void => void socket.destroy()
    socket.on('error', onSocketError)
    const request = fromNodeRequest(req)

    const settle = (decision: Decision): void => {
      // The client went away while the check ran: there is no one to answer.
      if (socket.destroyed) return void socket.off('error', onSocketError)
      if (closed) decision = unavailable(auth, '@gatehouse/ws: the upgrade handler is closed (handler.close() was called)')
      try {
        if (decision.ok) {
          // ws attaches its own 'error' listener synchronously in handleUpgrade.
          socket.off('error', onSocketError)
          admit(req, socket, head, decision, request)
        } else {
          if (reject === 'close') socket.off('error', onSocketError)
          refuse(req, socket, head, decision)
        }
      } catch (error) {
        report(error, req)
        socket.destroy()
      }
    }

    let pending: Decision | Promise<Decision>
    try {
      // Synchronous when nothing had to wait: the handshake continues without a microtask.
      pending = auth.decide(request, { upgrade: true })
    } catch (error) {
      pending = Promise.reject(error)
    }
    if (!(pending instanceof Promise)) {
      settle(pending)
      return
    }
    pending.then(settle, (error: unknown) => {
      report(error, req)
      settle(unavailable(auth, error))
    })
  }

  return Object.assign(handler, {
    close(): void {
      if (closed) return
      closed = true
      watcher?.close()
      wss.off('headers', addDecisionHeaders)
    },
  })
}
