import { once } from 'node:events'
import http from 'node:http'
import net from 'node:net'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { createCsrfGuard, isSafeMethod } from './csrf.js'
import type { AuthRequest } from './decision.js'
import type { Failure } from './deny-codes.js'
import { createOriginPolicy } from './origin-policy.js'
import type { TraceStep } from './trace.js'

// Control and format characters (C0, C1, zero-width, bidi overrides, BOM) and line separators.
const CONTROL = /[\p{Cc}\p{Cf}\u2028\u2029]/u

const HOST = 'api.example.com'
const SAME = 'https://api.example.com'
const ALLOWED = 'https://app.example.com'
const FOREIGN = 'https://evil.test'

const listed = createCsrfGuard(createOriginPolicy({ allow: [ALLOWED] }, { cookieCredentials: true }))
const unlisted = createCsrfGuard(undefined)

function req(method: string, headers: AuthRequest['headers']): AuthRequest {
  return { method, url: '/api/transfer', headers: { host: HOST, cookie: 'sid=s3cr3t-session-value', ...headers } }
}

/** `'pass'`, or the failure's `detail.reason`, after checking the failure's shape. */
function outcome(result: { ok: true } | Failure): string {
  if (result.ok) return 'pass'
  expect(result.code).toBe('csrf_rejected')
  expect(result.hint).not.toMatch(CONTROL)
  expect(result.hint).not.toContain('s3cr3t')
  expect(result.hint.length).toBeLessThan(900)
  return String(result.detail?.reason)
}

describe('isSafeMethod', () => {
  it.each(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'get', 'head', 'options', 'trace', 'Get', 'tRaCe'])('%s is safe', (method) => {
    expect(isSafeMethod(method)).toBe(true)
  })

  it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'post', 'CONNECT', 'PROPFIND', 'MKCOL', 'LOCK', 'GET ', ' GET', 'GETS', 'GE', '', 'G\u0130T', 'opt\u0131ons', 'OPTION\u017f', 'GET\u0000'])('%j is unsafe', (method) => {
    expect(isSafeMethod(method)).toBe(false)
  })

  it('is false for non-strings instead of throwing', () => {
    for (const method of [undefined, null, 42, {}, ['GET']]) expect(isSafeMethod(method as never)).toBe(false)
  })
})

describe('CSRF matrix', () => {
  const SITES = ['absent', 'same-origin', 'same-site', 'cross-site', 'none'] as const
  const ORIGINS = { absent: undefined, same: SAME, allowed: ALLOWED, foreign: FOREIGN, null: 'null' } as const
  type OriginKey = keyof typeof ORIGINS
  type Row = Record<(typeof SITES)[number], string>
  const row = (cell: string): Row => ({ absent: cell, 'same-origin': cell, 'same-site': cell, 'cross-site': cell, none: cell })
  const noOrigin: Row = { absent: 'no_origin', 'same-origin': 'pass', 'same-site': 'same_site', 'cross-site': 'cross_site', none: 'pass' }

  // Unsafe methods. An Origin, when present, decides on its own; Sec-Fetch-Site speaks only without one.
  const expected: Record<'allow-list' | 'no allow-list', Record<OriginKey, Row>> = {
    'allow-list': {
      absent: noOrigin,
      same: row('origin_not_allowed'), // Host is never trusted once an allow-list exists
      allowed: row('pass'),
      foreign: row('origin_not_allowed'),
      null: row('origin_null'),
    },
    'no allow-list': {
      absent: noOrigin,
      same: row('pass'),
      allowed: row('origin_host_mismatch'),
      foreign: row('origin_host_mismatch'),
      null: row('origin_null'),
    },
  }
  const guards = { 'allow-list': listed, 'no allow-list': unlisted }
  const cells = (Object.keys(guards) as Array<keyof typeof guards>).flatMap((config) =>
    (Object.keys(ORIGINS) as OriginKey[]).flatMap((origin) => SITES.map((site) => [config, origin, site] as const)),
  )

  function headers(origin: OriginKey, site: (typeof SITES)[number]): AuthRequest['headers'] {
    return { origin: ORIGINS[origin], 'sec-fetch-site': site === 'absent' ? undefined : site }
  }

  it('has 50 cells per method', () => {
    expect(cells).toHaveLength(50)
  })

  describe.each(['POST', 'PUT', 'PATCH', 'DELETE', 'post', 'PROPFIND'])('unsafe %s', (method) => {
    it.each(cells)('%s, Origin %s, Sec-Fetch-Site %s', (config, origin, site) => {
      expect(outcome(guards[config].check(req(method, headers(origin, site))))).toBe(expected[config][origin][site])
    })
  })

  describe.each(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'get', 'options'])('safe %s', (method) => {
    it.each(cells)('%s, Origin %s, Sec-Fetch-Site %s: pass', (config, origin, site) => {
      expect(outcome(guards[config].check(req(method, headers(origin, site))))).toBe('pass')
    })
  })
})

describe('duplicate headers', () => {
  it.each([
    ['two identical Origin values', { origin: [ALLOWED, ALLOWED] }, 'origin_duplicate'],
    ['an allowed and a foreign Origin', { origin: [ALLOWED, FOREIGN] }, 'origin_duplicate'],
    ['comma-joined Origin values', { origin: `${ALLOWED}, ${FOREIGN}` }, 'origin_duplicate'],
    ['an empty Origin array', { origin: [] }, 'origin_malformed'],
    ['an empty Sec-Fetch-Site array', { 'sec-fetch-site': [] }, 'site_unknown'],
    ['two Sec-Fetch-Site values', { 'sec-fetch-site': ['same-origin', 'cross-site'] }, 'site_duplicate'],
    ['comma-joined Sec-Fetch-Site values', { 'sec-fetch-site': 'same-origin, cross-site' }, 'site_duplicate'],
    ['an allowed Origin beside two Sec-Fetch-Site values', { origin: ALLOWED, 'sec-fetch-site': 'same-origin, same-origin' }, 'site_duplicate'],
  ])('%s → rejected', (_name, headers, reason) => {
    expect(outcome(listed.check(req('POST', headers)))).toBe(reason)
    expect(outcome(unlisted.check(req('POST', headers)))).toBe(reason)
  })

  it('a one-element array counts as one value', () => {
    expect(outcome(listed.check(req('POST', { origin: [ALLOWED] })))).toBe('pass')
    expect(outcome(unlisted.check(req('POST', { 'sec-fetch-site': ['same-origin'] })))).toBe('pass')
  })
})

describe('same-host comparison (no allow-list)', () => {
  it.each([
    ['the same origin', SAME, HOST, 'pass'],
    ['another scheme (scheme-insensitive)', 'http://api.example.com', HOST, 'pass'],
    ['an explicit default port in Origin', 'https://api.example.com:443', HOST, 'pass'],
    ['an explicit default port in Host', SAME, 'api.example.com:443', 'pass'],
    ['port 80 against 443 (both default)', 'http://api.example.com', 'api.example.com:443', 'pass'],
    ['a matching explicit port', 'http://api.example.com:8080', 'api.example.com:8080', 'pass'],
    ['letter case', 'https://API.Example.com', 'api.EXAMPLE.com', 'pass'],
    ['IDN against punycode', 'https://bücher.example', 'xn--bcher-kva.example', 'pass'],
    ['IPv6', 'http://[::1]:3000', '[::1]:3000', 'pass'],
    ['another port in Origin', 'https://api.example.com:8443', HOST, 'origin_host_mismatch'],
    ['another port in Host', SAME, 'api.example.com:8443', 'origin_host_mismatch'],
    ['a subdomain', 'https://x.api.example.com', HOST, 'origin_host_mismatch'],
    ['the parent domain', 'https://example.com', HOST, 'origin_host_mismatch'],
    ['a suffix attack', 'https://api.example.com.evil.test', HOST, 'origin_host_mismatch'],
    ['a prefix attack', 'https://evilapi.example.com', HOST, 'origin_host_mismatch'],
    ['a trailing-dot Host', SAME, 'api.example.com.', 'host_malformed'],
    ['a Host with a path', SAME, 'api.example.com/x', 'host_malformed'],
    ['a Host with userinfo', SAME, 'evil.test@api.example.com', 'host_malformed'],
    ['a Host with whitespace', SAME, 'api.example.com ', 'host_malformed'],
    ['an empty Host', SAME, '', 'host_malformed'],
    ['a comma-joined Host', SAME, `${HOST}, evil.test`, 'host_duplicate'],
    ['a Host array', SAME, [HOST, HOST], 'host_duplicate'],
    ['an empty Host array', SAME, [], 'host_malformed'],
    ['no Host', SAME, undefined, 'host_missing'],
    ['an Origin with a path', `${SAME}/x`, HOST, 'origin_malformed'],
    ['an Origin with userinfo', 'https://api.example.com@evil.test', HOST, 'origin_malformed'],
    ['an Origin with a trailing slash', `${SAME}/`, HOST, 'origin_malformed'],
    ['a non-http(s) Origin', 'chrome-extension://api.example.com', HOST, 'origin_malformed'],
    ['a ws: Origin', 'wss://api.example.com', HOST, 'origin_malformed'],
    ['an empty Origin', '', HOST, 'origin_malformed'],
  ])('%s', (_name, origin, host, reason) => {
    expect(outcome(unlisted.check({ method: 'POST', url: '/', headers: { origin, host } }))).toBe(reason)
  })

  it('uses the HTTP/2 :authority when there is no Host, and refuses a disagreement', () => {
    expect(outcome(unlisted.check({ method: 'POST', url: '/', headers: { origin: SAME, ':authority': HOST } }))).toBe('pass')
    expect(outcome(unlisted.check({ method: 'POST', url: '/', headers: { origin: SAME, ':authority': HOST, host: HOST } }))).toBe('pass')
    expect(outcome(unlisted.check({ method: 'POST', url: '/', headers: { origin: FOREIGN, ':authority': 'evil.test', host: HOST } }))).toBe('host_mismatch')
    expect(outcome(unlisted.check({ method: 'POST', url: '/', headers: { origin: SAME, ':authority': 'evil.test', host: HOST } }))).toBe('host_mismatch')
  })

  it('a policy without an allow-list behaves like no policy', () => {
    const guard = createCsrfGuard(createOriginPolicy({}))
    expect(outcome(guard.check(req('POST', { origin: SAME })))).toBe('pass')
    expect(outcome(guard.check(req('POST', { origin: ALLOWED })))).toBe('origin_host_mismatch')
  })
})

describe('allow-list', () => {
  it('never trusts Host: a forged Host equal to the Origin is still refused', () => {
    expect(outcome(listed.check({ method: 'POST', url: '/', headers: { origin: FOREIGN, host: 'evil.test' } }))).toBe('origin_not_allowed')
    expect(outcome(listed.check({ method: 'POST', url: '/', headers: { origin: ALLOWED } }))).toBe('pass')
  })

  it('follows the policy: wildcards, ports and normalisation', () => {
    const guard = createCsrfGuard(createOriginPolicy({ allow: ['https://*.example.com', 'http://localhost:*'] }))
    for (const origin of ['https://app.example.com', 'https://APP.example.com:443', 'http://localhost:5173']) expect(outcome(guard.check(req('POST', { origin })))).toBe('pass')
    for (const origin of ['https://example.com', 'https://evilexample.com', 'http://app.example.com', 'https://localhost:5173', `${ALLOWED}/`]) expect(outcome(guard.check(req('POST', { origin })))).toBe('origin_not_allowed')
  })

  it("refuses Origin 'null' even when the policy lists it", () => {
    const guard = createCsrfGuard(createOriginPolicy({ allow: [ALLOWED, 'null'] }, { warn: vi.fn() }))
    expect(outcome(guard.check(req('POST', { origin: 'null' })))).toBe('origin_null')
    expect(outcome(guard.check(req('POST', { origin: ['null'] })))).toBe('origin_null')
  })

  it("treats '*' (possible only without cookie credentials) as allowing every well-formed origin", () => {
    const guard = createCsrfGuard(createOriginPolicy({ allow: ['*'] }))
    expect(outcome(guard.check(req('POST', { origin: FOREIGN })))).toBe('pass')
    expect(outcome(guard.check(req('POST', { origin: 'null' })))).toBe('origin_null')
    expect(outcome(guard.check(req('POST', { origin: `${FOREIGN}/x` })))).toBe('origin_not_allowed')
  })
})

describe('Sec-Fetch-Site without Origin', () => {
  it.each([
    ['same-origin', 'pass'],
    ['none', 'pass'],
    ['same-site', 'same_site'],
    ['cross-site', 'cross_site'],
    ['Same-Origin', 'site_unknown'],
    ['same-origin ', 'site_unknown'],
    ['', 'site_unknown'],
    ['anything', 'site_unknown'],
  ])('%j → %s', (site, expected) => {
    expect(outcome(listed.check(req('POST', { 'sec-fetch-site': site })))).toBe(expected)
    expect(outcome(unlisted.check(req('POST', { 'sec-fetch-site': site })))).toBe(expected)
  })
})

describe('attacks', () => {
  it('a cross-site form POST (Origin and Sec-Fetch-Site as a browser sends them) is refused', () => {
    const headers = { origin: FOREIGN, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'content-type': 'application/x-www-form-urlencoded' }
    expect(outcome(listed.check(req('POST', headers)))).toBe('origin_not_allowed')
    expect(outcome(unlisted.check(req('POST', headers)))).toBe('origin_host_mismatch')
  })

  it('a sibling subdomain (subdomain takeover) is refused: same-site is not same-origin', () => {
    const headers = { origin: 'https://blog.example.com', 'sec-fetch-site': 'same-site' }
    expect(outcome(listed.check(req('POST', headers)))).toBe('origin_not_allowed')
    expect(outcome(unlisted.check(req('POST', headers)))).toBe('origin_host_mismatch')
    expect(outcome(listed.check(req('DELETE', { 'sec-fetch-site': 'same-site' })))).toBe('same_site')
  })

  it('a sandboxed iframe (Origin: null) is refused', () => {
    expect(outcome(unlisted.check(req('POST', { origin: 'null', 'sec-fetch-site': 'cross-site' })))).toBe('origin_null')
  })

  it('a request that strips both Origin and Sec-Fetch-Site (old browser, plugin) is refused', () => {
    expect(outcome(listed.check(req('POST', {})))).toBe('no_origin')
    expect(outcome(unlisted.check(req('PATCH', {})))).toBe('no_origin')
  })

  it('the method override trick does not turn POST into a safe method', () => {
    expect(outcome(listed.check(req('POST', { origin: FOREIGN, 'x-http-method-override': 'GET' })))).toBe('origin_not_allowed')
  })

  it('duplicate Origin headers sent over a real socket are joined by Node and refused', async () => {
    const guard = createCsrfGuard(createOriginPolicy({ allow: [ALLOWED] }))
    const server = http.createServer((incoming, res) => {
      const result = guard.check({ method: incoming.method ?? '', url: incoming.url ?? '/', headers: incoming.headers })
      res.end(result.ok ? 'pass' : String(result.detail?.reason))
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as net.AddressInfo
    const send = async (lines: string[]): Promise<string> => {
      const socket = net.connect(port, '127.0.0.1')
      await once(socket, 'connect')
      socket.end(`POST / HTTP/1.1\r\nHost: api.example.com\r\n${lines.join('\r\n')}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
      let response = ''
      for await (const chunk of socket) response += String(chunk)
      return response.slice(response.indexOf('\r\n\r\n') + 4)
    }
    try {
      expect(await send([`Origin: ${ALLOWED}`])).toBe('pass')
      expect(await send([`Origin: ${ALLOWED}`, `Origin: ${FOREIGN}`])).toBe('origin_duplicate')
      expect(await send([`Origin: ${FOREIGN}`, `Origin: ${ALLOWED}`])).toBe('origin_duplicate')
      expect(await send(['Sec-Fetch-Site: same-origin', 'Sec-Fetch-Site: cross-site'])).toBe('site_duplicate')
      expect(await send(['Sec-Fetch-Site: same-origin'])).toBe('pass')
    } finally {
      server.close()
    }
  })
})

describe('hints and trace', () => {
  it('name the Origin seen and the fix', () => {
    const result = listed.check(req('POST', { origin: FOREIGN }))
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.hint).toContain(`'${FOREIGN}'`)
    expect(result.hint).toContain('add the origin to origins.allow')
    expect(result.detail).toEqual({ reason: 'origin_not_allowed', origin: FOREIGN })
  })

  it('name the Sec-Fetch-Site seen', () => {
    const result = unlisted.check(req('POST', { 'sec-fetch-site': 'cross-site' }))
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.hint).toContain("'cross-site'")
    expect(result.hint).toContain('send the request from the same origin')
    expect(result.detail).toEqual({ reason: 'cross_site', secFetchSite: 'cross-site' })
  })

  it('name the Host on a mismatch', () => {
    const result = unlisted.check(req('POST', { origin: FOREIGN }))
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.hint).toContain(`'${HOST}'`)
  })

  it('sanitise and truncate what the client sent', () => {
    for (const headers of [
      { origin: `https://evil.test\r\nX-Log: forged\u202e${'a'.repeat(5000)}` },
      { 'sec-fetch-site': `x\u0000\n${'b'.repeat(5000)}` },
      { origin: SAME, host: `api.example.com\r\n${'c'.repeat(5000)}` },
    ]) {
      for (const guard of [listed, unlisted]) {
        const result = guard.check(req('POST', headers))
        expect(outcome(result)).not.toBe('pass')
        if (!result.ok) expect(JSON.stringify(result.detail ?? {})).not.toMatch(CONTROL)
      }
    }
  })

  it('report each decision to the trace sink', () => {
    const steps: TraceStep[] = []
    const sink = (step: TraceStep) => steps.push(step)
    listed.check(req('GET', {}), sink)
    listed.check(req('POST', { origin: ALLOWED }), sink)
    listed.check(req('POST', { origin: FOREIGN }), sink)
    unlisted.check(req('POST', { 'sec-fetch-site': 'none' }), sink)
    expect(steps.map((s) => [s.step, s.outcome])).toEqual([
      ['csrf', 'skip'],
      ['csrf', 'pass'],
      ['csrf', 'fail'],
      ['csrf', 'pass'],
    ])
    expect(steps[2]?.data).toEqual({ reason: 'origin_not_allowed', origin: FOREIGN })
  })
})

describe('never throws', () => {
  const headerValue = fc.oneof(
    fc.constant(undefined),
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.constantFrom(SAME, ALLOWED, FOREIGN, 'null', HOST, 'same-origin', 'none', 'same-site', 'cross-site'),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.anything(),
  )
  const headers = fc.record(
    { origin: headerValue, 'sec-fetch-site': headerValue, host: headerValue, ':authority': headerValue, cookie: headerValue },
    { requiredKeys: [] },
  )

  it('for any method and headers, and answers csrf_rejected when it refuses', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom('GET', 'POST', 'put', 'DELETE'), fc.string(), fc.anything()), headers, fc.boolean(), (method, h, withList) => {
        const guard = withList ? listed : unlisted
        const result = guard.check({ method: method as string, url: '/', headers: h as AuthRequest['headers'] })
        if (!result.ok) outcome(result)
      }),
      { numRuns: 3000 },
    )
  })

  it('for a request object that is not one', () => {
    for (const bad of [{}, { method: 'POST' }, { method: 'POST', headers: null }, null, undefined]) {
      expect(outcome(listed.check(bad as never))).not.toBe('pass')
    }
    expect(outcome(listed.check({ method: 'GET' } as never))).toBe('pass')
    // An object whose conversion to a string throws must not make the hint throw.
    expect(outcome(listed.check({ method: { toString: 0 }, url: '/', headers: {} } as never))).toBe('no_origin')
    expect(outcome(listed.check({ method: Object.create(null), url: '/', headers: { origin: FOREIGN } } as never))).toBe('origin_not_allowed')
  })
})
