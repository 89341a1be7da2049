/**
 * Bounded soak runs against real Express, Fastify and ws servers: a fixed mix of good, expired,
 * forged and hostile requests, whose exact multiset of outcomes is known in advance, with heap
 * and active handles measured before and after. Shared by soak.test.ts (the normal suite) and
 * soak.long.test.ts (`pnpm test:long`).
 */
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { type Auth, createAuth } from '@gatehouse/core'
import { createUpgradeHandler, handleProtocols } from '@gatehouse/ws'
import { cookieValue } from './book.js'
import { WebSocket, WebSocketServer } from './deps.js'
import { badTokens, CLAIMS, issuer, policyOptions, SESSION_COOKIE } from './policy.js'
import { codeOf, keepAliveClient, type Running } from './servers.js'

/** Runs a full garbage collection (exposing `gc` at run time when Node was started without it). */
export function forceGc(): void {
  let gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as () => void
  }
  gc()
  gc()
}

/** Heap in use after a full collection, in bytes. */
export function heapAfterGc(): number {
  forceGc()
  return process.memoryUsage().heapUsed
}

/** One kind of request in the mix and the outcome it must get. */
interface Kind {
  name: string
  expect: string
  make(i: number): { method: string; path: string; headers: Record<string, string> }
}

/** The soak's engine: the suite's policy with a small verified-token cache, so its bound is reached. */
export const SOAK_CACHE_MAX = 500

export function soakAuth(): Auth {
  const options = policyOptions()
  return createAuth({ ...options, jwt: { ...options.jwt, cache: { max: SOAK_CACHE_MAX } } })
}

/** The request mix for `auth`; sessions are created on it. */
export async function soakMix(auth: Auth): Promise<Kind[]> {
  const sessions = auth.sessions as NonNullable<Auth['sessions']>
  const session = `${SESSION_COOKIE}=${cookieValue((await sessions.create({ userId: 'user-1', roles: ['user'] })).setCookie)}`
  const tampered = `${session.slice(0, -3)}${session.endsWith('AAA') ? 'BBB' : 'AAA'}`
  const bad = badTokens()
  const user = issuer.sign(CLAIMS.user, { expiresIn: '6h' })
  const admin = issuer.sign(CLAIMS.admin, { expiresIn: '6h' })
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` })
  const get = (path: string, headers: Record<string, string> = {}) => () => ({ method: 'GET', path, headers })
  const kinds: Kind[] = [
    { name: 'user token', expect: '200', make: get('/api/me', bearer(user)) },
    { name: 'admin token on admin path', expect: '200', make: get('/api/admin/users', bearer(admin)) },
    // A new token each time: every one is verified and cached, so the cache reaches its bound.
    { name: 'fresh token', expect: '200', make: (i) => ({ method: 'GET', path: '/api/me', headers: bearer(issuer.sign({ ...CLAIMS.user, jti: `soak-${i}` }, { expiresIn: '6h' })) }) },
    { name: 'session', expect: '200', make: get('/api/me', { cookie: session }) },
    { name: 'session write, allowed origin', expect: '200', make: () => ({ method: 'POST', path: '/api/me', headers: { cookie: session, origin: 'https://app.example.com' } }) },
    { name: 'public path', expect: '200', make: get('/health') },
    { name: 'expired token', expect: '401 token_expired', make: get('/api/me', bearer(bad.expired as string)) },
    { name: 'forged token', expect: '401 token_signature_invalid', make: get('/api/admin/users', bearer(bad.wrongKey as string)) },
    { name: 'alg none', expect: '401 token_algorithm_rejected', make: get('/api/admin/users', bearer(bad.algNone as string)) },
    { name: 'HS256 with the public key', expect: '401 token_algorithm_rejected', make: get('/api/admin/users', bearer(bad.keyConfusion as string)) },
    { name: 'oversized token', expect: '401 credentials_malformed', make: get('/api/me', bearer(`eyJ${'A'.repeat(9000)}.eyJ.x`)) },
    { name: 'Basic credentials', expect: '401 credentials_malformed', make: get('/api/me', { authorization: 'Basic YWRtaW46YWRtaW4=' }) },
    { name: 'no credentials', expect: '401 credentials_missing', make: get('/api/me') },
    { name: 'traversal out of a public path', expect: '401 credentials_missing', make: get('/docs/../api/admin/users') },
    { name: 'encoded traversal out of a public path', expect: '401 credentials_missing', make: get('/docs/%2e%2e/api/admin/users') },
    { name: 'tampered session', expect: '401 session_invalid', make: get('/api/me', { cookie: tampered }) },
    { name: 'user token on admin path', expect: '403 insufficient_role', make: get('/api/admin/users', bearer(user)) },
    { name: 'user token through a sibling rule', expect: '403 insufficient_role', make: get('/api/reports/..;/admin/users', bearer(user)) },
    { name: 'cross-site session write', expect: '403 csrf_rejected', make: () => ({ method: 'POST', path: '/api/me', headers: { cookie: session, origin: 'https://evil.example' } }) },
  ]
  return kinds
}

/** What a soak run measured. */
export interface SoakResult {
  expected: Record<string, number>
  actual: Record<string, number>
  /** Outcomes that differ from their kind's expectation, by `kind → outcome`. */
  wrong: Record<string, number>
  requests: number
  seconds: number
  /** Heap after a full GC: once warm (after a tenth of the run) and at the end, in bytes. */
  heapWarm: number
  heapEnd: number
}

/** Sends `total` requests of the mix to `server` with `concurrency` keep-alive connections. */
export async function soak(server: Running, kinds: Kind[], total: number, concurrency = 32): Promise<SoakResult> {
  const client = keepAliveClient(server.url, concurrency)
  const expected: Record<string, number> = {}
  const actual: Record<string, number> = {}
  const wrong: Record<string, number> = {}
  const count = (map: Record<string, number>, key: string) => (map[key] = (map[key] ?? 0) + 1)

  /** Requests `from` … `to - 1`, `concurrency` at a time. */
  async function batch(from: number, to: number): Promise<void> {
    let next = from
    const worker = async () => {
      for (let i = next++; i < to; i = next++) {
        const kind = kinds[i % kinds.length] as Kind
        const { method, path, headers } = kind.make(i)
        const res = await client.send(method, path, headers)
        const outcome = `${res.status} ${codeOf(res.body)}`.trim()
        count(expected, kind.expect)
        count(actual, outcome)
        if (outcome !== kind.expect) count(wrong, `${kind.name} → ${outcome}`)
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
  }

  const started = performance.now()
  // Warm up (caches filled, code optimised), measure, then run the rest and measure again.
  const warmAt = Math.floor(total / 10)
  await batch(0, warmAt)
  const heapWarm = heapAfterGc()
  await batch(warmAt, total)
  const seconds = (performance.now() - started) / 1000
  client.close()
  return { expected, actual, wrong, requests: total, seconds, heapWarm, heapEnd: heapAfterGc() }
}

/** Handle counts by type (`TCPSocketWrap`, `Timeout`, …), for before/after comparisons. */
export function handles(): Record<string, number> {
  const out: Record<string, number> = {}
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1
  return out
}

/** A ws server behind @gatehouse/ws that greets each admitted socket. */
export async function startWs(auth: Auth): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(404).end())
  const wss = new WebSocketServer({ noServer: true, handleProtocols })
  const handler = createUpgradeHandler({ auth, wss })
  server.on('upgrade', handler)
  wss.on('connection', (ws, req) => ws.send(JSON.stringify({ id: req.auth?.principal?.id ?? null })))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    port,
    async close() {
      handler.close()
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** One WebSocket attempt: `open <id>` when admitted and greeted, else `http <status>`. */
export function wsAttempt(port: number, path: string, options: { protocols?: string[]; origin?: string; headers?: Record<string, string> }): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, options.protocols ?? [], { origin: options.origin, headers: options.headers })
    let settled = false
    const done = (outcome: string) => {
      if (settled) return
      settled = true
      resolve(outcome)
    }
    ws.on('message', (data) => {
      const hello = JSON.parse(String(data)) as { id: string | null }
      ws.once('close', () => done(`open ${hello.id}`))
      ws.close(1000)
    })
    ws.on('unexpected-response', (_req, res) => {
      done(`http ${res.statusCode}`)
      res.resume()
      ws.terminate()
    })
    ws.on('error', (error) => done(`error ${error.message}`))
  })
}

/** The WebSocket mix: admitted tokens and sessions, and refused origins, tokens and paths. */
export async function wsMix(auth: Auth): Promise<Array<{ name: string; expect: string; path: string; options: Parameters<typeof wsAttempt>[2] }>> {
  const sessions = auth.sessions as NonNullable<Auth['sessions']>
  const session = `${SESSION_COOKIE}=${cookieValue((await sessions.create({ userId: 'admin-1', roles: ['admin'] })).setCookie)}`
  const bad = badTokens()
  const user = issuer.sign(CLAIMS.user, { expiresIn: '6h' })
  return [
    { name: 'token in the subprotocol', expect: 'open user-1', path: '/api/me', options: { protocols: ['gatehouse', `gatehouse.bearer.${user}`], origin: 'https://app.example.com' } },
    { name: 'Authorization header', expect: 'open user-1', path: '/api/me', options: { headers: { authorization: `Bearer ${user}` } } },
    { name: 'session cookie', expect: 'open admin-1', path: '/api/me', options: { headers: { cookie: session }, origin: 'https://app.example.com' } },
    { name: 'cross-site session (hijacking)', expect: 'http 403', path: '/api/me', options: { headers: { cookie: session }, origin: 'https://evil.example' } },
    { name: 'expired token', expect: 'http 401', path: '/api/me', options: { protocols: ['gatehouse', `gatehouse.bearer.${bad.expired}`] } },
    { name: 'forged token', expect: 'http 401', path: '/api/me', options: { protocols: ['gatehouse', `gatehouse.bearer.${bad.wrongKey}`] } },
    { name: 'no credentials', expect: 'http 401', path: '/api/me', options: {} },
    { name: 'traversal', expect: 'http 401', path: '/docs/../api/me', options: {} },
    { name: 'user on admin path', expect: 'http 403', path: '/api/admin/live', options: { headers: { authorization: `Bearer ${user}` } } },
  ]
}
