import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_PATH_BYTES, normalizePath, parseRequestTarget, pathProblem, percentDecode } from './request-target.js'

/**
 * An independent definition of "canonical", built from decodeURIComponent and regular
 * expressions rather than a scanner, to cross-check parseRequestTarget.
 */
function canonicalOracle(path: string): boolean {
  if (path === '' || path[0] !== '/' || path.length > MAX_PATH_BYTES) return false
  if (/[^\x21-\x7e]/.test(path)) return false
  if (/[\\;#?]/.test(path)) return false
  if (/%(?![0-9a-fA-F]{2})/.test(path)) return false
  if (/%(25|2f|5c|3b|[01][0-9a-f]|7f)/i.test(path)) return false
  try {
    decodeURIComponent(path)
  } catch {
    return false
  }
  const segments = path.slice(1).split('/')
  return segments.every((segment, i) => {
    if (segment === '') return i === segments.length - 1
    const decoded = decodeURIComponent(segment)
    return decoded !== '.' && decoded !== '..'
  })
}

describe('parseRequestTarget: splitting', () => {
  it.each([
    ['/a', '/a', ''],
    ['/a?b=1', '/a', 'b=1'],
    ['/a?', '/a', ''],
    ['/a?b?c=/d', '/a', 'b?c=/d'],
    ['/?x', '/', 'x'],
    ['?x', '', 'x'],
  ])('%j -> path %j, query %j', (url, path, query) => {
    const target = parseRequestTarget(url)
    expect(target.path).toBe(path)
    expect(target.query).toBe(query)
  })
})

describe('parseRequestTarget: canonical paths', () => {
  it.each([
    '/',
    '/a',
    '/a/',
    '/health',
    '/a/b.c',
    '/a/...',
    '/.well-known/jwks.json',
    '/a/.b',
    '/a/b..',
    '/%C3%A9t%C3%A9',
    '/a%20b',
    '/api/%61gents',
    '/a/%2e.b',
    '/v1/models/m:generate',
    "/a-b_c~d!$&'()*+,=@",
    '/a?q=%00%0d%2F%25..//',
    '/a?x=1&y=%20#'.slice(0, -1),
    `/${'a'.repeat(MAX_PATH_BYTES - 1)}`,
  ])('%j is canonical', (url) => {
    const target = parseRequestTarget(url)
    expect(target).toMatchObject({ canonical: true })
    expect(target.reason).toBeUndefined()
  })
})

describe('parseRequestTarget: non-canonical targets', () => {
  const cases: [string, RegExp][] = [
    ['', /is empty/],
    ['*', /asterisk/],
    ['http://example.com/x', /absolute form/],
    ['HTTPS://example.com', /absolute form/],
    ['ws+unix://h/x', /absolute form/],
    ['example.com:443', /does not start with '\/'/],
    ['a/b', /does not start with '\/'/],
    ['\\a', /does not start with '\/'/],
    // dot segments, raw and encoded, any case and mix
    ['/.', /'\.' segment$/],
    ['/a/.', /'\.' segment$/],
    ['/a/./b', /'\.' segment$/],
    ['/%2e', /'\.' segment \(percent-encoded\)/],
    ['/%2E/b', /'\.' segment \(percent-encoded\)/],
    ['/..', /'\.\.' segment$/],
    ['/a/..', /'\.\.' segment$/],
    ['/docs/../admin', /'\.\.' segment$/],
    ['/%2e%2e', /'\.\.' segment \(percent-encoded\)/],
    ['/a/%2E%2e/', /'\.\.' segment \(percent-encoded\)/],
    ['/a/.%2e/b', /'\.\.' segment \(percent-encoded\)/],
    ['/a/%2e./b', /'\.\.' segment \(percent-encoded\)/],
    ['/a/.%2E', /'\.\.' segment \(percent-encoded\)/],
    // empty segments
    ['//', /empty segment/],
    ['//api/agents', /empty segment/],
    ['/a//b', /empty segment/],
    ['/a//', /empty segment/],
    // separators and parameters
    ['/a\\b', /backslash/],
    ['/a/\\', /backslash/],
    ['/a%5cb', /percent-encoded backslash/],
    ['/a%5Cb', /percent-encoded backslash/],
    ['/a%2fb', /percent-encoded '\/'/],
    ['/a%2F..%2Fadmin', /percent-encoded '\/'/],
    ['/api/agents;x', /';'/],
    ['/a/..;/b', /';'/],
    ['/a%3bb', /percent-encoded ';'/],
    ['/a%3B', /percent-encoded ';'/],
    ['/a#b', /'#'/],
    // control characters and whitespace, raw and encoded
    ['/a\0b', /control character \(%00\)/],
    ['/a\rb', /control character \(%0D\)/],
    ['/a\nb', /control character \(%0A\)/],
    ['/a\tb', /control character \(%09\)/],
    ['/a\x7f', /control character \(%7F\)/],
    ['/a%00', /percent-encoded control character \(%00\)/],
    ['/a%0d%0a', /percent-encoded control character \(%0D\)/],
    ['/a%0A', /percent-encoded control character \(%0A\)/],
    ['/a%09', /percent-encoded control character/],
    ['/a%1B', /percent-encoded control character/],
    ['/a%7f', /percent-encoded control character/],
    ['/a b', /whitespace/],
    ['/a\u00a0b', /non-ASCII/],
    ['/caf\u00e9', /non-ASCII/],
    ['/\u{1f600}', /non-ASCII/],
    // percent-encoding
    ['/a%', /invalid percent-encoding/],
    ['/a%2', /invalid percent-encoding/],
    ['/a%zz', /invalid percent-encoding/],
    ['/%g0', /invalid percent-encoding/],
    ['/a%25', /double encoding/],
    ['/a%252e%252e', /double encoding/],
    ['/%c0%ae', /overlong/],
    ['/%C0%AF', /overlong/],
    ['/%c1%9c', /overlong/],
    ['/%e0%80%ae', /overlong/],
    ['/%E0%80%AF', /overlong/],
    ['/%f0%80%80%ae', /overlong/],
    ['/%80', /not valid UTF-8/],
    ['/%bf', /not valid UTF-8/],
    ['/%c3', /not valid UTF-8/],
    ['/%c3a', /not valid UTF-8/],
    ['/%c3/', /not valid UTF-8/],
    ['/%c3%28', /not valid UTF-8/],
    ['/%e2%82', /not valid UTF-8/],
    ['/%ed%a0%80', /not valid UTF-8/],
    ['/%f4%90%80%80', /not valid UTF-8/],
    ['/%f5%80%80%80', /not valid UTF-8/],
    ['/%ff', /not valid UTF-8/],
    // length
    [`/${'a'.repeat(MAX_PATH_BYTES)}`, /longer than 4096 bytes/],
    // query
    ['/a?x y', /query contains whitespace/],
    ['/a?x\r\nSet-Cookie:x', /query contains a control character/],
    ['/a?x#y', /query contains '#'/],
  ]

  it.each(cases)('%j is not canonical', (url, reason) => {
    const target = parseRequestTarget(url)
    expect(target.canonical).toBe(false)
    expect(target.reason).toMatch(reason)
  })

  it('agrees with an independent oracle on every listed case', () => {
    for (const [url] of cases) {
      if (url.includes('?')) continue
      expect(canonicalOracle(url), url).toBe(false)
    }
  })

  it('never throws, even when handed something other than a string', () => {
    for (const value of [undefined, null, 42, {}, [], Symbol('x')]) {
      expect(parseRequestTarget(value as unknown as string)).toMatchObject({ canonical: false, reason: 'is not a string' })
    }
  })
})

describe('parseRequestTarget: properties', () => {
  // Strings built from the characters that matter, so the interesting cases are common.
  const tricky = fc
    .array(
      fc.constantFrom('/', '/', 'a', 'B', '.', '.', '%', '2', 'e', 'E', 'f', 'F', '5', 'c', 'C', '3', 'b', '0', 'd', 'a', '8', ';', '\\', '#', ' ', '\t', '\0', 'é', '%2e', '%2E', '%2f', '%c0%ae', '%C3%A9', '%e0%80%ae', '%25', '%00', '%3b', '..', '//'),
      { maxLength: 30 },
    )
    .map((parts) => parts.join(''))

  it('never throws on any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), tricky), (url) => {
        const target = parseRequestTarget(url)
        expect(typeof target.canonical).toBe('boolean')
        expect(target.canonical === (target.reason === undefined)).toBe(true)
      }),
      { numRuns: 5000 },
    )
  })

  it('keeps path and query exactly: path + "?" + query is the input', () => {
    fc.assert(
      fc.property(fc.string(), (url) => {
        const target = parseRequestTarget(url)
        expect(url.includes('?') ? `${target.path}?${target.query}` : target.path).toBe(url)
      }),
    )
  })

  it('matches the oracle on tricky paths', () => {
    fc.assert(
      fc.property(tricky, (body) => {
        const path = `/${body}`
        expect(parseRequestTarget(path).canonical).toBe(canonicalOracle(path))
      }),
      { numRuns: 20000 },
    )
  })

  it('matches the oracle on random percent-encoded bytes', () => {
    const byte = fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, '0')}`)
    const piece = fc.oneof(byte, byte, fc.constantFrom('/', 'a', '.', '-'))
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const path = `/${parts.join('')}`
        expect(parseRequestTarget(path).canonical).toBe(canonicalOracle(path))
      }),
      { numRuns: 20000 },
    )
  })

  it('accepts percent-encoded UTF-8 of any code point except the dangerous ASCII ones', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), (text) => {
        const path = `/x${encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}`
        expect(parseRequestTarget(path).canonical).toBe(canonicalOracle(path))
      }),
      { numRuns: 2000 },
    )
  })
})

describe('parseRequestTarget: hostile input', () => {
  const MB = 1 << 20
  it.each([
    ['a long segment', `/${'a'.repeat(MB)}`],
    ['many slashes', '/'.repeat(MB)],
    ['many segments', '/a'.repeat(MB / 2)],
    ['many escapes', `/${'%c3%a9'.repeat(MB / 6)}`],
    ['many dots', `/${'./'.repeat(MB / 2)}`],
  ])('returns for a 1 MB path made of %s', (_name, url) => {
    const target = parseRequestTarget(`${url}?q=1`)
    expect(target.canonical).toBe(false)
    expect(target.query).toBe('q=1')
  })

  it('scans a path of exactly the maximum length', () => {
    expect(pathProblem(`/${'%C3%A9'.repeat(682)}abc`)).toBeUndefined()
  })
})

describe('percentDecode', () => {
  it.each([
    ['/a%41', '/aA'],
    ['%2e%2E', '..'],
    ['%C3%A9', 'é'],
    ['%F0%9F%98%80', '\u{1f600}'],
    ['%zz%', '%zz%'],
    ['%2', '%2'],
    ['%c3', '%c3'],
    ['%c3%28', '%c3('],
    ['%ed%a0%80', '%ed%a0%80'],
    ['%252e', '%2e'],
    ['%c0%ae%C0%AF', './'],
    ['%e0%80%ae', '.'],
    ['no escapes', 'no escapes'],
  ])('%j -> %j', (input, output) => {
    expect(percentDecode(input)).toBe(output)
  })

  it('agrees with decodeURIComponent whenever that succeeds', () => {
    const byte = fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, '0')}`)
    fc.assert(
      fc.property(fc.array(fc.oneof(byte, fc.string({ maxLength: 3 })), { maxLength: 10 }), (parts) => {
        const s = parts.join('')
        let expected: string
        try {
          expected = decodeURIComponent(s)
        } catch {
          percentDecode(s)
          return
        }
        expect(percentDecode(s)).toBe(expected)
      }),
      { numRuns: 10000 },
    )
  })
})

describe('normalizePath', () => {
  it.each([
    ['/api/agents', '/api/agents'],
    ['/api/agents/', '/api/agents'],
    ['/', '/'],
    ['', '/'],
    ['/api/./agents', '/api/agents'],
    ['//api//agents', '/api/agents'],
    ['/api/%61gents', '/api/agents'],
    ['/api/agents;x', '/api/agents'],
    ['/api;jsessionid=1/agents', '/api/agents'],
    ['/a/..;/api/agents', '/api/agents'],
    ['/a\\..\\api\\agents', '/api/agents'],
    ['/a/%2e%2e/api/agents', '/api/agents'],
    ['/a%2f..%2fapi%2fagents', '/api/agents'],
    ['/a%5c..%5capi/agents', '/api/agents'],
    ['/a/%c0%ae%c0%ae/api/agents', '/api/agents'],
    ['/api/agents%3bx', '/api/agents'],
    ['/../../api/agents', '/api/agents'],
    ['http://evil.example/api/agents', '/api/agents'],
    ['http://evil.example', '/'],
    ['api/agents', '/api/agents'],
    ['*', '/*'],
    ['/%zz', '/%zz'],
    ['/%C3%A9', '/é'],
    ['/%252e%252e/x', '/%2e%2e/x'],
  ])('%j -> %j', (input, output) => {
    expect(normalizePath(input)).toBe(output)
  })

  it('always yields a path without empty, dot, backslash or parameter segments', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (input) => {
        const out = normalizePath(input)
        expect(out.startsWith('/')).toBe(true)
        expect(out).not.toMatch(/\/\/|\\|;/)
        if (out !== '/') {
          for (const segment of out.slice(1).split('/')) expect(['', '.', '..']).not.toContain(segment)
        }
      }),
      { numRuns: 5000 },
    )
  })

  it('leaves a canonical path without escapes as it is, minus a trailing slash', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9_.~-]{1,8}$/), { maxLength: 6 }), fc.boolean(), (segments, slash) => {
        const path = `/${segments.join('/')}${slash && segments.length > 0 ? '/' : ''}`
        fc.pre(parseRequestTarget(path).canonical)
        expect(normalizePath(path)).toBe(`/${segments.join('/')}`)
      }),
    )
  })

  it('handles a 1 MB path', () => {
    expect(normalizePath(`/${'a/../'.repeat(200_000)}x`)).toBe('/x')
    expect(normalizePath(`/${'%2e%2e/'.repeat(150_000)}`)).toBe('/')
  })
})
