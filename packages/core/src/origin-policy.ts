import { z } from 'zod'
import { GatehouseConfigError } from './config-error.js'
import { parseOptions } from './options-parse.js'

/** The `origins` option: which browser origins may talk to this service. */
export interface OriginsOptions {
  /**
   * Allowed origins. Each entry is one of:
   * - an exact origin, `'https://app.example.com'` (compared after WHATWG serialisation, so
   *   `'HTTPS://App.Example.com:443'` is the same origin);
   * - a subdomain wildcard, `'https://*.example.com'`: one or more labels in front of
   *   `example.com`, never `example.com` itself;
   * - a port wildcard, `'http://localhost:*'`: any port, the default port included;
   * - `'null'`: the opaque origin sent by sandboxed iframes and `file:` pages (discouraged; a
   *   warning is logged at start-up);
   * - `'*'` alone: every well-formed origin. A configuration error while cookies carry credentials.
   *
   * Omitted or empty: no origin is allowed, and every request that carries an `Origin` fails
   * {@link OriginPolicy.check}. There is no same-origin default based on `Host`, because DNS
   * rebinding lets any site present a `Host` of its choosing.
   */
  allow?: string[]
  /**
   * Whether a request without an `Origin` header passes. Default `true`: non-browser clients
   * (curl, servers, mobile apps) send no `Origin`, and they are not what the policy guards against.
   */
  allowMissing?: boolean
}

/** The verdict of {@link OriginPolicy.check}. */
export type OriginResult = { ok: true } | { ok: false; code: 'origin_rejected'; hint: string }

/** A compiled origin allow-list. */
export interface OriginPolicy {
  /**
   * Judges the value of an `Origin` header: `undefined` when absent, an array when the framework
   * saw the header more than once (which is refused). Never throws, whatever the value.
   */
  check(origin: string | string[] | undefined): OriginResult
  /** `true` when `allow` is `['*']`. */
  readonly allowsAny: boolean
  /** `true` when `allow` lists at least one entry (`['*']` included). */
  readonly hasAllowList: boolean
}

/** Start-up context of {@link createOriginPolicy}. */
export interface OriginPolicyContext {
  /** Whether cookies carry credentials (a session, or a JWT read from a cookie): forbids `'*'`. */
  cookieCredentials?: boolean
  /** Receives start-up warnings; defaults to `console.warn`. */
  warn?: (message: string) => void
}

/** Origins longer than this are refused before any parsing. */
export const MAX_ORIGIN_LENGTH = 2048

/** What is wrong with an origin string, before or after WHATWG parsing. */
type Flaw =
  | 'empty'
  | 'too_long'
  | 'whitespace'
  | 'comma'
  | 'no_scheme'
  | 'bad_scheme'
  | 'no_host'
  | 'trailing_slash'
  | 'path'
  | 'query'
  | 'fragment'
  | 'userinfo'
  | 'empty_port'
  | 'trailing_dot'
  | 'empty_label'
  | 'bad_host'
  | 'malformed'

/** An origin split into its serialised parts (scheme without `:`, host lower-case/punycode, port `''` when default). */
export interface OriginParts {
  scheme: string
  host: string
  port: string
  /** `scheme://host[:port]`, the WHATWG serialisation. */
  serialized: string
}

// Unicode whitespace, control and format characters (bidi overrides, zero-width joiners, BOM):
// browsers send ASCII origins, and invisible characters only serve to make two origins look alike.
const INVISIBLE = /[\s\p{Cc}\p{Cf}]/u
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/
// A host after WHATWG parsing of a special scheme: punycode labels only. WHATWG lets through
// characters such as `*`, `,`, `!` or `$`; no registrable name contains them.
const DOMAIN_HOST = /^[a-z0-9_.-]+$/
/** Schemes whose hosts WHATWG parses as domains or IP addresses (`file` aside: it has no port). */
const SPECIAL = new Set(['http', 'https', 'ws', 'wss', 'ftp'])
const WEB = new Set(['http', 'https'])
/** A pattern that forgot its scheme, such as `app.example.com` or `*.example.com:8443`. */
const HOST_WITHOUT_SCHEME = /^[\w*.-]+(:(\d+|\*))?$/

/**
 * Parses `scheme://host[:port]` strictly: no path, no trailing slash, query, fragment, userinfo,
 * whitespace, comma, trailing dot or empty label. Returns the WHATWG-serialised parts, or the flaw.
 * Never throws.
 */
function splitOrigin(value: string): OriginParts | Flaw {
  if (value.length === 0) return 'empty'
  if (value.length > MAX_ORIGIN_LENGTH) return 'too_long'
  // Node joins repeated headers with ", ": a comma means the client sent more than one Origin.
  if (value.includes(',')) return 'comma'
  if (INVISIBLE.test(value)) return 'whitespace'
  const sep = value.indexOf('://')
  if (sep === -1) return 'no_scheme'
  if (!SCHEME.test(value.slice(0, sep))) return 'bad_scheme'
  const rest = value.slice(sep + 3)
  if (rest === '') return 'no_host'
  const flaw = authorityFlaw(rest)
  if (flaw) return flaw
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'malformed'
  }
  // The checks above already exclude these; they guard against a parser that reads more into the string.
  if (url.username || url.password || url.search || url.hash) return 'malformed'
  const scheme = url.protocol.slice(0, -1)
  const host = url.hostname
  if (host === '') return 'no_host'
  if (SPECIAL.has(scheme)) {
    // Percent-escapes and full-width dots are decoded by the parser, so these run on its output.
    if (host.endsWith('.')) return 'trailing_dot'
    if (host.startsWith('.') || host.includes('..')) return 'empty_label'
    if (!host.startsWith('[') && !DOMAIN_HOST.test(host)) return 'bad_host'
  }
  return { scheme, host, port: url.port, serialized: `${scheme}://${url.host}` }
}

/** Flaws visible in the part after `://` without parsing it. */
function authorityFlaw(rest: string): Flaw | undefined {
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i)
    // WHATWG reads `\` as `/` in special schemes, so both start a path.
    if (c === 0x2f /* / */ || c === 0x5c /* \ */) return c === 0x2f && i === rest.length - 1 ? 'trailing_slash' : 'path'
    if (c === 0x3f /* ? */) return 'query'
    if (c === 0x23 /* # */) return 'fragment'
    if (c === 0x40 /* @ */) return 'userinfo'
  }
  return rest.endsWith(':') ? 'empty_port' : undefined
}

/**
 * Parses a presented origin strictly (see {@link OriginsOptions.allow}); `undefined` when it is not
 * a well-formed `scheme://host[:port]`. Shared with the CSRF guard.
 * @internal
 */
export function parseOrigin(value: string): OriginParts | undefined {
  const parts = splitOrigin(value)
  return typeof parts === 'string' ? undefined : parts
}

/** What a presented value's flaw looks like to an operator reading a hint. */
const FLAW_SEEN: Record<Flaw, string> = {
  empty: 'is empty',
  too_long: `is longer than ${MAX_ORIGIN_LENGTH} characters`,
  whitespace: 'contains whitespace, control or invisible characters',
  comma: 'holds more than one value (the Origin header was sent more than once)',
  no_scheme: 'is not an origin (expected scheme://host[:port])',
  bad_scheme: 'has an invalid scheme',
  no_host: 'has no host',
  trailing_slash: 'ends with a slash (an origin has no path)',
  path: 'has a path (an origin is scheme://host[:port] only)',
  query: 'has a query (an origin is scheme://host[:port] only)',
  fragment: 'has a fragment (an origin is scheme://host[:port] only)',
  userinfo: 'has userinfo (an origin is scheme://host[:port] only)',
  empty_port: 'ends with an empty port',
  trailing_dot: 'has a trailing dot after the host',
  empty_label: 'has an empty host label',
  bad_host: 'has characters that are not allowed in a host name',
  malformed: 'is not a valid origin',
}

/** Describes a flawed presented value, for hints shared with the CSRF guard. @internal */
export function originFlaw(value: string): string | undefined {
  const parts = splitOrigin(value)
  return typeof parts === 'string' ? FLAW_SEEN[parts] : undefined
}

// Characters that would let a header value forge log lines or hide its real content; spaces too,
// so that an operator sees exactly which whitespace made a value malformed.
const UNSAFE_FOR_LOGS = /[\p{Cc}\p{Cf}\p{Z}]/gu

/**
 * Renders a client-sent value for a hint: control and invisible characters escaped as `\u{…}`,
 * truncated to `max` characters. @internal
 */
export function showValue(value: string, max = 120): string {
  const head = value.length > max * 2 ? value.slice(0, max * 2) : value
  const escaped = head.replace(UNSAFE_FOR_LOGS, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`)
  return escaped.length > max || head.length < value.length ? `${escaped.slice(0, max)}…` : escaped
}

/** One compiled `allow` entry. */
type Compiled =
  | { kind: 'any' }
  | { kind: 'null' }
  | { kind: 'exact'; serialized: string }
  | { kind: 'host'; scheme: string; host: string; port: string | null; wildcard: boolean }

const EXAMPLE = "'https://app.example.com'"

/** The fix for a pattern's flaw, after the quoted pattern. */
function patternFix(flaw: Flaw, scheme: string, rest: string): string {
  const origin = `'${scheme}://${showValue(rest.split(/[/\\?#]/, 1)[0] ?? '')}'`
  switch (flaw) {
    case 'empty':
    case 'no_host':
      return `has no host: write an origin such as ${EXAMPLE}`
    case 'too_long':
      return `is longer than ${MAX_ORIGIN_LENGTH} characters: write an origin such as ${EXAMPLE}`
    case 'whitespace':
      return 'contains whitespace, control or invisible characters: remove them'
    case 'comma':
      return 'contains a comma: list each origin as its own array entry'
    case 'no_scheme':
    case 'bad_scheme':
      return "has no valid scheme: write 'https://…' or 'http://…'"
    case 'trailing_slash':
      return `has a trailing slash, which browsers never send in Origin: write ${origin}`
    case 'path':
    case 'query':
    case 'fragment':
      return `has a ${flaw}, but an origin is scheme://host[:port] only: write ${origin}`
    case 'userinfo':
      return "contains userinfo ('user@'), but an origin is scheme://host[:port] only: remove it"
    case 'empty_port':
      return "ends with ':' and no port: remove the ':' or add the port"
    case 'trailing_dot':
      return 'has a trailing dot after the host, which never matches what browsers send: remove it'
    case 'empty_label':
      return "has an empty host label ('..' or a leading dot): fix the host name"
    case 'bad_host':
      return "has characters that are not allowed in a host name: use letters, digits, '-' and '.' (Unicode names are converted to punycode for you)"
    case 'malformed':
      return `is not a valid origin: write scheme://host[:port], e.g. ${EXAMPLE}`
  }
}

/** Compiles one `allow` entry, or returns what to change. */
function compilePattern(pattern: string): Compiled | string {
  if (pattern === '*') return { kind: 'any' }
  if (pattern === 'null') return { kind: 'null' }
  const quoted = `'${showValue(pattern)}'`
  if (pattern.length === 0) return `is empty: write an origin such as ${EXAMPLE}`
  if (pattern.toLowerCase() === 'null') return `${quoted}: the opaque origin is written 'null', in lower case`
  if (pattern.includes(',')) return `${quoted} ${patternFix('comma', '', '')}`
  if (INVISIBLE.test(pattern)) return `${quoted} ${patternFix('whitespace', '', '')}`
  const sep = pattern.indexOf('://')
  if (sep === -1) {
    return HOST_WITHOUT_SCHEME.test(pattern)
      ? `${quoted} has no scheme: write 'https://${showValue(pattern)}' (or 'http://…' for plain HTTP)`
      : `${quoted} is not an origin: write scheme://host[:port], e.g. ${EXAMPLE}`
  }
  const scheme = pattern.slice(0, sep)
  const rest = pattern.slice(sep + 3)
  if (scheme.includes('*')) return `${quoted}: the scheme cannot be a wildcard; list each scheme as its own entry, e.g. 'https://${showValue(rest)}' and 'http://${showValue(rest)}'`
  if (!SCHEME.test(scheme)) return `${quoted} ${patternFix('bad_scheme', scheme, rest)}`
  const flaw = authorityFlaw(rest)
  if (flaw) return `${quoted} ${patternFix(flaw, scheme.toLowerCase(), rest)}`

  // Split host and port without parsing, to take the wildcards out before WHATWG sees them.
  const close = rest.startsWith('[') ? rest.indexOf(']') : -1
  const colon = rest.indexOf(':', close === -1 ? 0 : close)
  const hostPart = colon === -1 ? rest : rest.slice(0, colon)
  const portPart = colon === -1 ? '' : rest.slice(colon)
  const anyPort = portPart === ':*'
  if (!anyPort && portPart.includes('*')) return `${quoted}: a port wildcard is written ':*' (any port), e.g. 'http://localhost:*'`
  let wildcard = false
  if (hostPart.includes('*')) {
    if (hostPart === '*') return `${quoted}: a lone '*' host would match every site; write 'https://*.example.com' for subdomains, or use allow: ['*'] alone if any origin may connect`
    if (!hostPart.startsWith('*.') || hostPart.includes('*', 1)) return `${quoted}: the wildcard must be the whole leftmost label, as in 'https://*.example.com' (it stands for one or more labels)`
    wildcard = true
  }
  const lowerScheme = scheme.toLowerCase()
  if ((wildcard || anyPort) && !WEB.has(lowerScheme)) return `${quoted}: wildcards are only supported in http and https origins; list each ${lowerScheme} origin exactly`

  // `x` stands in for the wildcard label so that WHATWG can normalise the rest of the host.
  const concrete = `${scheme}://${wildcard ? `x${hostPart.slice(1)}` : hostPart}${anyPort ? '' : portPart}`
  const parts = splitOrigin(concrete)
  if (typeof parts === 'string') return `${quoted} ${patternFix(parts, lowerScheme, rest)}`
  if (!WEB.has(parts.scheme)) return { kind: 'exact', serialized: parts.serialized }
  if (!wildcard) return anyPort ? { kind: 'host', scheme: parts.scheme, host: parts.host, port: null, wildcard } : { kind: 'exact', serialized: parts.serialized }
  if (!parts.host.startsWith('x.')) return `${quoted}: the wildcard must be followed by a domain name, as in 'https://*.example.com'`
  const suffix = parts.host.slice(2)
  // Without a public-suffix list this cannot catch '*.co.uk', but it catches the obvious mistake.
  if (!suffix.includes('.') && suffix !== 'localhost') return `${quoted} would match every site under '.${suffix}': name your own domain, e.g. 'https://*.example.com'`
  return { kind: 'host', scheme: parts.scheme, host: suffix, port: anyPort ? null : parts.port, wildcard }
}

/**
 * Checks one `origins.allow` entry. Returns `undefined` when it is valid, else a message saying
 * what to change. `'*'` and `'null'` are valid entries (`'*'` only alone, which the schema checks).
 */
export function originPatternProblem(pattern: string): string | undefined {
  if (typeof pattern !== 'string') return `must be an origin string such as ${EXAMPLE}`
  const compiled = compilePattern(pattern)
  return typeof compiled === 'string' ? compiled : undefined
}

const patternSchema = z.string({ error: `must be an origin string such as ${EXAMPLE}` }).superRefine((pattern, ctx) => {
  const problem = originPatternProblem(pattern)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})

/**
 * The zod schema of the `origins` option. Every pattern is validated, with the issue on its own
 * path (`allow[2]`, reported as `origins.allow[2]` under `createAuth`).
 */
export const originsOptionsSchema = z
  .object(
    {
      allow: z.array(patternSchema, { error: `must be an array of origins such as [${EXAMPLE}]` }).optional(),
      allowMissing: z.boolean({ error: 'must be true or false' }).optional(),
    },
    { error: (issue) => (issue.code === 'invalid_type' ? `must be an object such as { allow: [${EXAMPLE}] }` : undefined) },
  )
  .strict()
  .superRefine((options, ctx) => {
    const allow = options.allow ?? []
    if (allow.length < 2) return
    allow.forEach((pattern, i) => {
      if (pattern === '*') ctx.addIssue({ code: 'custom', path: ['allow', i], message: "'*' allows every origin, so it cannot be combined with other entries: use ['*'] alone, or remove it and list the origins" })
    })
  })

const OK: { ok: true } = Object.freeze({ ok: true as const })

/** Keeps hints short when the allow-list is long. */
function summarise(allow: readonly string[]): string {
  const shown: string[] = []
  let length = 0
  for (const pattern of allow) {
    const item = `'${showValue(pattern, 80)}'`
    if (shown.length > 0 && length + item.length > 240) break
    shown.push(item)
    length += item.length + 2
  }
  const more = allow.length - shown.length
  return `[${shown.join(', ')}${more > 0 ? `, … ${more} more` : ''}]`
}

/**
 * Compiles `origins` once into a policy whose `check` judges `Origin` header values.
 *
 * Origins are compared as scheme, host and port after WHATWG serialisation (case, default ports,
 * IDN and IPv4 spellings normalised). Anything but a single well-formed `scheme://host[:port]` is
 * refused: `null` (unless listed), empty values, paths, queries, fragments, userinfo, trailing
 * slashes or dots, whitespace, repeated headers, values over 2048 characters, and non-http(s)
 * schemes that are not listed exactly. Wildcards match on label boundaries only.
 *
 * Bad patterns, and `'*'` while cookies carry credentials, throw {@link GatehouseConfigError}.
 * Listing `'null'` logs a warning through `context.warn` (default `console.warn`).
 *
 * @example
 * ```ts
 * const policy = createOriginPolicy({ allow: ['https://app.example.com', 'https://*.example.com'] })
 * policy.check('https://admin.example.com')   // { ok: true }
 * policy.check('https://example.com')         // { ok: false, code: 'origin_rejected', hint: … }
 * ```
 */
export function createOriginPolicy(options: OriginsOptions, context: OriginPolicyContext = {}): OriginPolicy {
  const parsed = parseOptions(originsOptionsSchema, options, 'origin policy', 'origins')
  const allow = parsed.allow ?? []
  const allowMissing = parsed.allowMissing ?? true
  const allowsAny = allow.length === 1 && allow[0] === '*'
  if (allowsAny && context.cookieCredentials) {
    throw new GatehouseConfigError(
      [{ path: 'origins.allow', message: "'*' cannot be used while cookies carry credentials (a session, or jwt.from with a cookie): any site could then send requests that ride the user's cookies. List the allowed origins instead" }],
      'origin policy',
    )
  }

  // Exact origins by serialisation; `:*` hosts and wildcard suffixes by `scheme://host`, with their ports.
  const exact = new Set<string>()
  const anyPortHosts = new Set<string>()
  const suffixes = new Map<string, { any: boolean; ports: Set<string> }>()
  // How many labels the wildcard suffixes have: a check looks up only suffixes of those lengths.
  const suffixDepths = new Set<number>()
  let allowNull = false
  for (const pattern of allow) {
    const compiled = compilePattern(pattern)
    if (typeof compiled === 'string') continue // unreachable: the schema rejected it
    if (compiled.kind === 'null') allowNull = true
    else if (compiled.kind === 'exact') exact.add(compiled.serialized)
    else if (compiled.kind === 'host') {
      const key = `${compiled.scheme}://${compiled.host}`
      if (!compiled.wildcard) anyPortHosts.add(key)
      else {
        const entry = suffixes.get(key) ?? { any: false, ports: new Set<string>() }
        suffixDepths.add(compiled.host.split('.').length)
        if (compiled.port === null) entry.any = true
        else entry.ports.add(compiled.port)
        suffixes.set(key, entry)
      }
    }
  }
  const maxDepth = Math.max(0, ...suffixDepths)
  if (allowNull) {
    const warn = context.warn ?? console.warn
    warn("gatehouse: origins.allow lists 'null'. Sandboxed iframes, file: pages and some cross-origin redirects all send Origin: null, so any website can produce it; remove 'null' unless you must accept such clients.")
  }

  const allowed =
    allow.length === 0
      ? 'origins.allow is not configured, so every request that carries an Origin is refused (gatehouse never falls back to comparing with Host, which DNS rebinding defeats): list your front-end origins in origins.allow'
      : `allowed: ${summarise(allow)}; add the origin to origins.allow if it is yours`
  const reject = (seen: string): OriginResult => ({ ok: false, code: 'origin_rejected', hint: `${seen}; ${allowed}` })
  const rejectMissing: OriginResult = {
    ok: false,
    code: 'origin_rejected',
    hint: 'no Origin header, and origins.allowMissing is false: browsers send Origin on WebSocket upgrades and cross-origin requests; have other clients send one, or set origins.allowMissing: true',
  }

  function matches(parts: OriginParts): boolean {
    if (exact.has(parts.serialized)) return true
    if (!WEB.has(parts.scheme)) return false
    if (anyPortHosts.has(`${parts.scheme}://${parts.host}`)) return true
    if (suffixes.size === 0) return false
    // Walk the host's label boundaries from the right, only as deep as the deepest wildcard suffix:
    // the cost depends on the patterns' depth, neither on their number nor on a hostile host's length.
    // splitOrigin ruled out empty labels, so the part before each dot is one or more whole labels.
    const host = parts.host
    let depth = 1
    for (let dot = host.lastIndexOf('.'); dot > 0 && depth <= maxDepth; dot = host.lastIndexOf('.', dot - 1), depth++) {
      if (!suffixDepths.has(depth)) continue
      const entry = suffixes.get(`${parts.scheme}://${host.slice(dot + 1)}`)
      if (entry && (entry.any || entry.ports.has(parts.port))) return true
    }
    return false
  }

  function check(origin: string | string[] | undefined): OriginResult {
    if (origin === undefined) return allowMissing ? OK : rejectMissing
    let value: unknown = origin
    if (Array.isArray(origin)) {
      if (origin.length !== 1) return reject(origin.length === 0 ? 'the Origin header has no value' : `the Origin header was sent ${origin.length} times (a request carries exactly one Origin)`)
      value = origin[0]
    }
    if (typeof value !== 'string') return reject('the Origin header is not a string')
    // Fast path: a listed origin presented in its canonical spelling, which is what browsers send.
    if (exact.has(value)) return OK
    if (value === 'null') return allowNull ? OK : reject("Origin 'null' (sent by sandboxed iframes, file: pages and some redirects, so any site can produce it) is not allowed")
    const parts = splitOrigin(value)
    if (typeof parts === 'string') return reject(`Origin '${showValue(value)}' ${FLAW_SEEN[parts]}`)
    if (allowsAny || matches(parts)) return OK
    const scheme = WEB.has(parts.scheme) ? '' : ' (origins with a scheme other than http or https must be listed exactly)'
    return reject(`Origin '${showValue(value)}' is not allowed${scheme}`)
  }

  return { check, allowsAny, hasAllowList: allow.length > 0 }
}
