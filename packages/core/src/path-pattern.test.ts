import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GatehouseConfigError } from './config-error.js'
import { parsePattern, patternProblem } from './path-pattern.js'
import { parseRequestTarget } from './request-target.js'

// Every problem message must say what to change: one of these verbs gives the fix.
const FIX = /\b(write|remove|use|give|percent-encode|separate|add)\b/

describe('parsePattern: the syntax', () => {
  it('parses an exact path', () => {
    expect(parsePattern('/health')).toEqual({ source: '/health', methods: undefined, segments: [{ type: 'literal', value: 'health' }], rest: false })
  })

  it('parses / as the root only', () => {
    expect(parsePattern('/')).toEqual({ source: '/', methods: undefined, segments: [], rest: false })
  })

  it('parses * and :name as one segment each', () => {
    expect(parsePattern('/docs/*').segments).toEqual([{ type: 'literal', value: 'docs' }, { type: 'param', name: undefined }])
    expect(parsePattern('/users/:id/posts/:postId').segments).toEqual([
      { type: 'literal', value: 'users' },
      { type: 'param', name: 'id' },
      { type: 'literal', value: 'posts' },
      { type: 'param', name: 'postId' },
    ])
  })

  it('parses a trailing /** as the base and everything below', () => {
    expect(parsePattern('/api/auth/**')).toMatchObject({ segments: [{ type: 'literal', value: 'api' }, { type: 'literal', value: 'auth' }], rest: true })
    expect(parsePattern('/**')).toMatchObject({ segments: [], rest: true })
    expect(parsePattern('/users/:id/**')).toMatchObject({ segments: [{ type: 'literal' }, { type: 'param', name: 'id' }], rest: true })
  })

  it('parses method lists; GET implies HEAD', () => {
    expect(parsePattern('GET /x').methods).toEqual(['GET', 'HEAD'])
    expect(parsePattern('GET,POST /x').methods).toEqual(['GET', 'POST', 'HEAD'])
    expect(parsePattern('HEAD /x').methods).toEqual(['HEAD'])
    expect(parsePattern('POST,POST /x').methods).toEqual(['POST'])
    expect(parsePattern('GET,HEAD /x').methods).toEqual(['GET', 'HEAD'])
    expect(parsePattern('PROPFIND /dav').methods).toEqual(['PROPFIND'])
    expect(parsePattern('M-SEARCH /x').methods).toEqual(['M-SEARCH'])
    expect(parsePattern('GET  /x').segments).toEqual([{ type: 'literal', value: 'x' }])
  })

  it('keeps literal segments as written, escapes and colons included', () => {
    expect(parsePattern('/files/caf%C3%A9').segments[1]).toEqual({ type: 'literal', value: 'caf%C3%A9' })
    expect(parsePattern('/v1/models/m:generate').segments[2]).toEqual({ type: 'literal', value: 'm:generate' })
    expect(parsePattern('/.well-known/jwks.json').segments[0]).toEqual({ type: 'literal', value: '.well-known' })
  })

  it('throws GatehouseConfigError with path `pattern` for an invalid pattern', () => {
    expect(() => parsePattern('/docs*')).toThrow(GatehouseConfigError)
    try {
      parsePattern('/a//b')
    } catch (error) {
      expect((error as GatehouseConfigError).problems).toEqual([{ path: 'pattern', message: expect.stringContaining("empty segment ('//')") }])
    }
  })
})

describe('patternProblem', () => {
  it.each([
    '/',
    '/health',
    '/docs/*',
    '/users/:id',
    '/users/:user_id/:$x',
    '/api/auth/**',
    '/**',
    'GET /x',
    'GET,POST /x/:id',
    'DELETE /api/x/:id',
    'GET /',
    '/a%20b',
    '/caf%C3%A9',
    '/v1/a:b',
    '/a/...',
  ])('%j is a valid protective pattern', (pattern) => {
    expect(patternProblem(pattern)).toBeUndefined()
    expect(patternProblem(pattern, 'protective')).toBeUndefined()
  })

  const problems: [unknown, RegExp][] = [
    [undefined, /must be a string/],
    [null, /must be a string/],
    [42, /must be a string/],
    [['/x'], /must be a string/],
    ['', /is empty/],
    [' /x', /leading or trailing whitespace/],
    ['/x ', /leading or trailing whitespace/],
    ['health', /must start with '\/'.*write '\/health'/],
    ['*', /must start with '\/'.*write '\/\*'/],
    ['**', /must start with '\/'.*write '\/\*\*'/],
    ['GET', /lists methods but no path/],
    ['GET,POST', /lists methods but no path/],
    ['GET x', /must start with '\/'.*write 'GET \/x'/],
    ['GET **', /must start with '\/'/],
    ['get /x', /must be upper case: write 'GET'/],
    ['Get,Post /x', /must be upper case: write 'GET'/],
    ['GET, POST /x', /empty entry/],
    ['GET,,POST /x', /empty entry/],
    ['G@T /x', /not an HTTP method/],
    ['1GET /x', /not an HTTP method/],
    ['/docs*', /wildcard must be a whole segment.*'\/docs\/\*\*'/],
    ['/api/docs*', /wildcard must be a whole segment.*'\/api\/docs\/\*\*'/],
    ['/a*b', /wildcard must be a whole segment/],
    ['/*x', /wildcard must be a whole segment/],
    ['/docs**', /wildcard must be a whole segment/],
    ['/:id.json', /parameter must be a whole segment.*':id'/],
    ['/x/:', /needs a parameter name/],
    ['/:1x', /not a parameter name/],
    ['/:a/:a', /appears twice/],
    ['/x/:__proto__', /cannot name a parameter/],
    ['/a/**/b', /'\*\*' must be the last segment/],
    ['/**/x', /'\*\*' must be the last segment/],
    ['/a/**/**', /'\*\*' must be the last segment/],
    ['/a//b', /empty segment/],
    ['//', /ends with '\/'/],
    ['/a/', /ends with '\/': write '\/a'.*'\/a\/\*\*'/],
    ['/a?b=1', /contains '\?'.*remove '\?b=1'/],
    ['/a#b', /'#'/],
    ['/a b', /whitespace/],
    ['/a\tb', /whitespace/],
    ['/users/{id}', /contains '\{'.*':name'/],
    ['/users/<id>', /contains '<'/],
    ['/a\\b', /can never match.*backslash/],
    ['/a;b', /can never match.*';'/],
    ['/a/../b', /can never match.*'\.\.' segment/],
    ['/a/./b', /can never match.*'\.' segment/],
    ['/a/%2e%2e', /can never match.*'\.\.' segment/],
    ['/a%2fb', /can never match.*'\/'/],
    ['/a%25', /can never match.*double encoding/],
    ['/a%', /can never match.*invalid percent-encoding/],
    ['/a%zz', /can never match.*invalid percent-encoding/],
    ['/%c0%ae', /can never match.*overlong/],
    ['/a%00', /can never match.*control character/],
    ['/a\0', /can never match.*control character/],
    ['/café', /can never match.*non-ASCII/],
    [`/${'a'.repeat(5000)}`, /can never match.*longer than 4096/],
  ]

  it.each(problems)('%j is refused', (pattern, message) => {
    expect(patternProblem(pattern, 'protective')).toMatch(message)
    expect(patternProblem(pattern, 'public')).toBeDefined()
  })

  it('says what to change in every message', () => {
    for (const [pattern] of problems) expect(patternProblem(pattern), String(pattern)).toMatch(FIX)
  })

  it.each(['/**', '**', 'GET /**', 'GET,POST /**', 'GET **', '/*/**', '/:any/**', '/:a/*/**'])('%j is a public catch-all', (pattern) => {
    expect(patternProblem(pattern, 'public')).toMatch(/use default: 'public'/)
  })

  it.each(['/**', 'GET /**', '/*/**', '/:tenant/**'])('%j is fine as a protective pattern', (pattern) => {
    expect(patternProblem(pattern, 'protective')).toBeUndefined()
  })

  it.each(['/docs/**', '/:tenant/docs/**', 'GET /api/agents/**', '/', 'GET /', '/*'])('%j is not a catch-all', (pattern) => {
    expect(patternProblem(pattern, 'public')).toBeUndefined()
  })

  it('never echoes anything but the pattern itself', () => {
    // Messages quote the pattern (configuration, not a secret), never other input.
    expect(patternProblem({ toString: () => 'secret' })).toBe("must be a string: write a path pattern such as '/health' or 'GET /items/:id'")
  })
})

describe('patternProblem: properties', () => {
  const piece = fc.constantFrom('/', '/', 'a', 'B', '*', '**', ':', ':id', '.', '..', '%', '%2e', '%20', '?', '#', ' ', ';', '\\', '{', 'GET ', 'GET,POST ', 'get ', ',', '-', '~')
  const pattern = fc.oneof(fc.string(), fc.array(piece, { maxLength: 12 }).map((p) => p.join('')))

  it('never throws, and every message gives a fix', () => {
    fc.assert(
      fc.property(pattern, fc.constantFrom('public' as const, 'protective' as const), (p, kind) => {
        const message = patternProblem(p, kind)
        if (message !== undefined) expect(message).toMatch(FIX)
      }),
      { numRuns: 10000 },
    )
  })

  const segment = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9._~!$&'()+,=:@-]{1,6}$/),
    fc.constantFrom('a%20b', 'caf%C3%A9', '%41', 'x%2e'),
    fc.constantFrom('*', ':id', ':name'),
  )
  const structured = fc
    .tuple(fc.constantFrom('', 'GET ', 'POST,PUT '), fc.array(segment, { maxLength: 5 }), fc.boolean())
    .map(([methods, segments, rest]) => `${methods}/${segments.join('/')}${rest ? (segments.length > 0 ? '/**' : '**') : ''}`)

  it('a valid pattern can match some canonical path', () => {
    fc.assert(
      fc.property(fc.oneof(pattern, structured, structured), (p) => {
        fc.pre(patternProblem(p) === undefined)
        const parsed = parsePattern(p)
        const path = `/${parsed.segments.map((s) => (s.type === 'literal' ? s.value : 'x')).join('/')}`
        expect(parseRequestTarget(path).canonical).toBe(true)
      }),
      { numRuns: 10000, maxSkipsPerRun: 1000 },
    )
  })

  it('public problems are protective problems plus catch-alls', () => {
    fc.assert(
      fc.property(pattern, (p) => {
        if (patternProblem(p, 'protective') !== undefined) expect(patternProblem(p, 'public')).toBeDefined()
      }),
      { numRuns: 10000 },
    )
  })
})
