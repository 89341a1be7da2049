import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GatehouseConfigError } from './config-error.js'
import { compileMatcher, createPathMatcher } from './path-matcher.js'
import { parsePattern } from './path-pattern.js'

/** The index each path resolves to, or undefined. */
function indexes(patterns: string[], paths: string[], method = 'GET', options = {}): (number | undefined)[] {
  const matcher = createPathMatcher(patterns, options)
  return paths.map((path) => matcher.match(method, path)?.index)
}

/**
 * A brute-force reference: tries every pattern in list order with array logic. Slow and
 * obviously correct, to cross-check the trie.
 */
function reference(patterns: string[], method: string, path: string, caseSensitive: boolean, trailingSlash: boolean): number | undefined {
  if (!path.startsWith('/')) return undefined
  let p = caseSensitive ? path : path.toLowerCase()
  if (trailingSlash && p.length > 1 && p.endsWith('/')) p = p.slice(0, -1)
  const segments = p === '/' ? [] : p.slice(1).split('/')
  for (let i = 0; i < patterns.length; i++) {
    const parsed = parsePattern(patterns[i] as string)
    if (parsed.methods !== undefined && !parsed.methods.includes(method.toUpperCase())) continue
    const wanted = parsed.segments
    if (parsed.rest ? segments.length < wanted.length : segments.length !== wanted.length) continue
    const fits = wanted.every((w, k) => {
      const segment = segments[k] as string
      if (w.type === 'param') return segment !== ''
      return segment === (caseSensitive ? w.value : w.value.toLowerCase())
    })
    if (fits) return i
  }
  return undefined
}

describe('createPathMatcher: syntax', () => {
  it('matches an exact path, tolerating one trailing slash', () => {
    expect(indexes(['/health'], ['/health', '/health/', '/health//', '/health/x', '/healthz', '/Health', '/'])).toEqual([0, 0, undefined, undefined, undefined, undefined, undefined])
  })

  it('does not tolerate a trailing slash with trailingSlash: false', () => {
    expect(indexes(['/health', '/'], ['/health', '/health/', '/'], 'GET', { trailingSlash: false })).toEqual([0, undefined, 1])
  })

  it('treats / as the root only', () => {
    expect(indexes(['/'], ['/', '//', '/x', '/x/', ''])).toEqual([0, 0, undefined, undefined, undefined])
    expect(indexes(['/'], ['//'], 'GET', { trailingSlash: false })).toEqual([undefined])
  })

  it('matches * and :name against exactly one non-empty segment', () => {
    const paths = ['/users/7', '/users/7/', '/users/', '/users', '/users/7/posts', '/users//']
    expect(indexes(['/users/:id'], paths)).toEqual([0, 0, undefined, undefined, undefined, undefined])
    expect(indexes(['/users/*'], paths)).toEqual([0, 0, undefined, undefined, undefined, undefined])
  })

  it('matches a trailing /** on segment boundaries only', () => {
    const paths = ['/api/auth', '/api/auth/', '/api/auth/x', '/api/auth/x/y/z', '/api/authors', '/api/aut', '/api', '/api/auth//x', '/']
    expect(indexes(['/api/auth/**'], paths)).toEqual([0, 0, 0, 0, undefined, undefined, undefined, 0, undefined])
  })

  it('matches everything with /**', () => {
    expect(indexes(['/**'], ['/', '/a', '/a/b/c/', '//'])).toEqual([0, 0, 0, 0])
  })

  it('combines parameters and /**', () => {
    expect(indexes(['/t/:tenant/files/**'], ['/t/acme/files', '/t/acme/files/a/b', '/t//files/a', '/t/acme/other'])).toEqual([0, 0, undefined, undefined])
  })

  it('restricts by method; GET implies HEAD; no method list means any method', () => {
    const m = createPathMatcher(['GET /x', 'POST,PUT /y', 'HEAD /z', '/any'])
    expect(['GET', 'HEAD', 'POST'].map((method) => m.match(method, '/x')?.index)).toEqual([0, 0, undefined])
    expect(['POST', 'PUT', 'GET', 'HEAD'].map((method) => m.match(method, '/y')?.index)).toEqual([1, 1, undefined, undefined])
    expect(['HEAD', 'GET'].map((method) => m.match(method, '/z')?.index)).toEqual([2, undefined])
    expect(['GET', 'DELETE', 'PROPFIND', '', 'whatever'].map((method) => m.match(method, '/any')?.index)).toEqual([3, 3, 3, 3, 3])
  })

  it('compares request methods upper-cased, as routers do', () => {
    const m = createPathMatcher(['GET /x', 'DELETE /y'])
    expect(m.match('get', '/x')?.index).toBe(0)
    expect(m.match('head', '/x')?.index).toBe(0)
    expect(m.match('Delete', '/y')?.index).toBe(1)
    expect(m.match('post', '/x')).toBeUndefined()
  })

  it('is case-sensitive by default and case-insensitive on request', () => {
    expect(indexes(['/api/Agents/**'], ['/api/Agents/x', '/api/agents/x', '/API/AGENTS'])).toEqual([0, undefined, undefined])
    expect(indexes(['/api/Agents/**'], ['/api/Agents/x', '/api/agents/x', '/API/AGENTS'], 'GET', { caseSensitive: false })).toEqual([0, 0, 0])
  })

  it('returns the pattern and raw parameter values', () => {
    const m = createPathMatcher(['/a', 'GET /users/:id/posts/:post', '/files/*/:name'])
    expect(m.match('GET', '/users/42/posts/caf%C3%A9/')).toEqual({ index: 1, pattern: 'GET /users/:id/posts/:post', params: { id: '42', post: 'caf%C3%A9' } })
    expect(m.match('GET', '/files/x/y')).toEqual({ index: 2, pattern: '/files/*/:name', params: { name: 'y' } })
    expect(m.match('GET', '/a')).toEqual({ index: 0, pattern: '/a', params: {} })
  })

  it('keeps the original spelling of parameters when matching case-insensitively', () => {
    const m = createPathMatcher(['/users/:id'], { caseSensitive: false })
    expect(m.match('GET', '/USERS/AbC')?.params).toEqual({ id: 'AbC' })
  })

  it('matches percent-encoded literals as written', () => {
    expect(indexes(['/caf%C3%A9'], ['/caf%C3%A9', '/caf%c3%a9', '/café'])).toEqual([0, undefined, undefined])
    expect(indexes(['/caf%C3%A9'], ['/caf%c3%a9'], 'GET', { caseSensitive: false })).toEqual([0])
  })

  it('needs a path, not a URL', () => {
    expect(indexes(['/**'], ['', 'x', '*', 'http://h/x', '?x'])).toEqual([undefined, undefined, undefined, undefined, undefined])
  })
})

describe('createPathMatcher: the lowest index wins', () => {
  it.each([
    [['/a/**', '/a/b'], '/a/b', 0],
    [['/a/b', '/a/**'], '/a/b', 0],
    [['/:x/b', '/a/:y'], '/a/b', 0],
    [['/a/:y', '/:x/b'], '/a/b', 0],
    [['/a/*/c', '/a/b/c'], '/a/b/c', 0],
    [['/x', '/a/b/c', '/a/**'], '/a/b/c', 1],
    [['/x', '/a/**', '/a/b/c'], '/a/b/c', 1],
    [['/**', '/a'], '/a', 0],
    [['/a', '/**'], '/a', 0],
    [['/a/b/c/d', '/a/:b/**', '/a/b/**'], '/a/b/c/d', 0],
    [['/a/b/c/e', '/a/:b/**', '/a/b/**'], '/a/b/c/d', 1],
    [['/a/b/c/e', '/a/b/**', '/a/:b/**'], '/a/b/c/d', 1],
  ])('%j on %s -> %i', (patterns, path, index) => {
    expect(createPathMatcher(patterns).match('GET', path)?.index).toBe(index)
  })

  it('skips a lower pattern whose method does not fit', () => {
    const m = createPathMatcher(['POST /a/:id', 'GET /a/**', '/a/b'])
    expect(m.match('GET', '/a/b')?.index).toBe(1)
    expect(m.match('POST', '/a/b')?.index).toBe(0)
    expect(m.match('PUT', '/a/b')?.index).toBe(2)
  })

  it('keeps several patterns on one node apart by method and index', () => {
    const m = createPathMatcher(['GET /x', 'POST /x', '/x', 'GET /x/**'])
    expect(['GET', 'POST', 'PATCH'].map((method) => m.match(method, '/x')?.index)).toEqual([0, 1, 2])
  })

  it('agrees with a brute-force reference on random pattern lists', () => {
    const segment = fc.constantFrom('a', 'b', 'A', 'ab', ':p', '*')
    const pattern = fc
      .tuple(fc.constantFrom('', '', 'GET ', 'POST ', 'GET,POST '), fc.array(segment, { maxLength: 4 }), fc.boolean())
      .map(([methods, segments, rest]) => `${methods}/${segments.map((s, i) => (s === ':p' ? `:p${i}` : s)).join('/')}${rest ? (segments.length ? '/**' : '**') : ''}`)
    const path = fc
      .tuple(fc.array(fc.constantFrom('a', 'b', 'A', 'ab', 'c', ''), { maxLength: 5 }), fc.boolean())
      .map(([segments, slash]) => `/${segments.join('/')}${slash ? '/' : ''}`)
    fc.assert(
      fc.property(
        fc.array(pattern, { minLength: 1, maxLength: 12 }),
        fc.array(path, { minLength: 1, maxLength: 10 }),
        fc.constantFrom('GET', 'HEAD', 'POST', 'get', 'PUT'),
        fc.boolean(),
        fc.boolean(),
        (patterns, paths, method, caseSensitive, trailingSlash) => {
          const m = createPathMatcher(patterns, { caseSensitive, trailingSlash })
          for (const p of paths) expect(m.match(method, p)?.index, `${p} in ${JSON.stringify(patterns)}`).toBe(reference(patterns, method, p, caseSensitive, trailingSlash))
        },
      ),
      { numRuns: 3000 },
    )
  })
})

describe('createPathMatcher: configuration errors', () => {
  it('lists every bad pattern with its index', () => {
    let error: unknown
    try {
      createPathMatcher(['/ok', '/docs*', 'health', '/a/**/b', '/ok/:id'])
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(GatehouseConfigError)
    expect((error as GatehouseConfigError).problems.map((p) => p.path)).toEqual(['patterns[1]', 'patterns[2]', 'patterns[3]'])
    expect((error as GatehouseConfigError).message).toContain("patterns[1]: '/docs*': a wildcard must be a whole segment")
  })

  it("refuses catch-alls with kind: 'public' only", () => {
    expect(() => createPathMatcher(['/**'], { kind: 'public' })).toThrow(/use default: 'public'/)
    expect(() => createPathMatcher(['GET /**'], { kind: 'public' })).toThrow(GatehouseConfigError)
    expect(createPathMatcher(['/**']).match('GET', '/x')?.index).toBe(0)
  })

  it('refuses bad arguments with a message naming the fix', () => {
    expect(() => createPathMatcher('/x' as unknown as string[])).toThrow(/patterns: must be an array of path patterns/)
    expect(() => createPathMatcher(['/x'], { caseSensitive: 'no' } as unknown as object)).toThrow(/options.caseSensitive: must be true or false/)
    expect(() => createPathMatcher(['/x'], { kind: 'open' } as unknown as object)).toThrow(/options.kind: must be 'public' or 'protective'/)
    expect(() => createPathMatcher(['/x'], { casesensitive: false } as unknown as object)).toThrow(/options.casesensitive: unknown option/)
    expect(() => createPathMatcher(['/x'], null as unknown as object)).toThrow(/options: must be an object/)
    expect(() => createPathMatcher([42 as unknown as string])).toThrow(/patterns\[0\]: must be a string/)
  })

  it('accepts an empty list, which matches nothing', () => {
    expect(createPathMatcher([]).match('GET', '/')).toBeUndefined()
  })
})

describe('createPathMatcher: hostile input', () => {
  const patterns = ['/', '/health', '/a/:b/c', '/api/**', 'GET /x/*/y/*/z', ...Array.from({ length: 200 }, (_, i) => `/p${i}/:id/q/**`)]
  const matcher = createPathMatcher(patterns, { caseSensitive: false })

  it('never throws on any method and path', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), fc.oneof(fc.string(), fc.constant('/a/x/c')), (method, path) => {
        const found = matcher.match(method, path)
        if (found !== undefined) expect(patterns[found.index]).toBe(found.pattern)
      }),
      { numRuns: 5000 },
    )
  })

  it('does not throw on values that are not strings', () => {
    for (const value of [undefined, null, 1, {}, []]) {
      expect(matcher.match(value as unknown as string, value as unknown as string)).toBeUndefined()
      expect(matcher.match('GET', value as unknown as string)).toBeUndefined()
      expect(matcher.match(value as unknown as string, '/health')?.index).toBe(1)
    }
  })

  it.each([
    ['a long segment', `/${'a'.repeat(1 << 20)}`],
    ['many segments', '/a'.repeat(1 << 19)],
    ['many slashes', '/'.repeat(1 << 20)],
    ['a long path below a /** base', `/api/${'x/'.repeat(1 << 19)}`],
    ['long segments below a parameter', `/p1/${'i'.repeat(1 << 19)}/q/${'z'.repeat(1 << 19)}`],
  ])('returns for a 1 MB path made of %s', (_name, path) => {
    matcher.match('GET', path)
  })

  it('finds the same answers for long paths as for short ones', () => {
    expect(matcher.match('GET', `/api/${'x/'.repeat(1 << 16)}`)?.index).toBe(3)
    expect(matcher.match('GET', `/p7/${'i'.repeat(1 << 16)}/q/z`)?.index).toBe(12)
    expect(matcher.match('GET', `/a/${'b'.repeat(1 << 16)}/c`)?.index).toBe(2)
  })

  it('stays correct when a trie has many branches at one node', () => {
    const many = Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? `/r${i}` : i % 3 === 1 ? `/r${i}/:id` : `GET /r${i}/**`))
    const m = createPathMatcher(many)
    expect(m.match('GET', '/r999')?.index).toBe(999)
    expect(m.match('GET', '/r1000')).toBeUndefined()
    expect(m.match('GET', '/r998/a/b')?.index).toBe(998)
    expect(m.match('GET', '/r997/x')?.index).toBe(997)
    expect(m.match('GET', '/r996')?.index).toBe(996)
    expect(m.match('POST', '/r998')).toBeUndefined()
  })
})

describe('compileMatcher (internal)', () => {
  it('can compare against percent-decoded literals', () => {
    const m = compileMatcher([parsePattern('/caf%C3%A9/a%20b')], { caseSensitive: false, trailingSlash: true, decodeLiterals: true })
    expect(m.find('GET', '/café/a b')).toBe(0)
    expect(m.find('GET', '/CAFÉ/A B')).toBe(0)
    expect(m.find('GET', '/caf%C3%A9/a%20b')).toBe(-1)
  })
})
