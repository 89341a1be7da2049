// Hostile WebSocket handshakes sent as raw bytes to a real `ws` server behind @gatehouse/ws:
// broken keys and versions, hostile origins (Origin and Sec-WebSocket-Origin), credentials in
// every transport, valid and forged. The handler never answers 5xx and never crashes, and an
// upgrade completes (101) only for a public path or a request that carries a valid credential, and
// never from a refused origin.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Auth, createAuth } from '@gatehouse/core'
import { allowedOrigin, type CredentialBook, mutated, origin, route, target } from './arbitraries.js'
import { credentialBook } from './book.js'
import { mayBePublic, originAllowed } from './oracles.js'
import { type Holder, policyOptions, SESSION_COOKIE, TOKEN_QUERY } from './policy.js'
import { rawHandshake } from './servers.js'
import { startWs } from './soak.js'
import { watchProcess } from './unhandled.js'

const SEED = 20_251_202
const watch = watchProcess()

interface Handshake {
  bytes: Buffer
  holders: Set<Holder>
  origins: Array<string | undefined>
  method: string
  url: string
  summary: string
}

function handshake(book: CredentialBook): fc.Arbitrary<Handshake> {
  const holders = Object.keys(book.tokens) as Holder[]
  const token = fc.oneof(
    fc.constantFrom(...holders).map((h) => ({ value: book.tokens[h], holder: h as Holder | undefined })),
    fc.constantFrom(...Object.values(book.badTokens)).map((value) => ({ value, holder: undefined as Holder | undefined })),
    fc.constantFrom(...holders).chain((h) => mutated(book.tokens[h])).map((value) => ({ value, holder: undefined as Holder | undefined })),
  )
  const live = Object.entries(book.sessions) as Array<[Holder, string]>
  const credential = fc.oneof(
    token.map((t) => ({ line: `Sec-WebSocket-Protocol: gatehouse, gatehouse.bearer.${t.value}`, query: '', holder: t.holder })),
    token.map((t) => ({ line: `Sec-WebSocket-Protocol: gatehouse.bearer.${t.value}, chat, gatehouse.bearer.${t.value}`, query: '', holder: t.holder })),
    token.map((t) => ({ line: `Authorization: Bearer ${t.value}`, query: '', holder: t.holder })),
    token.map((t) => ({ line: '', query: `${TOKEN_QUERY}=${encodeURIComponent(t.value)}`, holder: t.holder })),
    fc.constantFrom(...live).map(([h, v]) => ({ line: `Cookie: ${SESSION_COOKIE}=${v}`, query: '', holder: h as Holder | undefined })),
    fc.constantFrom(...Object.values(book.badSessions)).map((v) => ({ line: `Cookie: ${SESSION_COOKIE}=${v}`, query: '', holder: undefined as Holder | undefined })),
    fc.constant({ line: '', query: '', holder: undefined as Holder | undefined }),
  )
  const originValue = fc.oneof({ weight: 3, arbitrary: allowedOrigin }, { weight: 2, arbitrary: origin.filter((o) => !/[\r\n\0]/.test(o) && o.length < 4000) })
  return fc
    .record({
      method: fc.oneof({ weight: 8, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: fc.constantFrom('POST', 'get', 'OPTIONS', 'CONNECT') }),
      // Targets Node can parse: hostile request lines are hostile-http.test.ts's subject.
      target: fc.oneof({ weight: 3, arbitrary: route }, { weight: 2, arbitrary: target.filter((t) => /^[\x21-\x7e]+$/.test(t)) }),
      key: fc.constantFrom('dGhlIHNhbXBsZSBub25jZQ==', 'dGhlIHNhbXBsZSBub25jZQ==', 'dGhlIHNhbXBsZSBub25jZQ==', 'short', ''),
      version: fc.constantFrom('13', '13', '13', '8', '99', 'x'),
      upgrade: fc.constantFrom('websocket', 'websocket', 'WebSocket', 'h2c', 'websocket, x'),
      origin: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: originValue }),
      wsOrigin: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: originValue }),
      twoOrigins: fc.boolean(),
      credentials: fc.array(credential, { minLength: 1, maxLength: 2 }),
    })
    .map((g) => {
      const holders = new Set<Holder>()
      const query: string[] = []
      const lines = ['Host: 127.0.0.1', `Upgrade: ${g.upgrade}`, 'Connection: Upgrade', `Sec-WebSocket-Key: ${g.key}`, `Sec-WebSocket-Version: ${g.version}`]
      const origins: Array<string | undefined> = []
      if (g.origin !== undefined) {
        lines.push(`Origin: ${g.origin}`)
        origins.push(g.origin)
        if (g.twoOrigins) {
          lines.push(`Origin: ${g.origin}`)
          origins.push(undefined)
        }
      }
      if (g.wsOrigin !== undefined) {
        lines.push(`Sec-WebSocket-Origin: ${g.wsOrigin}`)
        origins.push(g.wsOrigin)
      }
      for (const c of g.credentials) {
        if (c.holder !== undefined) holders.add(c.holder)
        if (c.line) lines.push(c.line)
        if (c.query) query.push(c.query)
      }
      const path = query.length ? `${g.target}${g.target.includes('?') ? '&' : '?'}${query.join('&')}` : g.target
      const head = `${g.method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`
      return { bytes: Buffer.from(head, 'latin1'), holders, origins, method: g.method, url: path, summary: head.replace(/\r\n/g, ' | ').slice(0, 600) }
    })
}

describe('ws upgrade handler fed hostile handshakes', () => {
  let auth: Auth
  let book: CredentialBook
  let server: Awaited<ReturnType<typeof startWs>>

  beforeAll(async () => {
    auth = createAuth(policyOptions())
    book = await credentialBook(auth)
    server = await startWs(auth)
  })
  afterAll(async () => {
    await server.close()
    await auth.close()
    watch.stop()
    expect(watch.events).toEqual([])
  })

  it('never answers 5xx, and opens only for a public path or a valid credential, from an allowed (or no) origin', async () => {
    const statuses: Record<number, number> = {}
    await fc.assert(
      fc.asyncProperty(handshake(book), async (h) => {
        const res = await rawHandshake(server.port, h.bytes)
        statuses[res.status] = (statuses[res.status] ?? 0) + 1
        expect(res.status, `${h.summary}\n${res.head.slice(0, 300)}`).toBeLessThan(500)
        // No answer is fine only when the server closed the connection (Node does so for CONNECT);
        // a handshake left hanging would hold a socket.
        if (res.status === 0) expect(res.closed, `left hanging: ${h.summary}`).toBe(true)
        if (res.status === 101) {
          expect(h.holders.size > 0 || mayBePublic(h.method, h.url), `upgraded without a valid credential: ${h.summary}`).toBe(true)
          for (const o of h.origins) expect(originAllowed(o), `upgraded from origin ${o}: ${h.summary}`).toBe(true)
          // The token is never echoed back as the selected subprotocol.
          expect(res.head, h.summary).not.toMatch(/sec-websocket-protocol: gatehouse\.bearer\./i)
        }
      }),
      { seed: SEED, numRuns: 800 },
    )
    console.log(`ws handshake statuses: ${JSON.stringify(statuses)}`)
    for (const status of [101, 400, 401, 403]) expect(statuses[status] ?? 0, `status ${status}`).toBeGreaterThan(5)
  }, 120_000)
})
