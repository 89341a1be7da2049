// Property and fuzz tests of auth.check and auth.checkUpgrade for a realistic policy (jwt +
// session + public + rules + origins). Every generated request must produce a well-formed
// Decision, never a throw; no dependency is faulty here, so never a 503 either. Allows are held
// against independent oracles (oracles.ts): public only for canonical public paths, bearer or
// session only for a holder whose valid credential the request carries, cookie-borne writes only
// past the CSRF rule, upgrades only from allowed origins, protective rules on every spelling.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Auth, createAuth, type Decision, readCookie } from '@gatehouse/core'
import { request } from '@gatehouse/core/testing'
import { type Case, type CredentialBook, hugeText, requestCase, SUBJECT } from './arbitraries.js'
import { credentialBook } from './book.js'
import { csrfMayPass, expectLogSafe, expectWellFormed, isPreflight, isSafe, mayBePublic, mayReach, originAllowed, readings } from './oracles.js'
import { badTokens, CLAIMS, issuer, policyOptions, TOKEN_COOKIE } from './policy.js'

const SEED = 20_251_130

let auth: Auth
let book: CredentialBook

beforeAll(async () => {
  auth = createAuth(policyOptions())
  book = await credentialBook(auth)
})
afterAll(async () => {
  await auth.close()
})

async function judge(c: Case, upgrade: boolean): Promise<Decision> {
  const run = upgrade ? auth.checkUpgrade(c.req) : auth.check(c.req)
  expect(run).toBeInstanceOf(Promise)
  return run
}

function describeCase(c: Case): string {
  const headers = Object.fromEntries(Object.entries(c.req.headers).map(([k, v]) => [k, typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…(${v.length})` : v]))
  return JSON.stringify({ method: c.req.method, url: c.req.url.length > 300 ? `${c.req.url.slice(0, 300)}…` : c.req.url, headers, holders: [...c.holders] })
}

/** Invariants shared by check and checkUpgrade. */
function expectSound(c: Case, d: Decision, upgrade: boolean): void {
  const context = describeCase(c)
  expectWellFormed(d, context)
  // Nothing here is down or slow: a 503 can only be an internal error that was caught.
  if (!d.ok) expect(d.status, `${context}\n${d.hint}`).not.toBe(503)
  const shown = d.ok ? JSON.stringify(d.claims ?? {}) : `${d.hint} ${JSON.stringify(d.headers)}`
  for (const secret of c.secrets) expect(shown.includes(secret), `${context}: a credential is echoed in ${shown.slice(0, 300)}`).toBe(false)
  if (!d.ok) return
  if (d.via === 'public') {
    expect(mayBePublic(c.req.method, c.req.url) || isPreflight(c.req.method, c.req.headers, upgrade), `public allow of a path that is not canonical and public: ${context}`).toBe(true)
    return
  }
  const subjects = [...c.holders].map((h) => SUBJECT[h])
  expect(subjects, `${d.via} allow as '${d.principal?.id}' without that holder's valid credential: ${context}`).toContain(d.principal?.id)
  const cookieBorne = d.via === 'session' || (c.req.headers.authorization === undefined && readCookie(c.req.headers, TOKEN_COOKIE).length > 0)
  if (cookieBorne && !isSafe(c.req.method)) expect(csrfMayPass(c.req.headers), `cookie-borne ${c.req.method} passed the CSRF rule: ${context}`).toBe(true)
}

function expectOriginPolicy(c: Case, d: Decision): void {
  if (!d.ok) return
  const context = describeCase(c)
  const origin = c.req.headers.origin
  if (origin !== undefined) {
    const single = Array.isArray(origin) ? (origin.length === 1 ? origin[0] : undefined) : origin
    expect(originAllowed(single), `upgrade allowed from Origin ${JSON.stringify(origin)?.slice(0, 200)}: ${context}`).toBe(true)
  }
  const wsOrigin = c.req.headers['sec-websocket-origin']
  if (wsOrigin !== undefined) expect(originAllowed(wsOrigin), `upgrade allowed with Sec-WebSocket-Origin ${JSON.stringify(wsOrigin)?.slice(0, 200)}: ${context}`).toBe(true)
}

/** Outcome counts of a property run, so a test can show that it exercised allows and denies alike. */
function tally(): { add(d: Decision): void; counts: Record<string, number> } {
  const counts: Record<string, number> = {}
  return {
    counts,
    add(d) {
      const key = d.ok ? `allow:${d.via}` : d.code
      counts[key] = (counts[key] ?? 0) + 1
    },
  }
}

describe('auth.check on generated hostile requests', () => {
  it('always answers a well-formed Decision, and every allow is earned', async () => {
    const seen = tally()
    await fc.assert(
      fc.asyncProperty(requestCase(book, false), async (c) => {
        const d = await judge(c, false)
        seen.add(d)
        expectSound(c, d, false)
      }),
      { seed: SEED, numRuns: 5000 },
    )
    console.log(`auth.check outcomes: ${JSON.stringify(seen.counts)}`)
    // Not vacuous: every way in and the main ways out occur.
    for (const key of ['allow:public', 'allow:bearer', 'allow:session', 'credentials_missing', 'credentials_malformed', 'token_signature_invalid', 'session_invalid', 'csrf_rejected', 'insufficient_role']) {
      expect(seen.counts[key] ?? 0, key).toBeGreaterThan(10)
    }
  }, 120_000)

  it('never lets in a request that carries only expired, forged, mutated or unknown credentials', async () => {
    await fc.assert(
      fc.asyncProperty(requestCase(book, false), async (c) => {
        fc.pre(c.holders.size === 0)
        const d = await judge(c, false)
        if (d.ok) {
          expect(d.via, describeCase(c)).toBe('public')
          return
        }
        expect(d.status, `${describeCase(c)}\n${d.code}: ${d.hint}`).toBe(401)
      }),
      { seed: SEED + 1, numRuns: 1500 },
    )
  }, 120_000)

  it('refuses every catalogued bad token on a protected path with a 401 token or credentials code', async () => {
    for (const [name, token] of Object.entries(badTokens())) {
      for (const where of ['header', 'cookie', 'query'] as const) {
        const req =
          where === 'header' ? request('GET', '/api/admin/users', { authorization: `Bearer ${token}` })
          : where === 'cookie' ? request('GET', '/api/admin/users', { cookie: `${TOKEN_COOKIE}=${token}` })
          : request('GET', `/api/admin/users?access_token=${encodeURIComponent(token)}`)
        const d = await auth.check(req)
        expect(d.ok, `${name} in the ${where}`).toBe(false)
        if (!d.ok) {
          expect(d.status, `${name} in the ${where}: ${d.code}`).toBe(401)
          expect(d.code, `${name} in the ${where}`).toMatch(/^(token_|credentials_malformed$)/)
        }
      }
    }
  })
})

describe('auth.checkUpgrade on generated hostile handshakes', () => {
  it('always answers a well-formed Decision; allows are earned and come from allowed origins', async () => {
    const seen = tally()
    await fc.assert(
      fc.asyncProperty(requestCase(book, true), async (c) => {
        const d = await judge(c, true)
        seen.add(d)
        expectSound(c, d, true)
        expectOriginPolicy(c, d)
      }),
      { seed: SEED + 2, numRuns: 4000 },
    )
    console.log(`auth.checkUpgrade outcomes: ${JSON.stringify(seen.counts)}`)
    for (const key of ['allow:public', 'allow:bearer', 'allow:session', 'origin_rejected', 'credentials_missing', 'token_signature_invalid']) {
      expect(seen.counts[key] ?? 0, key).toBeGreaterThan(10)
    }
  }, 120_000)
})

describe('hints are safe to log', () => {
  it('property: no hint carries a control character or line separator, whatever the request sent', async () => {
    await fc.assert(
      fc.asyncProperty(requestCase(book, false), fc.boolean(), async (c, upgrade) => {
        expectLogSafe(await judge(c, upgrade), describeCase(c))
      }),
      { seed: SEED + 5, numRuns: 3000 },
    )
  }, 120_000)

  // Node accepts bytes 0x80-0xFF in header values and reads them as Latin-1, so C1 controls such
  // as NEL (U+0085) and CSI (U+009B, a terminal escape) reach gatehouse from any HTTP client.
  it.each([
    ['NEL', '\u0085'],
    ['CSI', '\u009b31m'],
    ['CR LF', '\r\nlevel=error msg=forged'],
    ['ESC', '\u001b[2J'],
  ])('a cookie name with %s is escaped in the credentials_missing hint', async (_name, bad) => {
    const d = await auth.check(request('GET', '/api/me', { cookie: `${bad}=1` }))
    expect(d.ok ? 'allowed' : d.code).toBe('credentials_missing')
    expectLogSafe(d, JSON.stringify(bad))
  })
})

describe('protective rules hold on every spelling of a path', () => {
  // Two rules that a path and its normalised form reach differently: a router, proxy or file
  // server that resolves `..` (or drops `;…`, decodes `%2e`) sends the request to the second.
  const spellings = ['/api/reports/../admin/users', '/api/reports/%2e%2e/admin/users', '/api/reports/..;/admin/users', '/api/reports/.%2E/admin/users', '/api/reports/%C0%AE%C0%AE/admin/users', '/api/reports\\..\\admin\\users']

  it.each(spellings)("a user token (reports scope, no admin role) is refused on %s, which normalises into /api/admin", async (url) => {
    expect(readings(url)).toContain('/api/admin/users')
    const d = await auth.check(request('GET', url, { authorization: `Bearer ${book.tokens.user}` }))
    expect(d.ok ? `allowed via ${d.via} as ${d.principal?.id}` : d.code).toBe('insufficient_role')
  })

  it('an owner-only DELETE check runs on /api/reports/../items/7 too', async () => {
    const d = await auth.check(request('DELETE', '/api/reports/../items/7', { authorization: `Bearer ${book.tokens.user}` }))
    expect(d.ok ? `allowed via ${d.via} as ${d.principal?.id}` : d.code).toBe('forbidden')
  })

  it('property: no generated spelling reaches an admin, reports or owner-only path without the role, scope or check', async () => {
    const segment = fc.constantFrom('api', 'API', 'admin', 'reports', 'items', '7', 'docs', 'health', '..', '.', '%2e%2e', '%2E.', '..;', ';x', '%2f', '%5c', '', '%61dmin', '%C0%AE%C0%AE')
    const url = fc.tuple(fc.array(segment, { minLength: 1, maxLength: 7 }), fc.constantFrom('/', '/', '\\', '//')).map(([segs, sep]) => `/${segs.join(sep)}`)
    const holder = fc.constantFrom('user', 'owner', 'admin') as fc.Arbitrary<keyof typeof CLAIMS>
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'DELETE', 'POST'), url, holder, async (method, u, h) => {
        const d = await auth.check(request(method, u, { authorization: `Bearer ${book.tokens[h]}` }))
        if (!d.ok || d.via === 'public') return
        const p = d.principal
        const context = `${method} ${u} as ${h} → allowed (readings ${JSON.stringify(readings(u))})`
        if (mayReach(u, '/api/admin')) expect(p?.roles, context).toContain('admin')
        if (mayReach(u, '/api/reports')) expect(p?.scopes, context).toContain('reports:read')
        if (method === 'DELETE' && readings(u).some((r) => /^\/api\/items\/[^/]+\/?$/.test(r))) expect(p?.roles, context).toContain('owner')
      }),
      { seed: SEED + 3, numRuns: 3000 },
    )
  }, 120_000)
})

describe('denial of service through size', () => {
  // Each input is judged in time bounded by a small multiple of reading it: a quadratic step
  // anywhere would take minutes on these sizes. The bound leaves room for a busy machine.
  const MB = 1024 * 1024
  const cases: Array<[string, () => Parameters<Auth['check']>[0]]> = [
    ['a 1 MiB path of dot segments', () => request('GET', `/docs/${'../'.repeat(MB / 3)}x`)],
    ['a 1 MiB path of percent-escapes', () => request('GET', `/api/${'%2e%2e%2f'.repeat(MB / 9)}`)],
    ['a 1 MiB query', () => request('GET', `/api/me?${'access_token=&'.repeat(MB / 13)}`, { authorization: `Bearer ${book.tokens.user}` })],
    ['a 1 MiB token', () => request('GET', '/api/me', { authorization: `Bearer eyJ${'A'.repeat(MB)}.eyJ.sig` })],
    ['a 1 MiB token of dots', () => request('GET', '/api/me', { authorization: `Bearer ${'.'.repeat(MB)}` })],
    ['a 1 MiB cookie header of 100k cookies', () => request('POST', '/api/me', { cookie: 'a=b; '.repeat(MB / 5), origin: 'https://app.example.com' })],
    ['100k session cookies', () => request('GET', '/api/me', { cookie: `gatehouse.sid=${book.sessions.user}; `.repeat(100_000) })],
    ['a 1 MiB Origin', () => request('GET', '/api/me', { origin: `https://${'a.'.repeat(MB / 2)}example.com`, authorization: `Bearer ${book.tokens.user}` })],
    ['10k subprotocols', () => request('GET', '/api/me', { 'sec-websocket-protocol': 'gatehouse.bearer.x, '.repeat(10_000), upgrade: 'websocket' })],
    ['10k Authorization values', () => request('GET', '/api/me', { authorization: Array.from({ length: 10_000 }, () => 'Bearer x') })],
  ]

  it.each(cases)('%s is refused or judged within 500 ms', async (name, make) => {
    const req = make()
    for (const upgrade of [false, true]) {
      const started = performance.now()
      const d = upgrade ? await auth.checkUpgrade(req) : await auth.check(req)
      const ms = performance.now() - started
      expectWellFormed(d, name)
      expect(ms).toBeLessThan(500)
    }
  })

  it('property: generated header values up to 1 MiB (64 times what Node accepts) never take long', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('authorization', 'cookie', 'origin', 'sec-fetch-site', 'sec-websocket-protocol', 'host'), hugeText(MB), fc.boolean(), async (name, value, upgrade) => {
        const req = request('POST', '/api/me', { [name]: value })
        const started = performance.now()
        const d = upgrade ? await auth.checkUpgrade(req) : await auth.check(req)
        const ms = performance.now() - started
        expectWellFormed(d, name)
        expect(ms, `${name}: ${value.length} characters of ${JSON.stringify(value.slice(0, 4))}`).toBeLessThan(500)
      }),
      { seed: SEED + 4, numRuns: 80 },
    )
  }, 60_000)
})

it('the valid credentials of the book are accepted, so the properties above are not vacuous', async () => {
  const me = (headers: Record<string, string>) => auth.check(request('GET', '/api/me', headers))
  for (const [holder, token] of Object.entries(book.tokens)) expect(await me({ authorization: `Bearer ${token}` }), holder).toMatchObject({ ok: true, via: 'bearer' })
  for (const [holder, value] of Object.entries(book.sessions)) expect(await me({ cookie: `gatehouse.sid=${value}` }), holder).toMatchObject({ ok: true, via: 'session' })
  expect(await me({ cookie: `${TOKEN_COOKIE}=${book.tokens.admin}` })).toMatchObject({ ok: true, via: 'bearer' })
  expect(await auth.check(request('GET', `/api/me?access_token=${book.tokens.admin}`))).toMatchObject({ ok: true, via: 'bearer' })
  expect(await auth.check(request('GET', '/api/admin/x', { authorization: `Bearer ${issuer.sign(CLAIMS.admin)}` }))).toMatchObject({ ok: true })
})
