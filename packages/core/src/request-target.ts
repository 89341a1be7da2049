/**
 * The longest request path, in bytes, that a public rule may match. Longer paths are never
 * canonical: legitimate routes are far shorter, and a cap keeps every later step cheap.
 */
export const MAX_PATH_BYTES = 4096

/** A request-target split into its path and query, with a verdict on whether the path is canonical. */
export interface RequestTarget {
  /** The raw path: everything before the first `?`, exactly as received (not decoded). */
  path: string
  /** The raw query without the leading `?` (empty when there is none). */
  query: string
  /**
   * `true` when the path is in the one spelling every router agrees on, so matching it narrowly
   * is safe. Public rules only ever match canonical paths.
   */
  canonical: boolean
  /** Why the target is not canonical, e.g. `contains a '..' segment (percent-encoded)`. */
  reason?: string
}

/**
 * Splits a raw request-target (`req.url`) into path and query and decides whether the path is
 * canonical.
 *
 * A path is canonical when it starts with `/`, is at most {@link MAX_PATH_BYTES} long, and holds
 * none of the spellings that routers, proxies and file servers disagree about:
 * `.`/`..` segments (raw or percent-encoded, in any case or mix), empty segments (`//`), a
 * backslash or `%5C`, an encoded slash `%2F`, `;` path parameters or `%3B`, `#`, whitespace, raw
 * or encoded control characters (`%00`, `%0D`, `%0A`, …), double encoding (`%25`), a `%` not
 * followed by two hex digits, percent-encoded bytes that are not valid UTF-8 (overlong forms such
 * as `%C0%AE` included), and raw non-ASCII characters. Absolute-form (`http://host/x`),
 * authority-form and asterisk-form (`*`) targets are not canonical either. The query may not hold
 * raw whitespace, control characters or `#`.
 *
 * Runs in one pass, linear in the length of the target, and never throws.
 */
export function parseRequestTarget(url: string): RequestTarget {
  if (typeof url !== 'string') return { path: '', query: '', canonical: false, reason: 'is not a string' }
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  const query = q === -1 ? '' : url.slice(q + 1)
  const reason = pathProblem(path) ?? (q === -1 ? undefined : queryProblem(query))
  return reason === undefined ? { path, query, canonical: true } : { path, query, canonical: false, reason }
}

// Character classes of the one-pass scanner, indexed by char code (ASCII only).
const OK = 0
const SLASH = 1
const PERCENT = 2
const DOT = 3
const BACKSLASH = 4
const SEMICOLON = 5
const HASH = 6
const CONTROL = 7
const SPACE = 8
const QUESTION = 9

const CLASS = new Uint8Array(128)
for (let c = 0; c < 0x20; c++) CLASS[c] = CONTROL
CLASS[0x7f] = CONTROL
CLASS[0x20] = SPACE
CLASS[0x2f] = SLASH
CLASS[0x25] = PERCENT
CLASS[0x2e] = DOT
CLASS[0x5c] = BACKSLASH
CLASS[0x3b] = SEMICOLON
CLASS[0x23] = HASH
CLASS[0x3f] = QUESTION

/** The value of a hex digit, or -1. */
function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  const l = c | 0x20
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10
  return -1
}

/** Two-digit upper-case hex, for reasons such as `(%0D)`. */
function byteName(b: number): string {
  return `%${b.toString(16).toUpperCase().padStart(2, '0')}`
}

/**
 * Why `path` is not canonical, or `undefined` when it is. Shared by {@link parseRequestTarget}
 * and the pattern checks, so a pattern can only contain what a canonical path can.
 */
export function pathProblem(path: string): string | undefined {
  const n = path.length
  if (n === 0) return 'is empty'
  // A string longer than the cap in UTF-16 units is longer in bytes too; a shorter one with
  // non-ASCII characters is refused below, so counting units is exact for every canonical path.
  if (n > MAX_PATH_BYTES) return `is longer than ${MAX_PATH_BYTES} bytes`
  if (path.charCodeAt(0) !== 0x2f) return formProblem(path)

  // Per segment: its decoded length, whether every decoded character is a dot, and whether one
  // of those dots was percent-encoded (for the reason).
  let segLength = 0
  let segDots = true
  let segEncodedDot = false
  // UTF-8 state of consecutive percent-encoded bytes: continuation bytes still expected, and the
  // range the next one must fall in (narrowed after E0/F0 to refuse overlong forms, after ED/F4
  // to refuse surrogates and code points past U+10FFFF).
  let need = 0
  let lower = 0x80
  let upper = 0xbf

  for (let i = 1; i < n; i++) {
    const c = path.charCodeAt(i)
    if (c >= 0x80) return 'contains a raw non-ASCII character (send it percent-encoded)'
    const cls = CLASS[c]
    if (cls === PERCENT) {
      const h1 = i + 1 < n ? hex(path.charCodeAt(i + 1)) : -1
      const h2 = i + 2 < n ? hex(path.charCodeAt(i + 2)) : -1
      if (h1 < 0 || h2 < 0) return "contains an invalid percent-encoding ('%' not followed by two hex digits)"
      const b = h1 * 16 + h2
      i += 2
      segLength++
      if (need > 0) {
        if (b < lower || b > upper) return utf8Reason(b < lower && lower > 0x80)
        need--
        lower = 0x80
        upper = 0xbf
        segDots = false
        continue
      }
      if (b >= 0x80) {
        if (b >= 0xc2 && b <= 0xdf) need = 1
        else if (b === 0xe0) { need = 2; lower = 0xa0 }
        else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) need = 2
        else if (b === 0xed) { need = 2; upper = 0x9f }
        else if (b === 0xf0) { need = 3; lower = 0x90 }
        else if (b >= 0xf1 && b <= 0xf3) need = 3
        else if (b === 0xf4) { need = 3; upper = 0x8f }
        else return utf8Reason(b === 0xc0 || b === 0xc1)
        segDots = false
        continue
      }
      const encoded = encodedAsciiProblem(b)
      if (encoded !== undefined) return encoded
      if (b === 0x2e) segEncodedDot = true
      else segDots = false
      continue
    }
    if (need > 0) return utf8Reason(false)
    switch (cls) {
      case OK:
        segLength++
        segDots = false
        continue
      case DOT:
        segLength++
        continue
      case SLASH: {
        const problem = segmentProblem(segLength, segDots, segEncodedDot, false)
        if (problem !== undefined) return problem
        segLength = 0
        segDots = true
        segEncodedDot = false
        continue
      }
      case BACKSLASH:
        return 'contains a backslash'
      case SEMICOLON:
        return "contains a ';' (path parameters)"
      case HASH:
        return "contains '#' (a fragment is never sent in a request)"
      case SPACE:
        return 'contains whitespace'
      case QUESTION:
        return "contains '?'"
      default:
        return `contains a control character (${byteName(c)})`
    }
  }
  if (need > 0) return utf8Reason(false)
  return segmentProblem(segLength, segDots, segEncodedDot, true)
}

function utf8Reason(overlong: boolean): string {
  return overlong ? 'contains an overlong UTF-8 percent-encoding' : 'contains a percent-encoding that is not valid UTF-8'
}

/** A segment is done: refuse `.`, `..` and empty segments (a trailing empty one is a trailing slash). */
function segmentProblem(length: number, dots: boolean, encoded: boolean, last: boolean): string | undefined {
  if (length === 0) return last ? undefined : "contains an empty segment ('//')"
  if (!dots || length > 2) return undefined
  const how = encoded ? ' (percent-encoded)' : ''
  return length === 1 ? `contains a '.' segment${how}` : `contains a '..' segment${how}`
}

/** Percent-encoded ASCII bytes that change how a path is split or read. */
function encodedAsciiProblem(b: number): string | undefined {
  if (b < 0x20 || b === 0x7f) return `contains a percent-encoded control character (${byteName(b)})`
  switch (b) {
    case 0x2f: return "contains a percent-encoded '/' (%2F)"
    case 0x5c: return 'contains a percent-encoded backslash (%5C)'
    case 0x25: return "contains a double encoding ('%25')"
    case 0x3b: return "contains a percent-encoded ';' (%3B)"
    default: return undefined
  }
}

/** Why a target that does not start with `/` is not a path. */
function formProblem(target: string): string {
  if (target === '*') return "is the asterisk form '*'"
  if (schemeEnd(target) !== -1) return 'is in absolute form (scheme://host/…), not a path'
  return "does not start with '/'"
}

/**
 * The index just after `scheme://` when `target` starts with one (absolute-form), else -1.
 * Scans at most the scheme, so it stays cheap on any input.
 */
export function schemeEnd(target: string): number {
  const n = Math.min(target.length, 64)
  for (let i = 0; i < n; i++) {
    const c = target.charCodeAt(i)
    const letter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a
    if (i === 0) {
      if (!letter) return -1
      continue
    }
    if (letter || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) continue
    if (c === 0x3a && target.charCodeAt(i + 1) === 0x2f && target.charCodeAt(i + 2) === 0x2f) return i + 3
    return -1
  }
  return -1
}

function queryProblem(query: string): string | undefined {
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i)
    if (c === 0x20) return 'query contains whitespace'
    if (c < 0x20 || c === 0x7f) return `query contains a control character (${byteName(c)})`
    if (c === 0x23) return "query contains '#' (a fragment is never sent in a request)"
  }
  return undefined
}

/** The byte of a valid `%HH` at `i`, or -1. */
function byteAt(s: string, i: number): number {
  if (i + 2 >= s.length || s.charCodeAt(i) !== 0x25) return -1
  const h1 = hex(s.charCodeAt(i + 1))
  const h2 = hex(s.charCodeAt(i + 2))
  return h1 < 0 || h2 < 0 ? -1 : h1 * 16 + h2
}

/**
 * Percent-decodes `s` once. Sequences that are not `%HH`, or whose bytes are not UTF-8, stay as
 * they are. Overlong UTF-8 forms decode to the character they spell (`%C0%AE` → `.`), because
 * some servers read them that way and broad matching must see what any of them could see.
 */
export function percentDecode(s: string): string {
  let i = s.indexOf('%')
  if (i === -1) return s
  const n = s.length
  let out = s.slice(0, i)
  while (i < n) {
    if (s.charCodeAt(i) !== 0x25) {
      const next = s.indexOf('%', i)
      const stop = next === -1 ? n : next
      out += s.slice(i, stop)
      i = stop
      continue
    }
    const b = byteAt(s, i)
    if (b < 0) {
      out += '%'
      i++
      continue
    }
    if (b < 0x80) {
      out += String.fromCharCode(b)
      i += 3
      continue
    }
    let length = 0
    let cp = 0
    if (b >= 0xc0 && b <= 0xdf) { length = 2; cp = b & 0x1f }
    else if (b >= 0xe0 && b <= 0xef) { length = 3; cp = b & 0x0f }
    else if (b >= 0xf0 && b <= 0xf7) { length = 4; cp = b & 0x07 }
    let ok = length > 0
    for (let k = 1; ok && k < length; k++) {
      const next = byteAt(s, i + 3 * k)
      if (next < 0x80 || next > 0xbf) ok = false
      else cp = (cp << 6) | (next & 0x3f)
    }
    if (!ok || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      out += s.slice(i, i + 3)
      i += 3
      continue
    }
    out += String.fromCodePoint(cp)
    i += 3 * length
  }
  return out
}

/** How {@link normalizePath} reads a path: which of a lenient router's habits to imitate. */
export interface NormalizeOptions {
  /** Percent-decode once before splitting (default `true`). */
  decode?: boolean
  /** Remove `.` segments and resolve `..` (never above the root) (default `true`). */
  resolveDots?: boolean
}

/**
 * The path a lenient router or proxy could route `path` to, for broad (protective) matching:
 * the path of an absolute-form target, percent-decoded once (unless `decode: false`), with
 * backslashes read as `/`, `;…` path parameters dropped from each segment, empty segments
 * removed, and `.`/`..` resolved (unless `resolveDots: false`). Routers differ in which of these
 * they do (Fastify's `ignoreDuplicateSlashes` folds `//` but neither decodes nor resolves
 * `%2e%2e`), so protective rules are matched against every combination. The result starts with
 * `/` and has no trailing slash. Linear in the length of `path`; never throws.
 */
export function normalizePath(path: string, options?: NormalizeOptions): string {
  let p = path
  const abs = schemeEnd(p)
  if (abs !== -1) {
    const slash = p.indexOf('/', abs)
    p = slash === -1 ? '/' : p.slice(slash)
  }
  if (options?.decode !== false) p = percentDecode(p)
  const resolveDots = options?.resolveDots !== false
  const out: string[] = []
  const n = p.length
  let start = 0
  let semicolon = -1
  for (let i = 0; i <= n; i++) {
    const c = i < n ? p.charCodeAt(i) : 0x2f
    if (c === 0x3b) {
      if (semicolon === -1) semicolon = i
      continue
    }
    if (c !== 0x2f && c !== 0x5c) continue
    const end = semicolon === -1 ? i : semicolon
    if (end > start) {
      const segment = p.slice(start, end)
      if (resolveDots && segment === '..') out.pop()
      else if (!resolveDots || segment !== '.') out.push(segment)
    }
    start = i + 1
    semicolon = -1
  }
  return `/${out.join('/')}`
}
