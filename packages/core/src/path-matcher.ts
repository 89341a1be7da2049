import { type ConfigProblem, GatehouseConfigError } from './config-error.js'
import { type ParsedPattern, type PatternKind, parsePattern, patternProblem } from './path-pattern.js'
import { percentDecode } from './request-target.js'

/** The pattern that decided a path. */
export interface PathMatch {
  /** Position of the pattern in the list given to {@link createPathMatcher}. */
  index: number
  /** The pattern as written. */
  pattern: string
  /** Values of the `:name` segments, raw as they appear in the path (not percent-decoded). */
  params: Record<string, string>
}

/** Matches request paths against a fixed list of patterns. */
export interface PathMatcher {
  /**
   * The matching pattern that comes first in the list, or `undefined` when none matches.
   * Pure string logic on `path` (a path, not a full URL: no query); never throws.
   */
  match(method: string, path: string): PathMatch | undefined
}

/** Options of {@link createPathMatcher}. */
export interface PathMatcherOptions {
  /** Compare literal segments case-sensitively. Default `true`. */
  caseSensitive?: boolean
  /** Let a path with one trailing slash match a pattern without it (`/health/` → `/health`). Default `true`. */
  trailingSlash?: boolean
  /**
   * How the patterns are used, which decides how strictly they are checked: `public` patterns may
   * not match every path. Default `protective`.
   */
  kind?: PatternKind
}

/**
 * A compiled matcher with a lookup that allocates nothing for the result.
 * @internal used by the rule resolver.
 */
export interface CompiledMatcher extends PathMatcher {
  /** The index of the first matching pattern, or -1. */
  find(method: string, path: string): number
}

/** How {@link compileMatcher} reads paths and patterns. @internal */
export interface CompileOptions {
  caseSensitive: boolean
  trailingSlash: boolean
  /** Compare against percent-decoded pattern literals (for paths that were decoded first). */
  decodeLiterals?: boolean
}

/**
 * Compiles `patterns` into a matcher. The first matching pattern in list order wins, whatever
 * its kind, so put specific patterns before broad ones.
 *
 * Patterns are compiled once into a segment trie (a map of literal segments, one branch for
 * `*`/`:name`, and `/**` terminals), so a lookup costs time proportional to the length of the
 * path, not to the number of patterns, and no regular expression is ever built. See
 * {@link patternProblem} for the syntax.
 *
 * Method restrictions compare the request method upper-cased (`get` is `GET`), because routers
 * such as Express route methods case-insensitively; `GET` also matches `HEAD`.
 *
 * `match` does not judge whether a path is canonical: `createPathMatcher(['/docs/**'])` matches
 * `/docs/../admin`. The rule resolver (`compileRules`) checks that before it lets a public
 * pattern match; do the same with `parseRequestTarget` when you use a matcher on its own to open
 * paths.
 *
 * @throws {GatehouseConfigError} listing every invalid pattern (option path `patterns[i]`).
 */
export function createPathMatcher(patterns: readonly string[], options: PathMatcherOptions = {}): PathMatcher {
  const problems: ConfigProblem[] = []
  if (typeof options !== 'object' || options === null) {
    problems.push({ path: 'options', message: 'must be an object such as { caseSensitive: false }' })
  } else {
    for (const key of Object.keys(options)) {
      if (key !== 'caseSensitive' && key !== 'trailingSlash' && key !== 'kind') {
        problems.push({ path: `options.${key}`, message: "unknown option: use 'caseSensitive', 'trailingSlash' or 'kind'" })
      }
    }
    for (const key of ['caseSensitive', 'trailingSlash'] as const) {
      if (options[key] !== undefined && typeof options[key] !== 'boolean') problems.push({ path: `options.${key}`, message: 'must be true or false' })
    }
    if (options.kind !== undefined && options.kind !== 'public' && options.kind !== 'protective') {
      problems.push({ path: 'options.kind', message: "must be 'public' or 'protective'" })
    }
  }
  if (!Array.isArray(patterns)) {
    problems.push({ path: 'patterns', message: "must be an array of path patterns such as ['/health', '/docs/**']" })
  } else if (problems.length === 0) {
    const kind = options.kind ?? 'protective'
    patterns.forEach((pattern, i) => {
      const message = patternProblem(pattern, kind)
      if (message !== undefined) problems.push({ path: `patterns[${i}]`, message })
    })
  }
  if (problems.length > 0) throw new GatehouseConfigError(problems, 'path matcher')
  return compileMatcher(patterns.map(parsePattern), {
    caseSensitive: options.caseSensitive ?? true,
    trailingSlash: options.trailingSlash ?? true,
  })
}

interface Terminal {
  index: number
  pattern: string
  /** Allowed methods (upper case), or undefined for any. A short array beats a Set here. */
  methods: readonly string[] | undefined
  /** Parameter name per segment depth, when the pattern has named parameters. */
  names: readonly (string | undefined)[] | undefined
}

interface Node {
  /** Literal children: keys and nodes in parallel, compared in place (no substring is taken). */
  keys: string[]
  kids: Node[]
  /** The first character code of each key, so most keys are ruled out without loading them. */
  firsts: number[]
  /** With many literal children: child positions grouped by key length (a sparse array). */
  byLength: (number[] | undefined)[] | undefined
  /** The `*` / `:name` child. */
  param: Node | undefined
  /** Patterns that end here, in index order. */
  ends: Terminal[]
  /** `…/**` patterns whose base ends here, in index order. */
  globs: Terminal[]
  /** The lowest pattern index anywhere below (and at) this node, for pruning. */
  min: number
}

/** "No match yet": larger than any pattern index, and a small integer so comparisons stay integer-only. */
const NONE = 0x3fffffff

/** Above this many literal children a node groups them by length. */
const SCAN_LIMIT = 8

function node(): Node {
  return { keys: [], kids: [], firsts: [], byLength: undefined, param: undefined, ends: [], globs: [], min: NONE }
}

function finish(n: Node): number {
  let min = Math.min(n.ends[0]?.index ?? NONE, n.globs[0]?.index ?? NONE)
  for (const kid of n.kids) min = Math.min(min, finish(kid))
  if (n.param !== undefined) min = Math.min(min, finish(n.param))
  if (n.keys.length > SCAN_LIMIT) {
    const byLength: (number[] | undefined)[] = []
    n.keys.forEach((key, i) => (byLength[key.length] ??= []).push(i))
    n.byLength = byLength
  }
  n.min = min
  return min
}

/**
 * Compiles already-parsed patterns. No validation: callers parse with {@link parsePattern}.
 * @internal used by {@link createPathMatcher} and the rule resolver.
 */
export function compileMatcher(parsed: readonly ParsedPattern[], options: CompileOptions): CompiledMatcher {
  const { caseSensitive, trailingSlash } = options
  const root = node()
  let depth = 0
  parsed.forEach((p, index) => {
    let n = root
    let names: (string | undefined)[] | undefined
    p.segments.forEach((segment, d) => {
      if (segment.type === 'param') {
        if (segment.name !== undefined) (names ??= [])[d] = segment.name
        n = n.param ??= node()
        return
      }
      let key = options.decodeLiterals ? percentDecode(segment.value) : segment.value
      if (!caseSensitive) key = key.toLowerCase()
      const at = n.keys.indexOf(key)
      if (at !== -1) {
        n = n.kids[at] as Node
        return
      }
      const kid = node()
      n.keys.push(key)
      n.kids.push(kid)
      n.firsts.push(key.charCodeAt(0))
      n = kid
    })
    depth = Math.max(depth, p.segments.length)
    const terminal: Terminal = { index, pattern: p.source, methods: p.methods, names }
    ;(p.rest ? n.globs : n.ends).push(terminal)
  })
  finish(root)

  // The state of one lookup. A lookup never re-enters, so it lives here and allocates nothing.
  const cap = depth
  let subject = ''
  let end = 0
  let method = ''
  let upper: string | undefined
  let best = NONE
  let found: Terminal | undefined
  // Where each segment ends, computed the first time a parameter needs it: segment d always
  // starts at the same place, so each is scanned once however many branches look at it.
  const starts = new Int32Array(cap + 1)
  const stops = new Int32Array(cap + 1)
  const seen = new Int32Array(cap + 1)
  let generation = 0
  // Where the segment after the last literal found by literal() starts.
  let next = 0

  const segmentEnd = (d: number, pos: number): number => {
    if (seen[d] === generation) return stops[d] as number
    let e = subject.indexOf('/', pos)
    if (e === -1 || e > end) e = end
    starts[d] = pos
    stops[d] = e
    seen[d] = generation
    return e
  }

  /**
   * Whether `key` is the whole segment at `pos` (its first character already compared). A plain
   * loop: keys are short, and it beats a call to startsWith. The last character goes first,
   * because sibling keys often differ only at the end (`v1`, `v2`; `users`, `user`).
   */
  const fits = (key: string, pos: number): boolean => {
    const length = key.length
    const after = pos + length
    if (after !== end && (after > end || subject.charCodeAt(after) !== 0x2f)) return false
    if (subject.charCodeAt(after - 1) !== key.charCodeAt(length - 1)) return false
    for (let i = 1; i < length - 1; i++) if (subject.charCodeAt(pos + i) !== key.charCodeAt(i)) return false
    next = after === end ? end + 1 : after + 1
    return true
  }

  const literal = (n: Node, d: number, pos: number): Node | undefined => {
    const keys = n.keys
    const firsts = n.firsts
    const first = subject.charCodeAt(pos)
    if (n.byLength === undefined) {
      for (let i = 0; i < firsts.length; i++) {
        if (firsts[i] === first && fits(keys[i] as string, pos)) return n.kids[i]
      }
      return undefined
    }
    // Many children: measure the segment once (a parameter sibling reuses it), then only keys
    // of exactly that length are candidates.
    const bucket = n.byLength[segmentEnd(d, pos) - pos]
    if (bucket === undefined) return undefined
    for (let i = 0; i < bucket.length; i++) {
      const k = bucket[i] as number
      if (firsts[k] === first && fits(keys[k] as string, pos)) return n.kids[k]
    }
    return undefined
  }

  // Requests nearly always carry an upper-case method; fold case only when a lookup misses.
  const allows = (methods: readonly string[]): boolean => {
    if (methods.includes(method)) return true
    if (upper === undefined) upper = method.toUpperCase()
    return upper !== method && methods.includes(upper)
  }

  const take = (terminals: Terminal[]): void => {
    for (let i = 0; i < terminals.length; i++) {
      const t = terminals[i] as Terminal
      if (t.index >= best) return
      if (t.methods === undefined || allows(t.methods)) {
        best = t.index
        found = t
        return
      }
    }
  }

  // Depth-first over every branch the path fits, skipping any subtree whose lowest index cannot
  // beat the best match so far, cheapest subtree first. `pos` is where segment `d` starts;
  // `end + 1` means the path is used up. Each trie node is visited at most once. The walk loops
  // down single branches and recurses only where a literal and a parameter child both fit.
  const visit = (start: Node, d0: number, pos0: number): void => {
    let n = start
    let d = d0
    let pos = pos0
    for (;;) {
      if (n.min >= best) return
      if (n.globs.length > 0) take(n.globs)
      if (pos > end) {
        take(n.ends)
        return
      }
      if (d >= cap) return
      const lit = n.keys.length > 0 ? literal(n, d, pos) : undefined
      const par = n.param
      if (lit !== undefined) {
        const after = next
        if (par !== undefined) {
          if (lit.min <= par.min) visit(lit, d + 1, after)
          else {
            visitParam(par, d, pos)
            n = lit
            d++
            pos = after
            continue
          }
        } else {
          n = lit
          d++
          pos = after
          continue
        }
      }
      // Only the parameter branch is left.
      if (par === undefined || par.min >= best) return
      const e = segmentEnd(d, pos)
      if (e === pos) return
      n = par
      d++
      pos = e === end ? end + 1 : e + 1
    }
  }

  const visitParam = (par: Node, d: number, pos: number): void => {
    if (par.min >= best) return
    const e = segmentEnd(d, pos)
    if (e === pos) return
    visit(par, d + 1, e === end ? end + 1 : e + 1)
  }

  const find = (requestMethod: string, path: string): number => {
    if (typeof path !== 'string' || path.charCodeAt(0) !== 0x2f) return -1
    subject = caseSensitive ? path : path.toLowerCase()
    method = typeof requestMethod === 'string' ? requestMethod : ''
    upper = undefined
    end = subject.length
    if (trailingSlash && end > 1 && subject.charCodeAt(end - 1) === 0x2f) end--
    // A stale mark from 2^31 lookups ago must never pass for this lookup's: start over instead.
    if (++generation === 0x7fffffff) {
      seen.fill(0)
      generation = 1
    }
    best = NONE
    found = undefined
    // "/" has no segments; "/a/" with the trailing slash not tolerated has "a" and "".
    visit(root, 0, end === 1 ? 2 : 1)
    // `found` is set inside visit(); read it without the narrowing from the reset above.
    const hit = found as Terminal | undefined
    return hit === undefined ? -1 : hit.index
  }

  const match = (requestMethod: string, path: string): PathMatch | undefined => {
    if (find(requestMethod, path) === -1) return undefined
    const t = found as Terminal
    const params: Record<string, string> = {}
    if (t.names !== undefined) {
      // segmentEnd() measured every parameter segment of this match during the lookup. Case
      // folding can change the length of non-ASCII text, so values come from the original path
      // only while positions still line up.
      const source = subject.length === path.length ? path : subject
      for (let d = 0; d < t.names.length; d++) {
        const name = t.names[d]
        if (name !== undefined) params[name] = source.slice(starts[d], stops[d])
      }
    }
    subject = ''
    return { index: t.index, pattern: t.pattern, params }
  }

  return {
    find: (requestMethod, path) => {
      const index = find(requestMethod, path)
      subject = ''
      return index
    },
    match,
  }
}
