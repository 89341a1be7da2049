import { GatehouseConfigError } from './config-error.js'
import { pathProblem } from './request-target.js'

/**
 * How a pattern is used. `public` patterns open paths to everyone, so they are also refused when
 * they would match every path; `protective` patterns (rules with roles, scopes, checks or
 * `allow: 'authenticated'`) may be as broad as wanted.
 */
export type PatternKind = 'public' | 'protective'

/** One segment of a parsed pattern. */
export type PatternSegment =
  /** Matches exactly this text (as written in the pattern, possibly with `%HH` escapes). */
  | { type: 'literal'; value: string }
  /** `*` (no name) or `:name`: exactly one non-empty segment. */
  | { type: 'param'; name: string | undefined }

/** A pattern taken apart, as the matcher compiles it. */
export interface ParsedPattern {
  /** The pattern as written. */
  source: string
  /** Upper-case methods the pattern is restricted to (`HEAD` added when `GET` is listed), or `undefined` for any method. */
  methods: readonly string[] | undefined
  /** The segments before a trailing `/**` (none for `/` and `/**`). */
  segments: readonly PatternSegment[]
  /** `true` when the pattern ends with `/**`: the base path and anything below it. */
  rest: boolean
}

const METHOD = /^[A-Z][A-Z0-9_-]*$/
const PARAM_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/
const PARAM_PREFIX = /^[A-Za-z_$][A-Za-z0-9_$]*/

const CATCH_ALL_FIX = "use default: 'public' instead, and list the paths that need authentication in rules"
const CATCH_ALL = `matches every path, which would make the whole app public: ${CATCH_ALL_FIX}`

type Analysis = { problem: string; parsed?: undefined } | { problem?: undefined; parsed: ParsedPattern }

/**
 * Checks a path pattern. Returns a message that says what is wrong and how to fix it, or
 * `undefined` when the pattern is valid.
 *
 * Syntax: `/health` (exact; a request with one trailing slash matches too), `/users/:id` or
 * `/docs/*` (exactly one non-empty segment), a trailing `/**` (the base path and anything below
 * it on segment boundaries), an optional method list `GET /x` or `GET,POST /x` (upper case;
 * `GET` implies `HEAD`), and `/` for the root only.
 *
 * Refused: anything but a non-empty string; a path not starting with `/`; a bad method token; a
 * wildcard or parameter inside a segment (`/docs*`, `/a*b`, `/:id.json`); `**` before the last
 * segment; empty segments; a trailing slash; `{id}`-style parameters; and characters that no
 * canonical request path contains (`?`, `#`, whitespace, `\`, `;`, `.`/`..` segments, a `%` not
 * followed by two hex digits, …), since such a pattern could never match. With `kind: 'public'`,
 * a pattern that matches every path (`/**`, `**`, `GET /**`, `/:any/**`) is refused too.
 */
export function patternProblem(pattern: unknown, kind: PatternKind = 'protective'): string | undefined {
  return analyse(pattern, kind).problem
}

/**
 * Parses a pattern for the matcher. Throws {@link GatehouseConfigError} (path `pattern`) with the
 * message of {@link patternProblem} (kind `protective`) when the pattern is invalid.
 */
export function parsePattern(pattern: string): ParsedPattern {
  const result = analyse(pattern, 'protective')
  if (result.problem !== undefined) throw new GatehouseConfigError([{ path: 'pattern', message: result.problem }], 'path pattern')
  return result.parsed
}

function analyse(pattern: unknown, kind: PatternKind): Analysis {
  if (typeof pattern !== 'string') return { problem: "must be a string: write a path pattern such as '/health' or 'GET /items/:id'" }
  if (pattern === '') return { problem: "is empty: write a path such as '/health'" }
  if (pattern.trim() !== pattern) return { problem: `'${pattern}' has leading or trailing whitespace: remove it` }

  let methods: string[] | undefined
  let path = pattern
  if (!pattern.startsWith('/')) {
    const space = pattern.indexOf(' ')
    if (space === -1) {
      if (pattern === '**' || pattern === '*') {
        return { problem: kind === 'public' && pattern === '**' ? CATCH_ALL : `'${pattern}' must start with '/': write '/${pattern}'` }
      }
      if (/^[A-Z]+(,[A-Z]+)*$/.test(pattern)) return { problem: `'${pattern}' lists methods but no path: write e.g. '${pattern} /items'` }
      return { problem: `'${pattern}' must start with '/' (after an optional method list such as 'GET /x'): write '/${pattern}'` }
    }
    const list = pattern.slice(0, space)
    path = pattern.slice(space + 1).replace(/^ +/, '')
    const problem = methodListProblem(list)
    if (problem !== undefined) return { problem }
    methods = [...new Set(list.split(','))]
    if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD')
    if (path === '') return { problem: `'${pattern}' has no path after the method list: write e.g. '${list} /items'` }
    if (path === '**' && kind === 'public') return { problem: CATCH_ALL }
    if (!path.startsWith('/')) return { problem: `the path in '${pattern}' must start with '/': write '${list} /${path}'` }
  }

  const problem = pathSyntaxProblem(path)
  if (problem !== undefined) return { problem }

  const parts = path === '/' ? [] : path.slice(1).split('/')
  const rest = parts[parts.length - 1] === '**'
  if (rest) parts.pop()
  const segments: PatternSegment[] = []
  const names = new Set<string>()
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string
    const segment = segmentOf(part, path, `/${parts.slice(0, i).join('/')}`, names)
    if (typeof segment === 'string') return { problem: segment }
    segments.push(segment)
  }

  if (kind === 'public' && rest && segments.every((s) => s.type === 'param')) {
    return { problem: segments.length === 0 ? CATCH_ALL : `'${pattern}' matches every path below the root, which would make the whole app public: ${CATCH_ALL_FIX}` }
  }
  return { parsed: { source: pattern, methods, segments, rest } }
}

function methodListProblem(list: string): string | undefined {
  for (const token of list.split(',')) {
    if (token === '') return `the method list '${list}' has an empty entry: separate methods with commas and no spaces, e.g. 'GET,POST /x'`
    if (METHOD.test(token)) continue
    if (METHOD.test(token.toUpperCase())) return `method '${token}' must be upper case: write '${token.toUpperCase()}'`
    return `'${token}' is not an HTTP method: write upper-case methods separated by commas before the path, e.g. 'GET,POST /x'`
  }
  return undefined
}

/** Problems with the path as a whole, with messages more specific than a canonical-path reason. */
function pathSyntaxProblem(path: string): string | undefined {
  const q = path.indexOf('?')
  if (q !== -1) return `'${path}' contains '?': patterns match the path only, never the query; remove '${path.slice(q)}'`
  if (/\s/.test(path)) return `'${path}' contains whitespace: percent-encode a space as '%20'`
  const brace = /[{}<>]/.exec(path)
  if (brace) return `'${path}' contains '${brace[0]}': write a parameter segment as ':name' (e.g. '/users/:id'), or '/**' for everything below a path`
  if (path.length > 1 && path.endsWith('/')) {
    const base = path.replace(/\/+$/, '') || '/'
    return `'${path}' ends with '/': write '${base}' (it also matches '${base === '/' ? '/' : `${base}/`}') or '${base === '/' ? '' : base}/**' for everything below it`
  }
  if (path.includes('//')) return `'${path}' contains an empty segment ('//'): remove the extra '/'`
  const reason = pathProblem(path)
  if (reason !== undefined) return `'${path}' can never match a request path, because it ${reason}: write the path as a client sends it, without '.'/'..' segments, '\\', ';', '#', control characters or '%25', and with non-ASCII characters percent-encoded as UTF-8`
  return undefined
}

/** Parses one segment, or returns the problem with it. */
function segmentOf(part: string, path: string, parent: string, names: Set<string>): PatternSegment | string {
  if (part === '**') return `'${path}': '**' must be the last segment (write '/base/**'); for one segment in the middle use '*' or ':name'`
  if (part === '*') return { type: 'param', name: undefined }
  if (part.includes('*')) {
    const before = part.slice(0, part.indexOf('*'))
    const base = `${parent === '/' ? '' : parent}/${before}`
    const suggestion = before !== '' && /^[^*]+\*+$/.test(part) ? `'${base}/**' for '${base}' and everything below it, or ` : ''
    return `'${path}': a wildcard must be a whole segment ('${part}' is not): write ${suggestion}'*' as a segment of its own for exactly one segment, or list the exact paths`
  }
  if (part.startsWith(':')) {
    const name = part.slice(1)
    if (name === '') return `'${path}': ':' needs a parameter name: write e.g. ':id'`
    if (!PARAM_NAME.test(name)) {
      const prefix = PARAM_PREFIX.exec(name)?.[0]
      return prefix
        ? `'${path}': a parameter must be a whole segment ('${part}' is not): write ':${prefix}' and match the rest in your handler`
        : `'${path}': '${part}' is not a parameter name: use letters, digits, '_' or '$', starting with a letter, e.g. ':id'`
    }
    if (name === '__proto__') return `'${path}': ':__proto__' cannot name a parameter: give it another name, e.g. ':proto'`
    if (names.has(name)) return `'${path}': parameter ':${name}' appears twice: give each parameter its own name`
    names.add(name)
    return { type: 'param', name }
  }
  return { type: 'literal', value: part }
}
