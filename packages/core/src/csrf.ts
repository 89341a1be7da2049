import type { AuthRequest } from './decision.js'
import { type Failure, failure } from './deny-codes.js'
import { type OriginPolicy, originFlaw, parseOrigin, showValue } from './origin-policy.js'
import type { TraceSink } from './trace.js'

/** Judges whether a request authenticated by a cookie may have been forged by another site. */
export interface CsrfGuard {
  /**
   * Passes safe methods; for unsafe ones, requires an allowed (or same-host) `Origin`, or, without
   * `Origin`, `Sec-Fetch-Site: same-origin` or `none`. Never throws.
   */
  check(req: AuthRequest, trace?: TraceSink): { ok: true } | Failure
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

// ASCII letters only: `toUpperCase` maps 'ı' to 'I' and 'ſ' to 'S', which would make 'optıons' safe.
const ASCII_LETTERS = /^[A-Za-z]{1,7}$/

/** Whether `method` is GET, HEAD, OPTIONS or TRACE, in any letter case: methods that must not change state. */
export function isSafeMethod(method: string): boolean {
  return typeof method === 'string' && ASCII_LETTERS.test(method) && SAFE_METHODS.has(method.toUpperCase())
}

/** A header as the guard reads it: absent, exactly one value, or something that is not one value. */
type Header = { kind: 'absent' } | { kind: 'one'; value: string } | { kind: 'many'; count: number } | { kind: 'invalid' }

const ABSENT: Header = { kind: 'absent' }

function readHeader(value: unknown): Header {
  if (value === undefined) return ABSENT
  if (Array.isArray(value)) {
    if (value.length === 0) return { kind: 'invalid' }
    if (value.length > 1) return { kind: 'many', count: value.length }
    value = value[0]
  }
  if (typeof value !== 'string') return { kind: 'invalid' }
  // Node joins repeated Origin and Sec-Fetch-Site headers with ", "; neither ever holds a comma.
  if (value.includes(',')) return { kind: 'many', count: value.split(',').length }
  return { kind: 'one', value }
}

/** The request's authority, normalised: host lower-case/punycode, default ports (80, 443) as `''`. */
type Authority = { host: string; port: string }

/** Port `''`, `80` and `443` are all "the default": the request's own scheme is unknown (TLS often ends at a proxy). */
function normalisePort(port: string): string {
  return port === '80' || port === '443' ? '' : port
}

/** An Origin already parsed, with the raw text after its `://`. */
type Known = { raw: string; value: Authority }

function parseAuthority(raw: string, known: Known): Authority | undefined {
  // The usual same-origin request repeats the Host verbatim in its Origin: reuse that parse.
  if (raw === known.raw) return known.value
  // parseOrigin refuses paths, userinfo, commas, whitespace and trailing dots for us.
  const parts = raw === '' ? undefined : parseOrigin(`http://${raw}`)
  return parts === undefined ? undefined : { host: parts.host, port: normalisePort(parts.port) }
}

const OK: { ok: true } = Object.freeze({ ok: true as const })

const FIX_ORIGIN = 'add the origin to origins.allow if it is one of your front-ends, or send the request from the same origin'
const FIX_NO_ORIGIN = 'browsers send Origin or Sec-Fetch-Site with every unsafe request; a non-browser client should authenticate with an Authorization: Bearer header instead of cookies'

function reject(reason: string, hint: string, seen: Record<string, string>, trace: TraceSink): Failure {
  trace?.({ step: 'csrf', outcome: 'fail', detail: hint, data: { reason, ...seen } })
  return failure('csrf_rejected', hint, { reason, ...seen })
}

/**
 * Creates the CSRF guard applied to requests that a cookie authenticated (a session cookie, or a
 * JWT read from a cookie). Bearer headers need no guard: a browser never attaches them on its own.
 *
 * For unsafe methods (anything but GET, HEAD, OPTIONS and TRACE):
 * - with an `Origin`: when `policy` has an allow-list, the policy must allow it, and `Host` is
 *   never consulted; without one, its host and port must equal the request's `Host` (scheme
 *   ignored, default ports normalised). `Origin: null` is always refused.
 * - without an `Origin`: `Sec-Fetch-Site` must be `same-origin` or `none` (typed into the address
 *   bar). `same-site` is refused: a sibling subdomain is another site's code.
 * - a repeated `Origin` or `Sec-Fetch-Site` is refused.
 *
 * Refusals are `failure('csrf_rejected', hint)` with the values seen and the fix.
 */
export function createCsrfGuard(policy: OriginPolicy | undefined): CsrfGuard {
  const allowList = policy !== undefined && (policy.hasAllowList || policy.allowsAny) ? policy : undefined

  function checkOrigin(origin: string, headers: AuthRequest['headers'], trace: TraceSink): { ok: true } | Failure {
    if (origin === 'null') {
      return reject('origin_null', `Origin 'null' on an unsafe request with cookie credentials: sandboxed iframes, file: pages and some redirects send it, so any site can; ${FIX_ORIGIN}`, { origin: 'null' }, trace)
    }
    if (allowList) {
      const result = allowList.check(origin)
      if (result.ok) {
        trace?.({ step: 'csrf', outcome: 'pass', detail: `Origin '${showValue(origin)}' is allowed by origins.allow` })
        return OK
      }
      return reject('origin_not_allowed', `unsafe request with cookie credentials refused: ${result.hint}`, { origin: showValue(origin) }, trace)
    }
    const parts = parseOrigin(origin)
    if (parts === undefined || (parts.scheme !== 'http' && parts.scheme !== 'https')) {
      const flaw = originFlaw(origin) ?? 'is not an http(s) origin'
      return reject('origin_malformed', `Origin '${showValue(origin)}' ${flaw}; ${FIX_ORIGIN}`, { origin: showValue(origin) }, trace)
    }
    const known = { raw: origin.slice(origin.indexOf('://') + 3), value: { host: parts.host, port: normalisePort(parts.port) } }
    const authority = requestAuthority(headers, known)
    if (!authority.ok) {
      return reject(authority.reason, `${authority.hint}, so Origin '${showValue(origin)}' cannot be compared with it; configure origins.allow with your front-end origins`, { origin: showValue(origin) }, trace)
    }
    if (known.value.host !== authority.value.host || known.value.port !== authority.value.port) {
      const host = `${authority.value.host}${authority.value.port ? `:${authority.value.port}` : ''}`
      return reject('origin_host_mismatch', `Origin '${showValue(origin)}' is not the request's host '${host}' and no origins.allow is configured; ${FIX_ORIGIN}`, { origin: showValue(origin), host }, trace)
    }
    trace?.({ step: 'csrf', outcome: 'pass', detail: `Origin '${showValue(origin)}' has the request's host (no origins.allow configured)` })
    return OK
  }

  return {
    check(req: AuthRequest, trace?: TraceSink): { ok: true } | Failure {
      const method = req?.method
      if (isSafeMethod(method)) {
        trace?.({ step: 'csrf', outcome: 'skip', detail: `${method} is a safe method` })
        return OK
      }
      const headers: AuthRequest['headers'] = req?.headers ?? {}
      const origin = readHeader(headers.origin)
      const site = readHeader(headers['sec-fetch-site'])
      if (origin.kind === 'many') {
        return reject('origin_duplicate', `unsafe request with cookie credentials carries ${origin.count} Origin values: a request has exactly one Origin, and a proxy could read another one than gatehouse does; send one Origin header`, {}, trace)
      }
      if (origin.kind === 'invalid') return reject('origin_malformed', 'unsafe request with cookie credentials carries an Origin header that is not one string; send one Origin header', {}, trace)
      if (site.kind === 'many') {
        return reject('site_duplicate', `unsafe request with cookie credentials carries ${site.count} Sec-Fetch-Site values; send one Sec-Fetch-Site header`, {}, trace)
      }
      if (site.kind === 'invalid') return reject('site_unknown', 'unsafe request with cookie credentials carries a Sec-Fetch-Site header that is not one string; send one Sec-Fetch-Site header', {}, trace)
      if (origin.kind === 'one') return checkOrigin(origin.value, headers, trace)
      if (site.kind === 'absent') {
        const shown = typeof method === 'string' ? showValue(method, 16) : '(non-string method)'
        return reject('no_origin', `unsafe ${shown} request with cookie credentials has neither Origin nor Sec-Fetch-Site, so its source is unknown; ${FIX_NO_ORIGIN}`, {}, trace)
      }
      const value = site.value
      if (value === 'same-origin' || value === 'none') {
        trace?.({ step: 'csrf', outcome: 'pass', detail: `no Origin; Sec-Fetch-Site is '${value}'` })
        return OK
      }
      const shown = showValue(value, 40)
      if (value === 'same-site') {
        return reject('same_site', `no Origin and Sec-Fetch-Site 'same-site': the request came from another origin of the same site (a sibling subdomain), which is not same-origin; ${FIX_ORIGIN}`, { secFetchSite: shown }, trace)
      }
      const what = value === 'cross-site' ? "Sec-Fetch-Site 'cross-site': another site sent the request" : `Sec-Fetch-Site '${shown}', which is not a known value`
      return reject(value === 'cross-site' ? 'cross_site' : 'site_unknown', `no Origin and ${what}; ${FIX_ORIGIN}`, { secFetchSite: shown }, trace)
    },
  }
}

/**
 * The request's `Host` (or HTTP/2 `:authority`), normalised. Both present and different, repeated,
 * missing or malformed: refused, because the same-host comparison would then compare with a guess.
 */
function requestAuthority(headers: AuthRequest['headers'], known: Known): { ok: true; value: Authority } | { ok: false; reason: string; hint: string } {
  const host = readHeader(headers.host)
  const h2 = readHeader(headers[':authority'])
  if (host.kind === 'many' || h2.kind === 'many') return { ok: false, reason: 'host_duplicate', hint: 'the request carries more than one Host value' }
  if (host.kind === 'invalid' || h2.kind === 'invalid') return { ok: false, reason: 'host_malformed', hint: 'the request\'s Host is not one string' }
  if (host.kind === 'absent' && h2.kind === 'absent') return { ok: false, reason: 'host_missing', hint: 'the request has no Host header' }
  const a = host.kind === 'one' ? parseAuthority(host.value, known) : undefined
  const b = h2.kind === 'one' ? parseAuthority(h2.value, known) : undefined
  if ((host.kind === 'one' && a === undefined) || (h2.kind === 'one' && b === undefined)) {
    const raw = host.kind === 'one' && a === undefined ? host.value : h2.kind === 'one' ? h2.value : ''
    return { ok: false, reason: 'host_malformed', hint: `the request's Host '${showValue(raw, 80)}' is not a valid host[:port]` }
  }
  if (a && b && (a.host !== b.host || a.port !== b.port)) return { ok: false, reason: 'host_mismatch', hint: 'the request\'s Host and :authority disagree' }
  const value = a ?? b
  if (value === undefined) return { ok: false, reason: 'host_missing', hint: 'the request has no Host header' }
  return { ok: true, value }
}
