import type { IncomingMessage } from 'node:http'
import { type ConfigProblem, type Duration, GatehouseConfigError, toSeconds } from '@gatehouse/core'
import type { WebSocketServer } from 'ws'
import type { UpgradeAuth } from './reject.js'

/** Options of {@link createUpgradeHandler}. */
export interface UpgradeHandlerOptions {
  /** The engine from `createAuth`; its `checkUpgrade` judges every upgrade. */
  auth: UpgradeAuth
  /** `new WebSocketServer({ noServer: true, handleProtocols })`; allowed upgrades complete on it. */
  wss: WebSocketServer
  /**
   * How a denied upgrade is answered. `'http'` (default): an HTTP status, headers and JSON body
   * before any upgrade, which servers and curl can read but a browser's `WebSocket` cannot.
   * `'close'`: the upgrade completes and the socket is closed at once with 4401, 4403 or 1011
   * and the deny code as reason, which a browser can read from its `close` event.
   */
  reject?: 'http' | 'close'
  /**
   * Close an open socket with 4401 and `token_expired` / `session_expired` when the token's
   * `exp` or the session's expiry passes. Default `true`.
   */
  enforceExpiry?: boolean
  /**
   * Re-run `checkUpgrade` with the socket's original request this often, and close the socket
   * (4401, 4403 or 1011 with the deny code) when it is denied: catches a session destroyed or a
   * user revoked while connected. Default off.
   */
  revalidateEvery?: Duration
  /**
   * Receives errors the handler survived, with the upgrade request: `checkUpgrade` rejecting (at
   * the upgrade or in a re-validation), an error thrown while completing the upgrade or by a
   * `connection` listener. Default: `console.error`.
   */
  onError?: (error: unknown, req: IncomingMessage) => void
}

/** The options after validation, with defaults applied. */
export interface ResolvedOptions {
  auth: UpgradeAuth
  wss: WebSocketServer
  reject: 'http' | 'close'
  enforceExpiry: boolean
  revalidateMs: number | undefined
  onError: (error: unknown, req: IncomingMessage) => void
}

const KNOWN = new Set(['auth', 'wss', 'reject', 'enforceExpiry', 'revalidateEvery', 'onError'])

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null
const isFunction = (v: unknown): v is (...args: never[]) => unknown => typeof v === 'function'

function defaultOnError(error: unknown): void {
  console.error('@gatehouse/ws: error while handling a WebSocket upgrade', error)
}

function wssProblems(wss: unknown, problems: ConfigProblem[]): void {
  if (!isObject(wss) || !isFunction(wss.handleUpgrade) || !isObject(wss.options)) {
    problems.push({ path: 'wss', message: "must be a WebSocketServer from 'ws': new WebSocketServer({ noServer: true, handleProtocols })" })
    return
  }
  if (wss.options.noServer !== true) {
    problems.push({
      path: 'wss',
      message: 'must be created with { noServer: true }: a WebSocketServer given `server` or `port` answers upgrades itself, before gatehouse can check them',
    })
  }
  if (!isFunction(wss.options.handleProtocols)) {
    problems.push({
      path: 'wss',
      message:
        "must be created with handleProtocols from '@gatehouse/ws': without it ws selects the first offered subprotocol, which can be 'gatehouse.bearer.<token>', and sends the token back in the response",
    })
  }
}

/** Validates the options once, listing every problem in one {@link GatehouseConfigError}. */
export function resolveOptions(options: UpgradeHandlerOptions): ResolvedOptions {
  const problems: ConfigProblem[] = []
  const input: unknown = options
  if (!isObject(input)) throw new GatehouseConfigError([{ path: '', message: 'createUpgradeHandler needs an options object: { auth, wss }' }], '@gatehouse/ws')
  for (const key of Object.keys(input)) {
    if (!KNOWN.has(key)) problems.push({ path: key, message: `unknown option '${key}': check the spelling against the documented options` })
  }
  const auth = input.auth
  if (!isObject(auth) || !isFunction(auth.checkUpgrade) || !isFunction(auth.decide) || !isFunction(auth.respond)) {
    problems.push({ path: 'auth', message: "must be the object createAuth() from '@gatehouse/core' returns" })
  }
  wssProblems(input.wss, problems)
  if (input.reject !== undefined && input.reject !== 'http' && input.reject !== 'close') {
    problems.push({ path: 'reject', message: "must be 'http' (answer with a status before the upgrade) or 'close' (upgrade, then close with 4401/4403/1011)" })
  }
  if (input.enforceExpiry !== undefined && typeof input.enforceExpiry !== 'boolean') {
    problems.push({ path: 'enforceExpiry', message: 'must be true or false' })
  }
  let revalidateMs: number | undefined
  if (input.revalidateEvery !== undefined) {
    try {
      const seconds = toSeconds(input.revalidateEvery as Duration, 'revalidateEvery')
      if (seconds > 0) revalidateMs = seconds * 1000
      else problems.push({ path: 'revalidateEvery', message: "must be more than 0, e.g. '1m'; leave it unset to turn re-validation off" })
    } catch (error) {
      if (!(error instanceof GatehouseConfigError)) throw error
      problems.push(...error.problems)
    }
  }
  if (input.onError !== undefined && !isFunction(input.onError)) {
    problems.push({ path: 'onError', message: 'must be a function (error, req) => void' })
  }
  if (problems.length) throw new GatehouseConfigError(problems, '@gatehouse/ws')
  return {
    auth: options.auth,
    wss: options.wss,
    reject: options.reject ?? 'http',
    enforceExpiry: options.enforceExpiry ?? true,
    revalidateMs,
    onError: options.onError ?? defaultOnError,
  }
}
