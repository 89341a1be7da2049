import { PROTOCOL_BEARER_PREFIX } from '../credentials.js'
import type { AuthRequest, Decision } from '../decision.js'
import type { KeyInfo } from '../token/token-verifier.js'
import type { TraceStep } from '../trace.js'
import { EXIT, type ExplainArgs, readTokenArg, UsageError } from './args.js'
import { decodeToken, type DecodedToken, type DecodeFailure, stripBearer, tokenLines, tokenSecrets, UNVERIFIED } from './decode.js'
import { keyLine } from './fingerprint.js'
import { clean, columns, createScrubber, type Io, paint, redact, stepLines } from './format.js'
import { openAuth } from './load-config.js'

/** A presented JWT and where it was found, for display. */
interface PresentedToken {
  source: 'header' | 'cookie' | 'query' | 'protocol'
  name?: string
  token: string
}

/** The request an adapter would build, plus what the CLI must never print. */
export interface BuiltRequest {
  req: AuthRequest
  /** Values to scrub from every line of output: tokens, signatures, credentials, cookie values. */
  secrets: string[]
  /** Every JWT-shaped value the request carries, by source. */
  presented: PresentedToken[]
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/
// Query parameters whose values are treated as secrets even when they are not JWT-shaped.
const SECRET_PARAM = /token|jwt|key|secret|code|sig|pass|auth|session/i

function splitHeader(raw: string): [string, string] {
  const colon = raw.indexOf(':')
  if (colon <= 0) throw new UsageError(`--header must be 'Name: value' (a header ${colon === 0 ? 'with an empty name' : 'without a colon'} was given)`, 'explain')
  const name = raw.slice(0, colon).trim()
  if (!HEADER_NAME.test(name)) throw new UsageError(`--header name '${name.replace(/[^\x20-\x7e]/g, '?').slice(0, 40)}' is not a valid HTTP header name`, 'explain')
  return [name.toLowerCase(), raw.slice(colon + 1).trim()]
}

/**
 * Splits `--url` into the raw request-target and, for an absolute URL, its host. The target is
 * sliced, never parsed with `URL`, which would resolve `..` and decode escapes and so hide the
 * very path problems `explain` is asked about.
 */
function target(url: string): { path: string; host?: string } {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url)
  if (scheme) {
    const rest = url.slice(scheme[0].length).replace(/#.*$/s, '')
    const end = rest.search(/[/?]/)
    const host = end === -1 ? rest : rest.slice(0, end)
    const path = end === -1 ? '/' : rest.slice(end)
    return { path: path.startsWith('?') ? `/${path}` : path, host }
  }
  if (url.startsWith('/') || url === '*') return { path: url }
  throw new UsageError(`--url must be a request target starting with '/' (e.g. '/api/reports?page=2') or an absolute URL`, 'explain')
}

function queryPairs(path: string): Array<[string, string]> {
  const q = path.indexOf('?')
  if (q === -1) return []
  return path
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      return eq === -1 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)]
    })
}

function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return value
  }
}

function cookiePairs(header: string): Array<[string, string]> {
  return header.split(';').flatMap((part): Array<[string, string]> => {
    const eq = part.indexOf('=')
    if (eq === -1) return part.trim() ? [[part.trim(), '']] : []
    let value = part.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    return [[part.slice(0, eq).trim(), value]]
  })
}

/**
 * Every credential the request carries, wherever an adapter could read one: the values to scrub
 * from the output, and the JWT-shaped ones by source, for display.
 */
function findSecrets(req: AuthRequest): Pick<BuiltRequest, 'secrets' | 'presented'> {
  const { authorization, cookie } = req.headers
  const secrets: string[] = []
  const presented: PresentedToken[] = []
  for (const value of authorization === undefined ? [] : Array.isArray(authorization) ? authorization : [authorization]) {
    const space = value.indexOf(' ')
    const credential = space === -1 ? value : value.slice(space + 1).trim()
    secrets.push(value, credential)
    if (/^bearer /i.test(value) && credential !== '') {
      secrets.push(...tokenSecrets(credential))
      presented.push({ source: 'header', token: credential })
    }
  }
  for (const [name, value] of cookiePairs(typeof cookie === 'string' ? cookie : '')) {
    const decoded = decodeParam(value)
    secrets.push(value, decoded)
    if (JWT_SHAPE.test(decoded)) {
      secrets.push(...tokenSecrets(decoded))
      presented.push({ source: 'cookie', name, token: decoded })
    }
  }
  for (const [name, value] of queryPairs(req.url)) {
    const decoded = decodeParam(value)
    if (JWT_SHAPE.test(decoded)) {
      secrets.push(value, ...tokenSecrets(decoded))
      presented.push({ source: 'query', name: decodeParam(name), token: decoded })
    } else if (SECRET_PARAM.test(name)) secrets.push(value, decoded)
  }
  const protocol = req.headers['sec-websocket-protocol']
  for (const p of typeof protocol === 'string' ? protocol.split(',').map((v) => v.trim()) : []) {
    if (!p.startsWith(PROTOCOL_BEARER_PREFIX)) continue
    const t = p.slice(PROTOCOL_BEARER_PREFIX.length)
    secrets.push(p, ...tokenSecrets(t))
    if (t !== '') presented.push({ source: 'protocol', token: t })
  }
  return { secrets, presented }
}

/**
 * Builds the {@link AuthRequest} an adapter would pass to core, the way Node delivers headers:
 * names lower-cased, several `Authorization` headers kept apart (as `fromNodeRequest` does, so core
 * can refuse the ambiguity), cookies joined with `; `, other repeats joined with `, `.
 */
export function buildRequest(args: ExplainArgs, token: string | undefined): BuiltRequest {
  const { path, host } = target(args.url)
  const values = new Map<string, string[]>()
  const add = (name: string, value: string) => values.set(name, [...(values.get(name) ?? []), value])
  for (const raw of args.headers) add(...splitHeader(raw))
  if (host !== undefined && !values.has('host')) add('host', host)
  if (token !== undefined) add('authorization', `Bearer ${stripBearer(token.trim())}`)
  if (args.origin !== undefined) add('origin', args.origin)
  for (const c of args.cookies) add('cookie', c)
  if (args.upgrade) {
    // What every browser handshake carries; only filled in when --header did not set them.
    if (!values.has('connection')) add('connection', 'Upgrade')
    if (!values.has('upgrade')) add('upgrade', 'websocket')
    if (!values.has('sec-websocket-version')) add('sec-websocket-version', '13')
  }
  // Node keeps the first Host header and drops the rest.
  const hosts = values.get('host')
  if (hosts !== undefined && hosts.length > 1) values.set('host', hosts.slice(0, 1))

  const headers: AuthRequest['headers'] = {}
  for (const [name, list] of values) {
    if (name === 'authorization') headers[name] = list.length === 1 ? list[0] : list
    else headers[name] = list.join(name === 'cookie' ? '; ' : ', ')
  }

  const req: AuthRequest = { method: args.method, url: path, headers }
  return { req, ...findSecrets(req) }
}

/**
 * The token core actually judged, read from its `credentials` trace step (`token from cookie
 * 'client_token'`); the Authorization header when the step does not say.
 */
export function judgedToken(presented: readonly PresentedToken[], steps: readonly TraceStep[]): PresentedToken | undefined {
  const step = steps.find((s) => s.step === 'credentials')
  const m = step && /^token from (header|cookie|query|protocol)(?: '([^']*)')?/.exec(step.detail)
  if (m) {
    const found = presented.find((p) => p.source === m[1] && (m[2] === undefined || p.name === m[2]))
    if (found) return found
  }
  return presented.find((p) => p.source === 'header')
}

/** The request as the CLI echoes it: every credential, cookie value and secret query value redacted. */
function requestLines(built: BuiltRequest, scrub: (text: string) => string): string[] {
  const lines = [`  ${clean(built.req.method)} ${scrub(clean(built.req.url))}`]
  for (const [name, value] of Object.entries(built.req.headers)) {
    for (const v of Array.isArray(value) ? value : [value ?? '']) {
      let shown: string
      if (name === 'authorization') {
        const space = v.indexOf(' ')
        shown = space === -1 ? redact(v) : `${clean(v.slice(0, space))} ${redact(v.slice(space + 1).trim())}`
      } else if (name === 'cookie') {
        shown = cookiePairs(v).map(([n, val]) => `${clean(n)}=${redact(val)}`).join('; ')
      } else if (name === 'sec-websocket-protocol') {
        shown = v.split(',').map((p) => p.trim()).map((p) => (p.startsWith(PROTOCOL_BEARER_PREFIX) ? `${PROTOCOL_BEARER_PREFIX}${redact(p.slice(PROTOCOL_BEARER_PREFIX.length))}` : clean(p))).join(', ')
      } else {
        shown = clean(v)
      }
      lines.push(`  ${clean(name)}: ${scrub(shown)}`)
    }
  }
  return lines
}

function setCookieRedacted(value: string): string {
  const semi = value.indexOf(';')
  const pair = semi === -1 ? value : value.slice(0, semi)
  const eq = pair.indexOf('=')
  return `${pair.slice(0, eq + 1)}${redact(pair.slice(eq + 1))}${semi === -1 ? '' : value.slice(semi)}`
}

/** The decision without secrets: the session id and any `Set-Cookie` value are redacted. */
export function redactDecision(decision: Decision): Decision {
  const headers = Object.fromEntries(Object.entries(decision.headers).map(([k, v]) => [k, k === 'set-cookie' ? setCookieRedacted(v) : v]))
  if (!decision.ok) return { ...decision, headers }
  const copy = { ...decision, headers }
  if (decision.session) copy.session = { ...decision.session, id: redact(decision.session.id) }
  return copy
}

function decisionLines(decision: Decision, io: Io): string[] {
  const p = paint(io.color)
  if (decision.ok) {
    const lines = [`  ${p.green('✓')} ${p.bold(p.green('ALLOW'))} via ${decision.via}`]
    const who = decision.principal
    const rows: Array<[string, string]> = []
    if (who) rows.push(['principal', `'${clean(who.id)}' roles [${who.roles.map(clean).join(', ')}] scopes [${who.scopes.map(clean).join(', ')}]`])
    if (decision.protocol !== undefined) rows.push(['subprotocol', clean(decision.protocol)])
    for (const [k, v] of Object.entries(decision.headers)) rows.push([k, clean(k === 'set-cookie' ? setCookieRedacted(v) : v)])
    return [...lines, ...columns(rows, '    ')]
  }
  const rows: Array<[string, string]> = [['message', decision.message]]
  if (decision.hint !== undefined) rows.push(['hint', clean(decision.hint)])
  for (const [k, v] of Object.entries(decision.headers)) rows.push([k, clean(v)])
  return [`  ${p.red('✗')} ${p.bold(p.red('DENY'))} ${decision.status} ${p.bold(decision.code)}`, ...columns(rows, '    ')]
}

type TokenView = { header: Record<string, unknown>; claims: Record<string, unknown> } | { error: string } | null

/** `gatehouse explain`: runs the operator's options against one request and prints why. */
export async function runExplain(args: ExplainArgs, io: Io, cwd: string): Promise<number> {
  const token = args.token === undefined ? undefined : await readTokenArg(args.token, 'explain')
  const built = buildRequest(args, token)
  const { auth } = await openAuth(args.config, cwd)
  let explanation: Awaited<ReturnType<typeof auth.explain>>
  let keys: KeyInfo[]
  try {
    explanation = await auth.explain(built.req, { upgrade: args.upgrade })
    keys = auth.keys()
  } finally {
    await auth.close()
  }
  const { decision, steps } = explanation
  if (decision.ok && decision.session) built.secrets.push(decision.session.id)
  const scrub = createScrubber(built.secrets)
  const judged = judgedToken(built.presented, steps)
  const decoded: DecodedToken | DecodeFailure | undefined = judged && decodeToken(judged.token)
  const code = decision.ok ? EXIT.allow : EXIT.deny

  if (args.json) {
    const view: TokenView = decoded === undefined ? null : decoded.ok ? { header: decoded.header, claims: decoded.claims } : { error: decoded.reason }
    io.out(scrub(JSON.stringify({ decision: redactDecision(decision), steps, token: view, keys }, null, 2)))
    return code
  }

  const p = paint(io.color)
  const out = (line: string) => io.out(scrub(line))
  out(p.bold(`gatehouse explain: ${args.upgrade ? 'WebSocket upgrade' : 'HTTP request'}`))
  out('')
  out(p.bold('Request'))
  requestLines(built, scrub).forEach(out)
  if (judged && decoded) {
    out('')
    const where = `${judged.source}${judged.name === undefined ? '' : ` '${clean(judged.name)}'`}`
    out(`${p.bold('Token')} from ${where}: ${redact(judged.token)}`)
    out(`  ${p.yellow(UNVERIFIED)}`)
    if (decoded.ok) tokenLines(decoded, io.now()).forEach(out)
    else out(`  not a JWT: ${decoded.reason}`)
  }
  if (keys.length) {
    out('')
    out(p.bold('Configured keys'))
    for (const key of keys) out(`  ${keyLine(key)}`)
  }
  out('')
  out(p.bold('Steps'))
  // Core's closing `decision` step is what the Decision section below shows in full.
  stepLines(steps.filter((s, i) => !(s.step === 'decision' && i === steps.length - 1)), p).forEach(out)
  out('')
  out(p.bold('Decision'))
  decisionLines(decision, io).forEach(out)
  return code
}
