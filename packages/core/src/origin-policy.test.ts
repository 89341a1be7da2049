import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { GatehouseConfigError } from './config-error.js'
import { createOriginPolicy, MAX_ORIGIN_LENGTH, type OriginPolicy, type OriginResult, originPatternProblem, originsOptionsSchema, showValue } from './origin-policy.js'

// Control and format characters (C0, C1, zero-width, bidi overrides, BOM) and line separators.
const CONTROL = /[\p{Cc}\p{Cf}\u2028\u2029]/u

function policy(allow?: string[], allowMissing?: boolean): OriginPolicy {
  return createOriginPolicy(allowMissing === undefined ? { allow } : { allow, allowMissing }, { warn: () => {} })
}

function configError(fn: () => unknown): GatehouseConfigError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(GatehouseConfigError)
    return error as GatehouseConfigError
  }
  throw new Error('expected a GatehouseConfigError')
}

function rejected(result: OriginResult): string {
  expect(result.ok).toBe(false)
  if (result.ok) throw new Error('unreachable')
  expect(result.code).toBe('origin_rejected')
  expect(result.hint).not.toMatch(CONTROL)
  expect(result.hint.length).toBeLessThan(800)
  return result.hint
}

describe('WHATWG normalisation', () => {
  it.each([
    ['https://app.example.com', 'HTTPS://APP.EXAMPLE.COM:443'],
    ['HTTPS://APP.EXAMPLE.COM:443', 'https://app.example.com'],
    ['https://App.Example.Com', 'https://app.example.com'],
    ['http://app.example.com', 'http://app.example.com:80'],
    ['http://app.example.com:80', 'http://APP.example.com'],
    ['https://app.example.com:8443', 'https://app.example.com:08443'],
    ['https://bücher.example', 'https://xn--bcher-kva.example'],
    ['https://xn--bcher-kva.example', 'https://bücher.example'],
    ['https://BÜCHER.example', 'https://xn--bcher-kva.example'],
    ['http://127.0.0.1:3000', 'http://0x7f.0.0.1:3000'],
    ['http://[::1]:3000', 'http://[0:0:0:0:0:0:0:1]:3000'],
    ['ws://app.example.com', 'WS://app.example.com:80'],
  ])('allow %s accepts %s', (pattern, presented) => {
    expect(policy([pattern]).check(presented)).toEqual({ ok: true })
  })

  it.each([
    ['https://app.example.com', 'http://app.example.com'],
    ['http://app.example.com', 'https://app.example.com'],
    ['https://app.example.com', 'https://app.example.com:8443'],
    ['https://app.example.com:8443', 'https://app.example.com'],
    ['http://app.example.com', 'http://app.example.com:443'],
    ['https://app.example.com', 'https://app.example.com:80'],
    ['https://bücher.example', 'https://bucher.example'],
    ['https://bücher.example', 'https://xn--bcher-kva.example.com'],
    ['https://app.example.com', 'https://app.example.co'],
    ['https://app.example.com', 'https://app.example.com.evil.test'],
  ])('allow %s rejects %s', (pattern, presented) => {
    rejected(policy([pattern]).check(presented))
  })

  it('accepts a single-element array like the bare value', () => {
    expect(policy(['https://app.example.com']).check(['https://app.example.com'])).toEqual({ ok: true })
    rejected(policy(['https://app.example.com']).check(['https://evil.test']))
  })
})

describe('subdomain wildcards', () => {
  const p = policy(['https://*.example.com'])

  it.each(['https://a.example.com', 'https://a.b.example.com', 'https://A.EXAMPLE.COM', 'https://a-b.example.com', 'https://x1.y2.z3.example.com', 'https://a.example.com:443'])('matches %s', (origin) => {
    expect(p.check(origin)).toEqual({ ok: true })
  })

  it.each([
    ['the apex', 'https://example.com'],
    ['a suffix without the dot boundary', 'https://evilexample.com'],
    ['a label-less prefix', 'https://.example.com'],
    ['an empty label', 'https://a..example.com'],
    ['the pattern as a subdomain of another site', 'https://a.example.com.evil.test'],
    ['a hyphenated look-alike', 'https://a-example.com'],
    ['another scheme', 'http://a.example.com'],
    ['another port', 'https://a.example.com:8443'],
    ['a trailing dot', 'https://a.example.com.'],
    ['a literal asterisk label', 'https://*.example.com'],
    ['a different registrable domain', 'https://a.example.org'],
  ])('rejects %s (%s)', (_name, origin) => {
    rejected(p.check(origin))
  })

  it('honours the port of a wildcard pattern', () => {
    const withPort = policy(['https://*.example.com:8443'])
    expect(withPort.check('https://a.example.com:8443')).toEqual({ ok: true })
    rejected(withPort.check('https://a.example.com'))
    rejected(withPort.check('https://a.example.com:9443'))
  })

  it('keeps ports of patterns that share a suffix apart', () => {
    const both = policy(['https://*.example.com:8443', 'https://*.example.com:9443'])
    expect(both.check('https://a.example.com:8443')).toEqual({ ok: true })
    expect(both.check('https://a.example.com:9443')).toEqual({ ok: true })
    rejected(both.check('https://a.example.com:7443'))
    rejected(both.check('https://a.example.com'))
  })

  it('combines with a port wildcard', () => {
    const any = policy(['https://*.example.com:*'])
    for (const origin of ['https://a.example.com', 'https://a.example.com:1', 'https://a.b.example.com:65535']) expect(any.check(origin)).toEqual({ ok: true })
    rejected(any.check('https://example.com:8443'))
    rejected(any.check('http://a.example.com:8443'))
  })

  it('normalises IDN wildcards', () => {
    const idn = policy(['https://*.bücher.example'])
    expect(idn.check('https://shop.xn--bcher-kva.example')).toEqual({ ok: true })
    rejected(idn.check('https://xn--bcher-kva.example'))
  })

  it('matches wildcard suffixes of different depths in one policy', () => {
    const deep = policy(['https://*.example.com', 'https://*.eu.corp.example.org', 'https://*.a.b.c.d.example.net:8443'])
    for (const origin of ['https://x.example.com', 'https://x.eu.corp.example.org', 'https://y.x.eu.corp.example.org', 'https://x.a.b.c.d.example.net:8443']) expect(deep.check(origin)).toEqual({ ok: true })
    for (const origin of ['https://x.corp.example.org', 'https://eu.corp.example.org', 'https://x.example.org', 'https://a.b.c.d.example.net:8443', 'https://x.b.c.d.example.net:8443', 'https://x.a.b.c.d.example.net']) rejected(deep.check(origin))
  })

  it('stays fast for a hostile host of many labels (the walk is bounded by the patterns, not the host)', () => {
    const many = `https://${'a.'.repeat(1010)}example.com`
    expect(many.length).toBeLessThanOrEqual(MAX_ORIGIN_LENGTH)
    const start = performance.now()
    for (let i = 0; i < 1000; i++) expect(p.check(many).ok).toBe(true)
    const foreign = `https://${'a.'.repeat(1010)}example.org`
    for (let i = 0; i < 1000; i++) expect(p.check(foreign).ok).toBe(false)
    // Unbounded, this took about 2 ms per check; bounded, about 10 µs.
    expect(performance.now() - start).toBeLessThan(1000)
  })

  it('allows *.localhost for development', () => {
    const dev = policy(['http://*.localhost:*'])
    expect(dev.check('http://app.localhost:5173')).toEqual({ ok: true })
    rejected(dev.check('http://localhost:5173'))
  })
})

describe('port wildcard :*', () => {
  const p = policy(['http://localhost:*'])

  it.each(['http://localhost', 'http://localhost:80', 'http://localhost:3000', 'http://localhost:65535', 'http://LOCALHOST:5173'])('matches %s (the default port included)', (origin) => {
    expect(p.check(origin)).toEqual({ ok: true })
  })

  it.each(['https://localhost:3000', 'http://localhost.evil.test:3000', 'http://app.localhost:3000', 'http://127.0.0.1:3000', 'http://localhost:65536', 'http://localhost:*'])('rejects %s', (origin) => {
    rejected(p.check(origin))
  })

  it('works for IPv6 hosts', () => {
    const v6 = policy(['http://[::1]:*'])
    expect(v6.check('http://[::1]:8080')).toEqual({ ok: true })
    rejected(v6.check('http://[::2]:8080'))
  })
})

describe('rejection classes', () => {
  const p = policy(['https://app.example.com'])

  it.each([
    ['empty', '', 'is empty'],
    ['a leading space', ' https://app.example.com', 'whitespace'],
    ['a trailing space', 'https://app.example.com ', 'whitespace'],
    ['a tab', 'https://app.example.com\t', 'whitespace'],
    ['CRLF', 'https://app.example.com\r\nX-Injected: 1', 'whitespace'],
    ['NUL', 'https://app.example.com\u0000', 'whitespace'],
    ['a zero-width space', 'https://app\u200b.example.com', 'invisible'],
    ['a bidi override', 'https://app.example.com\u202e', 'invisible'],
    ['a soft hyphen', 'https://app.exam\u00adple.com', 'invisible'],
    ['a no-break space', 'https://app.example.com\u00a0', 'whitespace'],
    ['a path', 'https://app.example.com/x', 'path'],
    ['a backslash path', 'https://app.example.com\\x', 'path'],
    ['a trailing slash', 'https://app.example.com/', 'slash'],
    ['a query', 'https://app.example.com?x=1', 'query'],
    ['a fragment', 'https://app.example.com#x', 'fragment'],
    ['userinfo', 'https://user@app.example.com', 'userinfo'],
    ['userinfo hiding another host', 'https://app.example.com@evil.test', 'userinfo'],
    ['user and password', 'https://u:p@app.example.com', 'userinfo'],
    ['a trailing dot', 'https://app.example.com.', 'trailing dot'],
    ['an encoded trailing dot', 'https://app.example.com%2E', 'trailing dot'],
    ['comma-joined duplicates', 'https://app.example.com, https://evil.test', 'more than one'],
    ['comma-joined identical duplicates', 'https://app.example.com, https://app.example.com', 'more than one'],
    ['no scheme', 'app.example.com', 'not an origin'],
    ['scheme-relative', '//app.example.com', 'not an origin'],
    ['a scheme without slashes', 'https:app.example.com', 'not an origin'],
    ['three slashes', 'https:///app.example.com', 'path'],
    ['no host', 'https://', 'no host'],
    ['an empty port', 'https://app.example.com:', 'empty port'],
    ['a port out of range', 'https://app.example.com:65536', 'not a valid origin'],
    ['a non-numeric port', 'https://app.example.com:https', 'not a valid origin'],
    ['an unclosed IPv6 literal', 'https://[::1', 'not a valid origin'],
    ['a wildcard label', 'https://*.example.com', 'not allowed in a host name'],
    ['a bad scheme', '1https://app.example.com', 'invalid scheme'],
    ['invalid punycode', 'https://xn--a.example.com', 'not a valid origin'],
    ['a percent-encoded slash', 'https://app%2Fexample.com', 'not a valid origin'],
    ['the string undefined', 'undefined', 'not an origin'],
    ['too long', `https://${'a'.repeat(MAX_ORIGIN_LENGTH)}.example.com`, 'longer than 2048'],
  ])('rejects %s', (_name, origin, expected) => {
    expect(rejected(p.check(origin))).toContain(expected)
  })

  it.each([
    ['ftp://app.example.com'],
    ['ws://app.example.com'],
    ['wss://app.example.com'],
    ['file://app.example.com'],
    ['chrome-extension://app.example.com'],
    ['javascript://app.example.com'],
  ])('rejects the non-http(s) scheme %s unless listed exactly', (origin) => {
    expect(rejected(p.check(origin))).toContain('must be listed exactly')
  })

  it('rejects data: and blob: URLs, which are not origins', () => {
    rejected(p.check('data:text/html,<script>alert(1)</script>'))
    rejected(p.check('blob:https://app.example.com/uuid'))
  })

  it('accepts non-http(s) origins that are listed exactly, and nothing near them', () => {
    const ext = policy(['chrome-extension://abcdefghijklmnop'])
    expect(ext.check('chrome-extension://abcdefghijklmnop')).toEqual({ ok: true })
    expect(ext.check('CHROME-EXTENSION://abcdefghijklmnop')).toEqual({ ok: true })
    rejected(ext.check('chrome-extension://abcdefghijklmnop/'))
    rejected(ext.check('chrome-extension://other'))
    rejected(ext.check('moz-extension://abcdefghijklmnop'))
  })

  it.each([
    [['https://app.example.com', 'https://app.example.com'], 'sent 2 times'],
    [['https://app.example.com', 'https://evil.test'], 'sent 2 times'],
    [['https://evil.test', 'https://app.example.com', 'x'], 'sent 3 times'],
    [[], 'no value'],
  ])('rejects the array %j', (origin, expected) => {
    expect(rejected(p.check(origin))).toContain(expected)
  })

  it('rejects values that are not strings (a misbehaving adapter) without throwing', () => {
    for (const value of [42, null, {}, [42], [null], true]) rejected(p.check(value as never))
  })

  it('accepts the default port spelled out', () => {
    expect(p.check('https://app.example.com:443')).toEqual({ ok: true })
  })
})

describe('null', () => {
  it('is rejected unless listed, without a warning', () => {
    const warn = vi.fn()
    const p = createOriginPolicy({ allow: ['https://app.example.com'] }, { warn })
    expect(rejected(p.check('null'))).toContain("Origin 'null'")
    expect(rejected(p.check(['null']))).toContain("Origin 'null'")
    expect(warn).not.toHaveBeenCalled()
  })

  it('is allowed when listed exactly, with one start-up warning', () => {
    const warn = vi.fn()
    const p = createOriginPolicy({ allow: ['https://app.example.com', 'null'] }, { warn })
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0]?.[0]).toContain("'null'")
    expect(p.check('null')).toEqual({ ok: true })
    expect(p.check('https://app.example.com')).toEqual({ ok: true })
    rejected(p.check('NULL'))
    rejected(p.check('null '))
    rejected(p.check('null, null'))
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('warns through console.warn by default', () => {
    const spy = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      createOriginPolicy({ allow: ['null'] })
      expect(spy).toHaveBeenCalledTimes(1)
      expect(String(spy.mock.calls[0]?.[0])).toContain('Sandboxed iframes')
    } finally {
      spy.mockRestore()
    }
  })

  it('is never allowed by *', () => {
    expect(rejected(policy(['*']).check('null'))).toContain("Origin 'null'")
  })
})

describe('allowMissing', () => {
  it('defaults to true', () => {
    expect(policy(['https://app.example.com']).check(undefined)).toEqual({ ok: true })
    expect(policy().check(undefined)).toEqual({ ok: true })
  })

  it('refuses an absent Origin when false, and leaves present ones alone', () => {
    const p = policy(['https://app.example.com'], false)
    expect(rejected(p.check(undefined))).toContain('allowMissing')
    expect(p.check('https://app.example.com')).toEqual({ ok: true })
    rejected(p.check('https://evil.test'))
  })

  it('treats an empty Origin as present, not as missing', () => {
    rejected(policy(['https://app.example.com'], true).check(''))
  })
})

describe('no allow-list', () => {
  it.each([[{}], [{ allow: [] }], [{ allowMissing: true }]])('%j rejects every present origin and never compares with Host', (options) => {
    const p = createOriginPolicy(options)
    expect(p.hasAllowList).toBe(false)
    expect(p.allowsAny).toBe(false)
    for (const origin of ['http://localhost', 'https://app.example.com', 'http://127.0.0.1:3000']) {
      const hint = rejected(p.check(origin))
      expect(hint).toContain('origins.allow is not configured')
      expect(hint).toContain('DNS rebinding')
    }
    expect(p.check(undefined)).toEqual({ ok: true })
  })
})

describe("'*'", () => {
  const p = policy(['*'])

  it('reports allowsAny and hasAllowList', () => {
    expect(p.allowsAny).toBe(true)
    expect(p.hasAllowList).toBe(true)
    expect(policy(['https://app.example.com']).allowsAny).toBe(false)
    expect(policy(['https://app.example.com']).hasAllowList).toBe(true)
  })

  it('allows every well-formed origin', () => {
    for (const origin of ['https://evil.test', 'http://localhost:1234', 'https://xn--bcher-kva.example', 'chrome-extension://abc', 'HTTP://X.TEST:80']) {
      expect(p.check(origin)).toEqual({ ok: true })
    }
  })

  it('still rejects null, malformed values and duplicates', () => {
    for (const origin of ['null', '', 'https://evil.test/', 'evil.test', 'https://a.test, https://b.test', 'https://a.test.', 'https://u@a.test']) rejected(p.check(origin))
    rejected(p.check(['https://a.test', 'https://b.test']))
  })

  it('is a configuration error while cookies carry credentials, saying why', () => {
    const error = configError(() => createOriginPolicy({ allow: ['*'] }, { cookieCredentials: true }))
    expect(error.problems).toHaveLength(1)
    expect(error.problems[0]?.path).toBe('origins.allow')
    expect(error.problems[0]?.message).toMatch(/any site could .*cookies/)
    expect(() => createOriginPolicy({ allow: ['*'] }, { cookieCredentials: false })).not.toThrow()
    expect(() => createOriginPolicy({ allow: ['https://app.example.com'] }, { cookieCredentials: true })).not.toThrow()
  })

  it('must stand alone', () => {
    const error = configError(() => createOriginPolicy({ allow: ['https://app.example.com', '*'] }))
    expect(error.problems).toEqual([{ path: 'origins.allow[1]', message: expect.stringContaining("use ['*'] alone") }])
  })
})

describe('pattern validation', () => {
  it.each([
    ['https://a*.x.com', 'whole leftmost label'],
    ['https://*a.x.com', 'whole leftmost label'],
    ['https://x.*.com', 'whole leftmost label'],
    ['https://*.*.x.com', 'whole leftmost label'],
    ['https://**.x.com', 'whole leftmost label'],
    ['https://x.com.*', 'whole leftmost label'],
    ['https://*', "a lone '*' host"],
    ['https://*:443', "a lone '*' host"],
    ['*://x.com', 'scheme cannot be a wildcard'],
    ['http*://x.com', 'scheme cannot be a wildcard'],
    ['*.example.com', "write 'https://*.example.com'"],
    ['app.example.com', "write 'https://app.example.com'"],
    ['localhost:3000', "write 'https://localhost:3000'"],
    ['https://app.example.com/', "write 'https://app.example.com'"],
    ['https://app.example.com/login', "has a path, but an origin is scheme://host[:port] only: write 'https://app.example.com'"],
    ['https://app.example.com:8443/x', "write 'https://app.example.com:8443'"],
    ['https://app.example.com?x', 'has a query'],
    ['https://app.example.com#x', 'has a fragment'],
    ['https://user@app.example.com', 'userinfo'],
    ['https://app.example.com.', 'trailing dot'],
    ['https://a..example.com', 'empty host label'],
    ['https://app.example.com:', "remove the ':'"],
    ['https://app.example.com:8*', "written ':*'"],
    ['https://app.example.com:*1', "written ':*'"],
    [' https://app.example.com', 'whitespace'],
    ['https://app.example.com ', 'whitespace'],
    ['https://app.exa mple.com', 'whitespace'],
    ['https://app.example.com\n', 'whitespace'],
    ['https://a.com,https://b.com', 'own array entry'],
    ['https://*.com', "every site under '.com'"],
    ['https://*.localhost.', 'trailing dot'],
    ['app://*.example', 'only supported in http and https'],
    ['ws://localhost:*', 'only supported in http and https'],
    ['https://app.example.com:99999', 'not a valid origin'],
    ['https://*.1.2', 'not a valid origin'],
    ['https://x!.com', 'not allowed in a host name'],
    ['1http://x.com', 'no valid scheme'],
    ['https://', 'has no host'],
    ['NULL', "in lower case"],
    ['', 'is empty'],
  ])('%j is refused: %s', (pattern, fix) => {
    const problem = originPatternProblem(pattern)
    expect(problem).toContain(fix)
    const error = configError(() => createOriginPolicy({ allow: ['https://ok.example.com', pattern] }))
    expect(error.problems).toEqual([{ path: 'origins.allow[1]', message: problem }])
  })

  it.each([
    'https://app.example.com',
    'HTTPS://APP.EXAMPLE.COM:443',
    'http://localhost:3000',
    'http://localhost:*',
    'https://*.example.com',
    'https://*.example.com:*',
    'https://*.example.com:8443',
    'http://*.localhost:*',
    'https://bücher.example',
    'https://*.bücher.example',
    'http://[::1]:*',
    'http://127.0.0.1:8080',
    'chrome-extension://abcdef',
    'null',
    '*',
  ])('%j is valid', (pattern) => {
    expect(originPatternProblem(pattern)).toBeUndefined()
  })

  it('reports every problem at once, with option paths', () => {
    const error = configError(() => createOriginPolicy({ allow: ['https://a*.x.com', 'https://ok.example.com', 'https://x.com/', 42 as never], allowMissing: 'yes' as never, alow: [] } as never))
    expect(error.problems.map((p) => p.path).sort()).toEqual(['origins', 'origins.allow[0]', 'origins.allow[2]', 'origins.allow[3]', 'origins.allowMissing'].sort())
    for (const problem of error.problems) expect(problem.message.length).toBeGreaterThan(10)
    expect(error.problems.find((p) => p.path === 'origins')?.message).toContain("'alow'")
    expect(error.problems.find((p) => p.path === 'origins.allow[3]')?.message).toContain("such as 'https://app.example.com'")
    expect(error.problems.find((p) => p.path === 'origins.allowMissing')?.message).toBe('must be true or false')
  })

  it('refuses a non-array allow and a non-object option', () => {
    expect(configError(() => createOriginPolicy({ allow: 'https://app.example.com' as never })).problems).toEqual([{ path: 'origins.allow', message: expect.stringContaining('must be an array') }])
    expect(configError(() => createOriginPolicy('https://app.example.com' as never)).problems).toEqual([{ path: 'origins', message: expect.stringContaining('must be an object') }])
  })

  it('is reported under origins.allow[i] when nested in a larger schema', () => {
    const result = originsOptionsSchema.safeParse({ allow: ['https://ok.example.com', 'https://x.com/'] })
    expect(result.success).toBe(false)
    expect(result.error?.issues.map((i) => i.path)).toEqual([['allow', 1]])
  })

  it('never echoes control characters from a pattern', () => {
    const problem = originPatternProblem('https://app.example.com\u001b[31m\u202e')
    expect(problem).toBeDefined()
    expect(problem).not.toMatch(CONTROL)
  })
})

describe('hints', () => {
  it('name what was seen and what is allowed', () => {
    const hint = rejected(policy(['https://app.example.com', 'https://*.example.com']).check('https://evil.test'))
    expect(hint).toContain("'https://evil.test'")
    expect(hint).toContain("'https://app.example.com', 'https://*.example.com'")
    expect(hint).toContain('add the origin to origins.allow')
  })

  it('escape control and invisible characters in the presented value', () => {
    const hint = rejected(policy(['https://app.example.com']).check('https://app.example.com\r\nSet-Cookie: x=1\u202e'))
    expect(hint).toContain('\\u{d}\\u{a}Set-Cookie:\\u{20}x=1\\u{202e}')
  })

  it('truncate long values and long allow-lists', () => {
    const many = Array.from({ length: 40 }, (_, i) => `https://app${i}.example.com`)
    const hint = rejected(policy(many).check(`https://${'a'.repeat(1500)}.test`))
    expect(hint).toContain('…')
    expect(hint).toMatch(/… \d+ more\]/)
    expect(hint.length).toBeLessThan(600)
    expect(rejected(policy(many).check('x'.repeat(100_000))).length).toBeLessThan(600)
  })

  it('showValue bounds its output whatever the input', () => {
    expect(showValue('abc')).toBe('abc')
    expect(showValue('a'.repeat(500), 10)).toBe(`${'a'.repeat(10)}…`)
    expect(showValue('\u0000'.repeat(500), 10)).toBe(`${'\\u{0}'.repeat(2)}…`)
  })
})

describe('properties', () => {
  const p = policy(['https://app.example.com', 'https://*.example.com', 'http://localhost:*', 'chrome-extension://abc', 'null'])
  const anyOrigin = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.webUrl(),
    fc.webUrl().map((u) => u.replace(/\/$/, '')),
    fc.tuple(fc.constantFrom('https://', 'http://', 'HTTPS://', 'ws://', ''), fc.domain(), fc.constantFrom('', ':443', ':8080', ':*', '.', '/', ',x', '\t')).map((parts) => parts.join('')),
    fc.tuple(fc.constant('https://app.example.com'), fc.string({ unit: 'binary', maxLength: 4 }), fc.nat(24)).map(([base, insert, at]) => base.slice(0, at) + insert + base.slice(at)),
  )

  it('check never throws and always answers origin_rejected with a clean hint, for any string or array', () => {
    fc.assert(
      fc.property(fc.oneof(anyOrigin, fc.array(anyOrigin, { maxLength: 3 }), fc.anything()), (value) => {
        const result = p.check(value as never)
        if (!result.ok) {
          expect(result.code).toBe('origin_rejected')
          expect(result.hint).not.toMatch(CONTROL)
          expect(result.hint.length).toBeLessThan(800)
        }
      }),
      { numRuns: 3000 },
    )
  })

  // `xn--` labels must be valid punycode, which random labels are not (and which check rightly refuses).
  const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/).filter((l) => !l.startsWith('xn--'))
  const domain = fc.domain().filter((d) => !/(^|\.)xn--/i.test(d))

  it('rejects a random origin that is not listed', () => {
    fc.assert(
      fc.property(fc.constantFrom('https://', 'http://'), domain, fc.constantFrom('', ':443', ':8443', ':3000'), (scheme, host, port) => {
        fc.pre(host !== 'example.com' && !host.endsWith('.example.com') && host !== 'localhost')
        rejected(p.check(`${scheme}${host}${port}`))
      }),
      { numRuns: 2000 },
    )
  })

  it('a wildcard matches every subdomain of its domain and nothing beside it', () => {
    fc.assert(
      fc.property(domain, label, (host, sub) => {
        const w = policy([`https://*.${host}`])
        expect(w.check(`https://${sub}.${host}`)).toEqual({ ok: true })
        expect(w.check(`https://${sub}.${sub}.${host.toUpperCase()}:443`)).toEqual({ ok: true })
        rejected(w.check(`https://${host}`))
        rejected(w.check(`https://${sub}${host}`))
        rejected(w.check(`http://${sub}.${host}`))
        rejected(w.check(`https://${sub}.${host}.evil.test`))
        rejected(w.check(`https://${sub}.${host}:8443`))
      }),
      { numRuns: 500 },
    )
  })

  it('an exact origin matches its WHATWG spellings and only them', () => {
    fc.assert(
      fc.property(domain, label, (host, sub) => {
        const e = policy([`https://${host}`])
        expect(e.check(`https://${host}`)).toEqual({ ok: true })
        expect(e.check(`HTTPS://${host.toUpperCase()}:443`)).toEqual({ ok: true })
        rejected(e.check(`https://${sub}.${host}`))
        rejected(e.check(`http://${host}`))
        rejected(e.check(`https://${host}/`))
      }),
      { numRuns: 500 },
    )
  })
})
