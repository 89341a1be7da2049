import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { GatehouseConfigError } from './config-error.js'
import { toProblems } from './options-parse.js'
import { MAX_PATH_BYTES, parseRequestTarget } from './request-target.js'
import { compileRules, type RuleInput, ruleSchema, rulesOptionsSchemaShape } from './rules.js'
import type { TraceStep } from './trace.js'

const admin = () => true

const rules = compileRules({
  public: ['/health', '/docs/**', 'GET /api/agents/**', '/'],
  rules: [
    { match: '/api/agents/**', roles: ['admin'] },
    { match: ['/api/reports/**', 'GET /api/stats'], scopes: ['reports:read'] },
    { match: 'DELETE /api/x/:id', check: admin },
    { match: '/status/**', allow: 'public' },
    { match: '/api/**', allow: 'authenticated' },
  ],
})

function where(method: string, url: string, set = rules) {
  const r = set.resolve(method, url)
  return r.source === 'default' ? 'default' : `${r.source}[${r.index}]`
}

describe('compileRules: order', () => {
  it('tries public entries first, then rules in order, then default', () => {
    expect(where('GET', '/api/agents/1')).toBe('public[2]')
    expect(where('POST', '/api/agents/1')).toBe('rules[0]')
    expect(where('GET', '/api/reports/q')).toBe('rules[1]')
    expect(where('GET', '/api/stats')).toBe('rules[1]')
    expect(where('POST', '/api/stats')).toBe('rules[4]')
    expect(where('DELETE', '/api/x/7')).toBe('rules[2]')
    expect(where('GET', '/api/x/7')).toBe('rules[4]')
    expect(where('GET', '/status/db')).toBe('rules[3]')
    expect(where('GET', '/elsewhere')).toBe('default')
  })

  it('reports access, pattern and the compiled rule', () => {
    expect(rules.resolve('GET', '/health?probe=1')).toMatchObject({ access: 'public', source: 'public', index: 0, pattern: '/health', target: { path: '/health', query: 'probe=1', canonical: true } })
    expect(rules.resolve('GET', '/health').rule).toBeUndefined()
    expect(rules.resolve('PUT', '/api/agents/1')).toMatchObject({
      access: 'authenticated',
      source: 'rules',
      index: 0,
      pattern: '/api/agents/**',
      rule: { index: 0, match: ['/api/agents/**'], access: 'authenticated', roles: ['admin'], scopes: [] },
    })
    expect(rules.resolve('DELETE', '/api/x/1').rule?.check).toBe(admin)
    expect(rules.resolve('GET', '/status').rule).toMatchObject({ index: 3, access: 'public' })
    expect(rules.resolve('GET', '/nope')).toEqual({ access: 'authenticated', source: 'default', index: -1, target: { path: '/nope', query: '', canonical: true } })
  })

  it("follows default: 'public' for unmatched requests, and defaults to 'authenticated'", () => {
    expect(compileRules({ default: 'public' }).resolve('GET', '/x').access).toBe('public')
    expect(compileRules({}).resolve('GET', '/x').access).toBe('authenticated')
    expect(compileRules({ rules: [{ match: '/x' }] }).resolve('GET', '/x')).toMatchObject({ access: 'authenticated', source: 'rules' })
  })

  it('lets the first matching rule decide even when a later one is more specific', () => {
    const set = compileRules({ rules: [{ match: '/api/**' }, { match: '/api/admin/**', roles: ['admin'] }] })
    expect(set.resolve('GET', '/api/admin/x').rule?.index).toBe(0)
  })

  it('treats / as the root only, and /api/auth/** not as /api/authors', () => {
    expect(where('GET', '/')).toBe('public[3]')
    expect(where('GET', '/anything')).toBe('default')
    const set = compileRules({ public: ['/api/auth/**'] })
    expect(where('GET', '/api/auth', set)).toBe('public[0]')
    expect(where('GET', '/api/auth/', set)).toBe('public[0]')
    expect(where('GET', '/api/auth/login/x', set)).toBe('public[0]')
    expect(where('GET', '/api/authors', set)).toBe('default')
  })

  it('applies GET rules to HEAD', () => {
    expect(where('HEAD', '/api/agents/1')).toBe('public[2]')
    expect(where('HEAD', '/api/stats')).toBe('rules[1]')
  })
})

describe('compileRules: public matches narrowly, protective broadly', () => {
  it.each([
    // [method, url, expected, why]
    ['POST', '/API/Agents/', 'rules[0]', 'protective rules ignore case and one trailing slash'],
    ['POST', '/api/agents', 'rules[0]', 'the base of a /** pattern'],
    ['POST', '/api/./agents', 'rules[0]', "a '.' segment resolves away"],
    ['POST', '//api/agents', 'rules[0]', 'empty segments collapse'],
    ['POST', '/api//agents/x', 'rules[0]', 'empty segments collapse'],
    ['POST', '/api/%61gents', 'rules[0]', 'an encoded letter decodes'],
    ['POST', '/api/agents;x', 'rules[0]', 'path parameters drop'],
    ['POST', '/api;x/agents', 'rules[0]', 'path parameters drop'],
    ['POST', '/api/agents%3bx', 'rules[0]', 'encoded path parameters drop'],
    ['POST', '/api\\agents', 'rules[0]', 'backslashes are separators'],
    ['POST', '/api%2fagents', 'rules[0]', 'an encoded slash is a separator'],
    ['POST', '/api%5cagents', 'rules[0]', 'an encoded backslash is a separator'],
    ['POST', '/x/../api/agents', 'rules[0]', "'..' resolves"],
    ['POST', '/x/%2e%2e/api/agents', 'rules[0]', "encoded '..' resolves"],
    ['POST', '/x/.%2E/api/agents', 'rules[0]', "mixed '..' resolves"],
    ['POST', '/x/..;/api/agents', 'rules[0]', "'..;' resolves"],
    ['POST', '/x/%c0%ae%c0%ae/api/agents', 'rules[0]', "overlong '..' resolves"],
    ['POST', 'http://evil.example/api/agents', 'rules[0]', 'absolute-form targets use their path'],
    ['POST', '/API/AGENTS/%2e%2e/AGENTS', 'rules[0]', 'all at once'],
    ['GET', '/API/agents/x', 'rules[0]', 'public rules are case-sensitive, so the protective rule decides'],
    ['GET', '/api/./agents/x', 'rules[0]', 'public rules never match a non-canonical path'],
    ['GET', '/docs/../admin', 'default', "'/docs/**' never matches '/docs/../admin'"],
    ['GET', '/docs/%2e%2e/admin', 'default', 'nor its encoded form'],
    ['GET', '/docs/..%2fadmin', 'default', 'nor an encoded slash'],
    ['GET', '/docs;x/a', 'default', 'nor path parameters'],
    ['GET', '/Docs/a', 'default', 'public rules are case-sensitive'],
    ['GET', '/docs/a/', 'public[1]', 'public rules tolerate one trailing slash'],
    ['GET', '/health/', 'public[0]', 'public rules tolerate one trailing slash'],
    ['GET', '/health//', 'default', 'but not two'],
    ['GET', '/health%00', 'default', 'an encoded NUL is not canonical'],
    ['GET', '/status/%2e%2e/api/agents', 'rules[0]', "a public rule cannot be reached through '..'"],
    ['GET', '/STATUS/x', 'default', 'public rules (allow: public) are case-sensitive'],
    ['GET', '/status/x', 'rules[3]', 'public rules (allow: public) match their own spelling'],
  ])('%s %s -> %s (%s)', (method, url, expected) => {
    expect(where(method, url)).toBe(expected)
  })

  it('never opens a path that is not canonical, whatever the public patterns', () => {
    const open = compileRules({ public: ['/docs/**', '/:a/:b', '/a/*/c'], default: 'authenticated' })
    for (const url of ['/docs/../x', '/a/./c', '/x/..', '/a/%2e/c', '/docs//x', '/docs/a\\b', '/docs/a;b', '/docs/%00', '/docs/%25', '/docs/%c0%ae']) {
      expect(open.resolve('GET', url).access, url).toBe('authenticated')
    }
  })

  it('ignores every header: only the request-target decides', () => {
    // resolve takes no headers at all; a path given in X-Original-URL or X-Rewrite-URL cannot matter.
    expect(rules.resolve.length).toBeLessThanOrEqual(3)
  })
})

describe('compileRules: both spellings of a path', () => {
  const set = compileRules({
    rules: [
      { match: '/b/**', scopes: ['b'] },
      { match: '/a/**', roles: ['a'] },
      { match: '/c/**', roles: ['c'] },
    ],
    default: 'public',
  })

  it('returns the other form\'s rule as `also` when raw and normalised paths match different rules', () => {
    const r = set.resolve('GET', '/a/%2e%2e/b/x')
    expect(r).toMatchObject({ source: 'rules', index: 0, pattern: '/b/**' })
    expect(r.also).toMatchObject([{ index: 1, roles: ['a'] }])
    const s = set.resolve('GET', '/c/..;/a/x')
    expect(s).toMatchObject({ index: 1 })
    expect(s.also).toMatchObject([{ index: 2 }])
  })

  it('sets no `also` when both forms reach the same rule, or only one matches', () => {
    expect(set.resolve('GET', '/a/./x').also).toBeUndefined()
    expect(set.resolve('GET', '/a/x').also).toBeUndefined()
    expect(set.resolve('GET', '/z/../a/x')).toMatchObject({ index: 1 })
    expect(set.resolve('GET', '/z/../a/x').also).toBeUndefined()
    expect(set.resolve('GET', '/a/../z').also).toBeUndefined()
    expect(set.resolve('GET', '/a/../z')).toMatchObject({ index: 1 })
  })
})

describe('compileRules: long and hostile paths', () => {
  const long = 'x'.repeat(MAX_PATH_BYTES)

  it('never opens a path longer than MAX_PATH_BYTES, but still protects it', () => {
    const set = compileRules({ public: ['/docs/**'], rules: [{ match: '/api/**', roles: ['r'] }], default: 'public' })
    expect(set.resolve('GET', `/docs/${long}`)).toMatchObject({ access: 'public', source: 'default' })
    expect(set.resolve('GET', `/api/${long}`)).toMatchObject({ source: 'rules', index: 0 })
    expect(set.resolve('GET', `/API/${long}/%2e%2e/${long}`)).toMatchObject({ source: 'rules', index: 0 })
    expect(set.resolve('GET', `/x/${long}/../../api/x`)).toMatchObject({ source: 'rules', index: 0 })
    const closed = compileRules({ public: ['/docs/**'] })
    expect(closed.resolve('GET', `/docs/${long}`)).toMatchObject({ access: 'authenticated', source: 'default', target: { canonical: false } })
  })

  const MB = 1 << 20
  it.each([
    ['a long segment', `/${'a'.repeat(MB)}`],
    ['many segments', '/a'.repeat(MB / 2)],
    ['many slashes', '/'.repeat(MB)],
    ['many dot segments', `/${'../'.repeat(MB / 3)}api/agents`],
    ['many escapes', `/${'%2e%2e%2f'.repeat(MB / 9)}api/agents`],
    ['many path parameters', `/${';'.repeat(MB)}`],
    ['a long query', `/health?${'q'.repeat(MB)}`],
  ])('resolves a 1 MB request-target made of %s', (_name, url) => {
    expect(['public', 'authenticated']).toContain(rules.resolve('GET', url).access)
  })

  it('still sees the protective rule behind a megabyte of dot segments', () => {
    expect(where('POST', `/${'../'.repeat(MB / 3)}api/agents`)).toBe('rules[0]')
  })
})

describe('compileRules: properties', () => {
  const broad = compileRules({
    public: ['/docs/**', '/health', 'GET /api/public/**', '/files/:name'],
    rules: [{ match: '/api/agents/**', roles: ['admin'] }, { match: '/static/**', allow: 'public' }],
    default: 'public',
  })

  const piece = fc.constantFrom('/', 'a', 'A', 'docs', 'api', 'agents', 'static', 'files', '.', '..', '%2e', '%2E', '%2f', '%5c', '%00', '%25', '%c0%ae', ';', '\\', '//', '#', ' ', 'é', '%C3%A9')
  const url = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.array(piece, { maxLength: 16 }).map((p) => `/${p.join('')}`))

  it('never throws on any method and request-target', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom('GET', 'post')), url, (method, target) => {
        const r = broad.resolve(method, target)
        expect(['public', 'authenticated']).toContain(r.access)
      }),
      { numRuns: 10000 },
    )
  })

  it('only ever opens canonical paths by a public rule', () => {
    fc.assert(
      fc.property(url, (target) => {
        const r = broad.resolve('GET', target)
        if (r.access === 'public' && r.source !== 'default') {
          expect(parseRequestTarget(r.target.path).canonical).toBe(true)
          expect(r.target.path.length).toBeLessThanOrEqual(MAX_PATH_BYTES)
        }
      }),
      { numRuns: 20000 },
    )
  })

  // Spellings that some router or proxy sends to the same handler as the original path.
  const variant = fc.constantFrom(
    (p: string) => p.toUpperCase(),
    (p: string) => p.replace(/[a-z]/, (c) => c.toUpperCase()),
    (p: string) => `${p}/`,
    (p: string) => p.replace('/', '/./'),
    (p: string) => p.replace('/', '//'),
    (p: string) => p.replace(/\/(?=[^/]*$)/, '/%2e/'),
    (p: string) => p.replace(/(?<=\/)(a)(?=gents)/i, (c) => `%${c.charCodeAt(0).toString(16)}`),
    (p: string) => p.replace(/(?<=\/)(a)(?=pi)/i, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    (p: string) => p.replace(/([a-z])(\/|$)/, '$1;jsessionid=x$2'),
    (p: string) => p.replace(/\/(?=.)/g, '\\'),
    (p: string) => p.replace(/\/(?=.)/, '%2f'),
    (p: string) => `/docs/..${p}`,
    (p: string) => `/docs/%2e%2e${p}`,
    (p: string) => `/static/..;${p}`,
    (p: string) => `/files/%2e%2e%2f..${p}`,
  )

  it('keeps every router-equivalent spelling of a protected path behind its rule', () => {
    const tail = fc.array(fc.stringMatching(/^[a-z0-9-]{1,6}$/), { maxLength: 3 })
    fc.assert(
      fc.property(tail, fc.array(variant, { minLength: 1, maxLength: 4 }), fc.constantFrom('GET', 'POST', 'DELETE', 'get'), fc.boolean(), (segments, transforms, method, absolute) => {
        const original = `/api/agents${segments.map((s) => `/${s}`).join('')}`
        const path = transforms.reduce((p, t) => t(p), original)
        // An absolute-form target wraps a finished path that starts with '/' (otherwise the first
        // segment would be read as part of the host).
        const spelled = absolute && path.startsWith('/') ? `http://evil.example${path}` : path
        const r = broad.resolve(method, spelled)
        expect(r.rule?.index === 0 || r.also?.some((a) => a.index === 0) === true, `${method} ${spelled}: ${r.source}[${r.index}]`).toBe(true)
      }),
      { numRuns: 20000 },
    )
  })
})

describe('compileRules: trace', () => {
  it('reports the matching rule, and why a path could not be public', () => {
    const steps: TraceStep[] = []
    rules.resolve('POST', '/api/./agents?token=abc', (s) => steps.push(s))
    expect(steps).toEqual([
      {
        step: 'path',
        outcome: 'info',
        detail: expect.stringContaining("contains a '.' segment, so no public rule can match it"),
        data: { canonical: false, reason: "contains a '.' segment" },
      },
      {
        step: 'rule',
        outcome: 'info',
        detail: "rules[0] '/api/agents/**' matched a normalised spelling of the path: needs roles admin",
        data: { source: 'rules', index: 0, pattern: '/api/agents/**', access: 'authenticated', form: 'normalised' },
      },
      {
        // The raw spelling fits '/api/**' ('.' counts as a segment there), so that rule applies too.
        step: 'rule',
        outcome: 'info',
        detail: "rules[4] '/api/**' matched another spelling of the path: authentication required; every rule a spelling matches applies",
        data: { source: 'rules', index: 4, pattern: '/api/**', access: 'authenticated', also: true },
      },
    ])
    for (const step of steps) expect(JSON.stringify(step)).not.toContain('abc')
  })

  it('reports public matches, the default, and a second rule', () => {
    const details = (method: string, url: string, set = rules) => {
      const steps: TraceStep[] = []
      set.resolve(method, url, (s) => steps.push(s))
      return steps.map((s) => s.detail)
    }
    expect(details('GET', '/health')).toEqual(["public[0] '/health' matched the path: public"])
    expect(details('GET', '/nope')).toEqual(["no rule matched: default 'authenticated' applies"])
    expect(details('GET', '/api/stats')).toEqual(["rules[1] '/api/reports/**' matched the path: needs scopes reports:read".replace('/api/reports/**', 'GET /api/stats')])
    expect(details('DELETE', '/api/x/1')).toEqual(["rules[2] 'DELETE /api/x/:id' matched the path: needs a check"])
    expect(details('GET', '/api/q')).toEqual(["rules[4] '/api/**' matched the path: authentication required"])
    const two = compileRules({ rules: [{ match: '/b/**', scopes: ['b'] }, { match: '/a/**', roles: ['a'] }] })
    expect(details('GET', '/a/%2e%2e/b', two).slice(1)).toEqual([
      "rules[0] '/b/**' matched a normalised spelling of the path: needs scopes b",
      "rules[1] '/a/**' matched another spelling of the path: needs roles a; every rule a spelling matches applies",
    ])
  })
})

describe('rule options schema', () => {
  const schema = z.object(rulesOptionsSchemaShape).strict()
  const problems = (input: unknown) => {
    const result = schema.safeParse(input)
    return result.success ? [] : toProblems(result.error.issues)
  }

  it('accepts a full, valid configuration', () => {
    expect(problems({ public: ['/health'], rules: [{ match: ['/a', 'GET /b/:id'], roles: ['x'], scopes: ['y'], check: () => true }, { match: '/c/**', allow: 'public' }], default: 'public' })).toEqual([])
    expect(problems({})).toEqual([])
  })

  it('reports every problem at once with its option path and a fix', () => {
    const found = problems({
      public: ['/health', '/**', 'docs', 42],
      rules: [
        { match: '/ok', roles: [] },
        { match: ['/a', '/b*', '/c'], scopes: ['s', ''] },
        { match: '/p/**', allow: 'public', roles: ['admin'], check: () => true },
        { match: 'GET /**', allow: 'public' },
        { match: ['/**'], allow: 'public' },
        { roles: ['x'] },
        { match: 7, check: 'yes', alow: 'public' },
        { match: [] },
        'not a rule',
      ],
      default: 'open',
    })
    expect(found.map((p) => p.path)).toEqual([
      'public[1]',
      'public[2]',
      'public[3]',
      'rules[0].roles',
      'rules[1].match[1]',
      'rules[1].scopes[1]',
      'rules[2].allow',
      'rules[3].match',
      'rules[4].match[0]',
      'rules[5].match',
      'rules[6].match',
      'rules[6].check',
      'rules[6]',
      'rules[7].match',
      'rules[8]',
      'default',
    ])
    const at = (path: string) => found.find((p) => p.path === path)?.message
    expect(at('public[1]')).toMatch(/use default: 'public'/)
    expect(at('public[2]')).toMatch(/must start with '\/'/)
    expect(at('public[3]')).toMatch(/must be a string/)
    expect(at('rules[0].roles')).toMatch(/at least one role/)
    expect(at('rules[1].match[1]')).toMatch(/wildcard must be a whole segment/)
    expect(at('rules[1].scopes[1]')).toMatch(/cannot be empty/)
    expect(at('rules[2].allow')).toBe("allow: 'public' cannot be combined with roles and check: remove roles and check, or remove allow: 'public' to require them")
    expect(at('rules[3].match')).toMatch(/use default: 'public'/)
    expect(at('rules[4].match[0]')).toMatch(/use default: 'public'/)
    expect(at('rules[5].match')).toMatch(/is required/)
    expect(at('rules[6].match')).toMatch(/must be a path pattern or an array/)
    expect(at('rules[6].check')).toMatch(/must be a function/)
    expect(at('rules[6]')).toMatch(/unknown option 'alow'/)
    expect(at('rules[7].match')).toMatch(/at least one path pattern/)
    expect(at('rules[8]')).toMatch(/Invalid input|object/)
    expect(at('default')).toBe("must be 'public', 'optional' or 'authenticated'")
  })

  it('lets protective rules be catch-alls', () => {
    expect(problems({ rules: [{ match: '/**', roles: ['admin'] }, { match: 'GET /**' }] })).toEqual([])
  })

  it('exports the rule schema on its own', () => {
    const result = ruleSchema.safeParse({ match: ['/a', '/a/'], allow: 'public', scopes: ['s'] })
    expect(result.success).toBe(false)
    expect(toProblems(result.error?.issues ?? []).map((p) => p.path)).toEqual(['match[1]', 'allow'])
  })
})

describe('compileRules: configuration errors', () => {
  it('throws GatehouseConfigError listing every problem', () => {
    let error: unknown
    try {
      compileRules({ public: ['/**'], rules: [{ match: '/a*' } as RuleInput], default: 'x' as 'public' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(GatehouseConfigError)
    expect((error as GatehouseConfigError).problems.map((p) => p.path)).toEqual(['public[0]', 'rules[0].match', 'default'])
  })

  it('ignores options that belong to other parts of createAuth', () => {
    expect(() => compileRules({ public: ['/x'], jwt: { secret: 's' } } as never)).not.toThrow()
  })
})
