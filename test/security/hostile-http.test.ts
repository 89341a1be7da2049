// Hostile request lines and headers sent as raw bytes (node:net) to real Express and Fastify
// servers guarded by gatehouse. Whatever arrives, the server answers something other than a 5xx
// (or closes the connection after Node's own 400/431), keeps serving, and no protected handler
// runs for a principal that lacks the role, scope or check its rule requires.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Auth, createAuth } from '@gatehouse/core'
import { anyText, type CredentialBook, hugeText, mutated, origin, ROUTES, route, SUBJECT, target } from './arbitraries.js'
import { credentialBook } from './book.js'
import { type Holder, policyOptions, SESSION_COOKIE, TOKEN_COOKIE } from './policy.js'
import { type Hit, PERMISSIVE_ROUTER, rawExchange, type Running, startExpress, startFastify } from './servers.js'
import { watchProcess } from './unhandled.js'

const SEED = 20_251_201
const watch = watchProcess()

/** Raw bytes of one request, and whose valid credentials they carry. */
interface RawCase {
  bytes: Buffer
  holders: Set<Holder>
  summary: string
}

/** Text as raw bytes: every UTF-16 unit below 256 is one byte, the rest are UTF-8. */
function bytesOf(text: string): Buffer {
  return Buffer.concat([...text].map((c) => (c.length === 1 && c.charCodeAt(0) < 256 ? Buffer.from([c.charCodeAt(0)]) : Buffer.from(c, 'utf8'))))
}

function rawCase(book: CredentialBook): fc.Arbitrary<RawCase> {
  const holders = Object.keys(book.tokens) as Holder[]
  const token = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...holders).map((h) => ({ value: book.tokens[h], holder: h as Holder | undefined })) },
    { weight: 3, arbitrary: fc.constantFrom(...Object.values(book.badTokens)).map((value) => ({ value, holder: undefined as Holder | undefined })) },
    { weight: 2, arbitrary: fc.constantFrom(...holders).chain((h) => mutated(book.tokens[h])).map((value) => ({ value, holder: undefined as Holder | undefined })) },
  )
  const live = Object.entries(book.sessions) as Array<[Holder, string]>
  const session = fc.oneof(
    fc.constantFrom(...live).map(([h, value]) => ({ value, holder: h as Holder | undefined })),
    fc.constantFrom(...Object.values(book.badSessions)).map((value) => ({ value, holder: undefined as Holder | undefined })),
  )
  const credential = fc.oneof(
    token.map((t) => ({ line: `Authorization: Bearer ${t.value}`, holder: t.holder })),
    token.map((t) => ({ line: `authorization: bearer ${t.value}\r\nAUTHORIZATION: Bearer ${t.value}`, holder: t.holder })),
    token.map((t) => ({ line: `Cookie: ${TOKEN_COOKIE}=${t.value}`, holder: t.holder })),
    session.map((s) => ({ line: `Cookie: ${SESSION_COOKIE}=${s.value}`, holder: s.holder })),
    session.map((s) => ({ line: `Cookie: ${SESSION_COOKIE}=${s.value}\r\nCookie: ${SESSION_COOKIE}=${s.value}`, holder: s.holder })),
  )
  const noiseName = fc.oneof(
    fc.constantFrom('Origin', 'ORIGIN', 'Host', 'Content-Length', 'Transfer-Encoding', 'Sec-Fetch-Site', 'X-Forwarded-For', 'X-Original-URL', 'Upgrade', 'Connection', 'Expect', 'Accept', 'Cookie', 'Authorization', 'Access-Control-Request-Method'),
    anyText(10),
  )
  const line = fc.oneof(
    { weight: 3, arbitrary: credential },
    { weight: 2, arbitrary: origin.map((o) => ({ line: `Origin: ${o}`, holder: undefined })) },
    { weight: 2, arbitrary: fc.tuple(noiseName, fc.constantFrom('chunked', '0', '5', '-1', 'abc', 'websocket', '100-continue', 'close, Upgrade', 'https://evil.example', 'cross-site', '1.2.3.4, 10.0.0.1', '/api/admin/users', 'é', 'x'.repeat(300))).map(([n, v]) => ({ line: `${n}: ${v}`, holder: undefined })) },
    { weight: 1, arbitrary: fc.tuple(noiseName, anyText(40)).map(([n, v]) => ({ line: `${n}: ${v}`, holder: undefined })) },
    { weight: 1, arbitrary: fc.tuple(noiseName, hugeText(40_000)).map(([n, v]) => ({ line: `${n}: ${v}`, holder: undefined })) },
    { weight: 1, arbitrary: fc.constantFrom(' folded continuation', 'NoColonHere', ': no name', 'X: a\u0000b', 'X:\tb', 'Content-Length: 3\r\nContent-Length: 4', 'Transfer-Encoding: chunked\r\nContent-Length: 5').map((l) => ({ line: l, holder: undefined })) },
  )
  return fc
    .record({
      method: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('GET', 'GET', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'PUT') }, { weight: 1, arbitrary: fc.constantFrom('get', 'GETS', 'G\u0000T', '', 'CONNECT', 'PRI', 'GET GET', 'M-SEARCH', 'ＧＥＴ') }),
      target: fc.oneof({ weight: 6, arbitrary: route }, { weight: 4, arbitrary: target }, { weight: 1, arbitrary: anyText(60).map((t) => `/${t}`) }, { weight: 1, arbitrary: hugeText(70_000).map((t) => `/api/${t}`) }),
      version: fc.oneof({ weight: 10, arbitrary: fc.constant('HTTP/1.1') }, { weight: 1, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'http/1.1', 'HTTP/1.1 x', '') }),
      host: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('Host: 127.0.0.1', 'Host: api.example.com') }, { weight: 1, arbitrary: fc.constantFrom('', 'Host: a\r\nHost: b', 'Host: ') }),
      lines: fc.array(line, { maxLength: 4 }),
      ending: fc.oneof({ weight: 10, arbitrary: fc.constant('\r\n\r\n') }, { weight: 1, arbitrary: fc.constantFrom('\n\n', '\r\n', '', '\r\n\r\nGET /api/me HTTP/1.1\r\nHost: x\r\n\r\n', '\r\n\r\nabc') }),
    })
    .map((g) => {
      const holders = new Set<Holder>()
      for (const l of g.lines) if (l.holder !== undefined) holders.add(l.holder)
      const head = [`${g.method} ${g.target} ${g.version}`, g.host, 'Connection: close', ...g.lines.map((l) => l.line)].filter((l) => l !== '').join('\r\n')
      const summary = `${g.method} ${g.target.length > 200 ? `${g.target.slice(0, 200)}…` : g.target} ${g.version} [${g.lines.map((l) => l.line.slice(0, 60)).join(' | ')}]`
      return { bytes: bytesOf(head + g.ending), holders, summary }
    })
}

/** A hit is earned when its principal holds what the route's rule requires and its credential was sent. */
function unearned(hit: Hit, holders: Set<Holder>): string | undefined {
  const known = [...holders].map((h) => SUBJECT[h])
  if (['health', 'docs', 'assets', 'login', 'webhooks'].includes(hit.route)) return undefined
  if (hit.id === null) return `${hit.route} handler ran without a principal`
  if (!known.includes(hit.id)) return `${hit.route} handler ran as '${hit.id}', whose credential was not sent`
  if (hit.route === 'admin' && !hit.roles.includes('admin')) return `admin handler ran for '${hit.id}' without the admin role`
  if (hit.route === 'reports' && !hit.scopes.includes('reports:read')) return `reports handler ran for '${hit.id}' without the reports:read scope`
  if (hit.route === 'items' && !hit.roles.includes('owner')) return `items handler ran for '${hit.id}' without the owner check`
  return undefined
}

const servers: Array<{ name: string; start: (auth: Auth) => Promise<Running> }> = [
  { name: 'Express', start: startExpress },
  { name: 'Fastify', start: (auth) => startFastify(auth) },
  { name: 'Fastify (case-insensitive, duplicate slashes ignored)', start: (auth) => startFastify(auth, PERMISSIVE_ROUTER) },
]

describe.each(servers)('$name fed hostile bytes', ({ start }) => {
  let auth: Auth
  let book: CredentialBook
  let server: Running

  beforeAll(async () => {
    auth = createAuth(policyOptions())
    book = await credentialBook(auth)
    server = await start(auth)
  })
  afterAll(async () => {
    await server.close()
    await auth.close()
  })

  it('never answers 5xx, keeps serving, and runs no protected handler for a principal that lacks its requirement', async () => {
    const statuses = new Map<number, number>()
    await fc.assert(
      fc.asyncProperty(rawCase(book), async (c) => {
        const before = server.hits.length
        const res = await rawExchange(server.port, c.bytes)
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
        expect(res.status, `${c.summary}\n${res.head.slice(0, 300)}\n${res.body.slice(0, 300)}`).toBeLessThan(500)
        for (const h of server.hits.slice(before)) expect(unearned(h, c.holders), c.summary).toBeUndefined()
      }),
      { seed: SEED, numRuns: 600 },
    )
    console.log(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
    // Not vacuous: handlers ran, gatehouse refused, and Node refused what it cannot parse.
    for (const status of [200, 401, 400]) expect(statuses.get(status) ?? 0, `status ${status}`).toBeGreaterThan(5)
    const alive = await rawExchange(server.port, `GET /api/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${book.tokens.user}\r\n\r\n`)
    expect(alive.status).toBe(200)
  }, 120_000)

  it('answers every route with its intended status for valid, missing and forged credentials', async () => {
    for (const path of ROUTES) {
      for (const [name, headers, allowed] of [
        ['admin token', `Authorization: Bearer ${book.tokens.admin}`, true],
        ['no credentials', '', false],
        ['forged token', `Authorization: Bearer ${book.badTokens.wrongKey}`, false],
        ['forged session', `Cookie: ${SESSION_COOKIE}=${book.badSessions.macFlipped}`, false],
      ] as const) {
        const before = server.hits.length
        const res = await rawExchange(server.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers ? `${headers}\r\n` : ''}\r\n`)
        const ran = server.hits.length > before
        const isPublic = ['/health', '/docs/intro', '/assets/app.js', '/webhooks/github'].includes(path)
        expect([200, 401, 403, 404], `${path} with ${name}`).toContain(res.status)
        if (!allowed && !isPublic) {
          expect(ran, `${path} with ${name}`).toBe(false)
          expect(res.status, `${path} with ${name}`).toBe(401)
        }
      }
    }
  })
})

afterAll(() => {
  watch.stop()
  expect(watch.events).toEqual([])
})
