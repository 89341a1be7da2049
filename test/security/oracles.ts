/**
 * Independent judgements the property tests hold gatehouse's decisions against. They are written
 * from the contract (DESIGN.md), not from gatehouse's code, so a shared bug cannot make both agree.
 */
import { expect } from 'vitest'
import { type Decision, DENY_MESSAGES, DENY_STATUS, parseRequestTarget } from '@gatehouse/core'
import { PUBLIC_PREFIXES } from './policy.js'

/**
 * The shape every decision must have: an allow with a principal unless public, or a deny whose
 * status, message and `WWW-Authenticate` follow from its code alone.
 */
export function expectWellFormed(decision: Decision, context: string): void {
  expect(typeof decision, context).toBe('object')
  if (decision.ok) {
    expect(['public', 'bearer', 'session'], context).toContain(decision.via)
    expect(decision.principal === null, context).toBe(decision.via === 'public')
    expect(typeof decision.headers, context).toBe('object')
    if (decision.protocol !== undefined) expect(decision.protocol.startsWith('gatehouse.bearer.'), context).toBe(false)
    return
  }
  expect([401, 403, 503], context).toContain(decision.status)
  expect(decision.status, `${context}: status of ${decision.code}`).toBe(DENY_STATUS[decision.code])
  expect(decision.message, context).toBe(DENY_MESSAGES[decision.code])
  expect(typeof decision.hint, context).toBe('string')
  const challenge = decision.headers['www-authenticate']
  if (decision.status === 401 || decision.code === 'insufficient_scope') expect(challenge, context).toMatch(/^Bearer realm="[^"]*"/)
  else expect(challenge, context).toBeUndefined()
}

// C0 and C1 controls and the Unicode line separators: what can forge or hide a log line.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const LOG_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/** Hints go to logs: a client-sent CR, LF, ESC or NEL in one could forge or hide log lines. */
export function expectLogSafe(decision: Decision, context: string): void {
  if (decision.ok) return
  expect(LOG_UNSAFE.test(decision.hint ?? ''), `${context}: control character in hint ${JSON.stringify(decision.hint).slice(0, 400)}`).toBe(false)
}

/**
 * Whether `(method, url)` may be let in by a public entry: the path is canonical and lies under
 * one of the public prefixes, exactly as written (public rules are case-sensitive), with an
 * allowed method.
 */
export function mayBePublic(method: string, url: string): boolean {
  const target = parseRequestTarget(url)
  if (!target.canonical) return false
  const m = method.toUpperCase()
  return PUBLIC_PREFIXES.some(({ prefix, methods }) => {
    const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
    const under = target.path === base || target.path === `${base}/` || target.path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)
    return under && (methods === undefined || methods.includes(m))
  })
}

/** A CORS preflight, which DESIGN.md makes public for every path. */
export function isPreflight(method: string, headers: Record<string, unknown>, upgrade: boolean): boolean {
  return !upgrade && method === 'OPTIONS' && headers['access-control-request-method'] !== undefined
}

function hexValue(c: string): number {
  return Number.parseInt(c, 16)
}

/**
 * Percent-decodes once, the way a lenient server may: valid UTF-8 sequences, and also the
 * overlong two-byte forms (`%C0%AE` → `.`) that old servers decode.
 */
function decodeOnce(path: string): string {
  const bytes: number[] = []
  for (let i = 0; i < path.length; i++) {
    const c = path[i] as string
    if (c === '%' && /^[0-9a-fA-F]{2}$/.test(path.slice(i + 1, i + 3))) {
      bytes.push(hexValue(path.slice(i + 1, i + 3)))
      i += 2
    } else {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b)
    }
  }
  let out = ''
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number
    const next = bytes[i + 1]
    if ((b === 0xc0 || b === 0xc1) && next !== undefined && next >= 0x80 && next <= 0xbf) {
      out += String.fromCharCode(((b & 0x1f) << 6) | (next & 0x3f))
      i++
    } else {
      out += String.fromCharCode(b)
    }
  }
  return out
}

/** Resolves dot segments, drops empty segments and `;` parameters, reads `\` as `/`. */
function resolveSegments(path: string): string {
  const out: string[] = []
  for (const raw of path.replace(/\\/g, '/').split('/')) {
    const segment = raw.split(';', 1)[0] as string
    if (segment === '' || segment === '.') continue
    if (segment === '..') out.pop()
    else out.push(segment)
  }
  return `/${out.join('/')}`
}

/**
 * Every path a router, proxy or file server could reasonably take `url` to mean: as sent, with
 * an absolute-form prefix dropped, percent-decoded once (overlong dots included), with dot
 * segments resolved, `;` parameters dropped and backslashes read as slashes, all lower-cased.
 */
export function readings(url: string): string[] {
  let path = url.split('?', 1)[0] as string
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*/.exec(path)
  if (absolute) path = path.slice(absolute[0].length) || '/'
  const forms = new Set<string>()
  for (const p of [path, decodeOnce(path)]) {
    forms.add(p.toLowerCase())
    forms.add(resolveSegments(p).toLowerCase())
  }
  return [...forms]
}

/** Whether any reading of `url` lies at or below `prefix` (lower case, no trailing slash). */
export function mayReach(url: string, prefix: string): boolean {
  return readings(url).some((p) => p === prefix || p === `${prefix}/` || p.startsWith(`${prefix}/`))
}

const ORIGIN_PATTERNS = [/^https:\/\/app\.example\.com$/, /^https:\/\/([a-z0-9-]+\.)+example\.com$/, /^http:\/\/localhost(:\d+)?$/]

/**
 * Whether an `Origin` value is allowed by the suite's allow-list, judged on the WHATWG
 * serialisation of the value (so `HTTPS://App.Example.com:443` counts as the origin it is).
 */
export function originAllowed(value: unknown): boolean {
  if (typeof value !== 'string') return false
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return false
  }
  if (url.origin === 'null') return false
  return ORIGIN_PATTERNS.some((p) => p.test(url.origin))
}

/** Whether a cookie-authenticated unsafe request may pass the CSRF rule (DESIGN.md, CSRF). */
export function csrfMayPass(headers: Record<string, unknown>): boolean {
  const origin = headers.origin
  if (origin !== undefined) return originAllowed(Array.isArray(origin) && origin.length === 1 ? origin[0] : origin)
  const site = headers['sec-fetch-site']
  return site === 'same-origin' || site === 'none'
}

/** Whether `method` is safe (GET, HEAD, OPTIONS, TRACE), ASCII letters in any case. */
export function isSafe(method: string): boolean {
  return /^[A-Za-z]+$/.test(method) && ['GET', 'HEAD', 'OPTIONS', 'TRACE'].includes(method.toUpperCase())
}
