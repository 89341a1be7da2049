import { authorize } from './authorize.js'
import { type ConfigProblem, GatehouseConfigError } from './config-error.js'
import { createCredentialReader, offeredProtocols, selectSubprotocol } from './credentials.js'
import { createCsrfGuard, isSafeMethod } from './csrf.js'
import { DENY_STATUS, type Failure } from './deny-codes.js'
import { type Allow, type AuthRequest, type Decision, type Deny, denyBody, denyDecision, type JWTPayload, type Presented, type SessionRecord } from './decision.js'
import { toSeconds } from './duration.js'
import { type AuthOptions, authOptionsSchema } from './options.js'
import { parseOptions } from './options-parse.js'
import { createOriginPolicy, type OriginPolicy } from './origin-policy.js'
import { type ClaimNames, principalFromClaims, principalFromSession, type PrincipalResult, resolvePrincipal } from './principal.js'
import { compileRules } from './rules.js'
import { createSessionManager, type SessionManager } from './session/session-manager.js'
import type { KeyInfo } from './token/token-verifier.js'
import { createTokenVerifier, type TokenVerifier } from './token/token-verifier.js'
import type { TraceSink, TraceStep } from './trace.js'

/** `auth.explain()`'s answer: the decision and every step that led to it. */
export interface Explanation {
  decision: Decision
  steps: TraceStep[]
}

/** A response ready to send for a deny: status, headers (with content type) and JSON body. */
export interface DenyResponse {
  status: 401 | 403 | 503
  headers: Record<string, string>
  body: string
}

/** The auth engine `createAuth` returns. */
export interface Auth<O extends AuthOptions = AuthOptions> {
  /** Judges an HTTP request. Never throws for any request; fails closed. */
  check(req: AuthRequest): Promise<Decision>
  /** Judges a WebSocket upgrade: origin policy first, then rules and credentials. */
  checkUpgrade(req: AuthRequest): Promise<Decision>
  /** The same decision as `check` (or `checkUpgrade` with `upgrade: true`), with every step of the trace. */
  explain(req: AuthRequest, options?: { upgrade?: boolean }): Promise<Explanation>
  /** The session manager, when `session` is configured. */
  readonly sessions: O extends { session: object } ? SessionManager : SessionManager | undefined
  /** Whether deny bodies carry the hint. */
  readonly exposeHints: boolean
  /** The realm used in `WWW-Authenticate`. */
  readonly realm: string
  /** The configured keys by fingerprint (never the keys themselves), for comparing services. */
  keys(): KeyInfo[]
  /** Status, headers and JSON body for a deny, as every adapter sends it. */
  respond(decision: Deny): DenyResponse
  /** Stops JWKS refreshes, timers and store connections owned by gatehouse. Idempotent. */
  close(): Promise<void>
}

const ALLOW_PUBLIC: Readonly<Allow> = Object.freeze({ ok: true, via: 'public', principal: null, headers: Object.freeze({}) as Record<string, string> })

function pathOf(url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

function collect(problems: ConfigProblem[], build: () => void): void {
  try {
    build()
  } catch (error) {
    if (error instanceof GatehouseConfigError) problems.push(...error.problems)
    else throw error
  }
}

/**
 * Creates the auth engine. Validates every option with zod and compiles rules, keys and origin
 * patterns once; throws {@link GatehouseConfigError} listing every problem, each with its option
 * path and a fix.
 *
 * @example
 * ```ts
 * const auth = createAuth({
 *   jwt: { secret: process.env.JWT_SECRET!, issuer: 'https://id.example.com', audience: 'backend' },
 *   public: ['/health', '/docs/**'],
 *   rules: [{ match: '/api/admin/**', roles: ['admin'] }],
 * })
 * const decision = await auth.check({ method: 'GET', url: '/api/admin/users', headers: req.headers })
 * ```
 */
export function createAuth<const O extends AuthOptions>(options: O): Auth<O> {
  const o = parseOptions(authOptionsSchema, options, 'gatehouse')
  const problems: ConfigProblem[] = []
  let verifier: TokenVerifier | undefined
  let sessions: SessionManager | undefined
  let originPolicy: OriginPolicy | undefined
  let rules: ReturnType<typeof compileRules> | undefined
  // Sub-factories validate deeper (key import, secret length); run them all so one error lists every problem.
  collect(problems, () => {
    if (options.jwt) verifier = createTokenVerifier(options.jwt)
  })
  collect(problems, () => {
    if (options.session) sessions = createSessionManager(options.session)
  })
  const cookieCredentials = options.session !== undefined || (options.jwt?.from ?? []).some((s) => typeof s === 'object' && 'cookie' in s)
  collect(problems, () => {
    originPolicy = createOriginPolicy(options.origins ?? {}, { cookieCredentials })
  })
  collect(problems, () => {
    rules = compileRules({ public: options.public, rules: options.rules, default: options.default })
  })
  if (problems.length) {
    void verifier?.close()
    void sessions?.close()
    throw new GatehouseConfigError(problems, 'gatehouse')
  }
  const ruleSet = rules as NonNullable<typeof rules>
  const policy = originPolicy as OriginPolicy
  const realm = o.realm ?? 'gatehouse'
  const exposeHints = o.exposeHints ?? false
  const principalHook = options.principal
  const principalTimeoutMs = toSeconds(o.principalTimeout ?? '5s', 'principalTimeout') * 1000
  const onDecision = options.onDecision
  const claimNames: ClaimNames = { id: o.jwt?.claims?.id ?? 'sub', roles: o.jwt?.claims?.roles ?? 'roles', scopes: o.jwt?.claims?.scopes }
  const reader = createCredentialReader({ jwt: verifier !== undefined, from: o.jwt?.from ?? ['header'], sessionCookie: sessions?.cookieName })
  const csrf = createCsrfGuard(options.origins?.allow?.length ? policy : undefined)
  let closed: Promise<void> | undefined

  const deny = (f: Failure & { scope?: string[] }, presented: Presented): Deny => denyDecision(f.code, f.hint, { realm, presented, scope: f.scope })

  function protocolFor(req: AuthRequest, upgrade: boolean): string | undefined {
    if (!upgrade) return undefined
    const header = req.headers['sec-websocket-protocol']
    return header === undefined ? undefined : selectSubprotocol(offeredProtocols(header))
  }

  function checkOrigin(req: AuthRequest, trace: TraceSink): Failure | undefined {
    // Version 8 handshakes carry the origin in Sec-WebSocket-Origin; `ws` reads that one, so check it too.
    const version = req.headers['sec-websocket-version']
    const values: Array<[string, string | string[] | undefined]> = [['Origin', req.headers.origin]]
    if (version === '8' || req.headers['sec-websocket-origin'] !== undefined) values.push(['Sec-WebSocket-Origin', req.headers['sec-websocket-origin']])
    for (const [name, value] of values) {
      if (name === 'Origin' && value === undefined && values.length > 1) continue
      const result = policy.check(value)
      if (!result.ok) {
        const hint = name === 'Origin' ? result.hint : `${name}: ${result.hint}`
        trace?.({ step: 'origin', outcome: 'fail', detail: hint })
        return { ok: false, code: 'origin_rejected', hint }
      }
    }
    trace?.({ step: 'origin', outcome: 'pass', detail: value(req.headers.origin) })
    return undefined
  }

  async function decide(req: AuthRequest, upgrade: boolean, trace: TraceSink): Promise<Decision> {
    const method = req.method
    if (upgrade) {
      const bad = checkOrigin(req, trace)
      if (bad) return deny(bad, 'none')
    } else if (method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      trace?.({ step: 'rule', outcome: 'pass', detail: 'CORS preflight (OPTIONS with Access-Control-Request-Method) is public' })
      return ALLOW_PUBLIC
    }
    const resolution = ruleSet.resolve(method, req.url, trace)
    if (resolution.access === 'public') {
      const protocol = protocolFor(req, upgrade)
      return protocol === undefined ? ALLOW_PUBLIC : { ...ALLOW_PUBLIC, protocol, headers: {} }
    }

    const credential = reader.read(req, resolution.target.query, upgrade, trace)
    let claims: JWTPayload | undefined
    let session: SessionRecord | undefined
    let headers: Record<string, string> | undefined
    let cookieBorne: boolean
    let presented: Presented
    switch (credential.kind) {
      case 'none':
        return deny({ ok: false, code: 'credentials_missing', hint: credential.hint }, 'none')
      case 'malformed':
        return deny({ ok: false, code: 'credentials_malformed', hint: credential.hint }, 'malformed')
      case 'token': {
        const verified = await (verifier as TokenVerifier).verify(credential.token, { trace })
        if (!verified.ok) return deny(verified, 'token')
        claims = verified.claims
        cookieBorne = credential.source === 'cookie'
        presented = 'token'
        break
      }
      case 'session': {
        const result = await (sessions as SessionManager).authenticate(credential.values, { trace })
        if (!result.ok) return deny(result, 'session')
        session = result.session
        if (result.setCookie !== undefined) headers = { 'set-cookie': result.setCookie }
        cookieBorne = true
        presented = 'session'
        break
      }
    }

    if (cookieBorne && !isSafeMethod(method)) {
      const csrfResult = csrf.check(req, trace)
      if (!csrfResult.ok) return deny(csrfResult, presented)
    }

    const via = session ? 'session' : 'bearer'
    const found: PrincipalResult = principalHook
      ? await resolvePrincipal(principalHook, { via, claims, session, request: req }, principalTimeoutMs, trace)
      : session
        ? { ok: true, principal: principalFromSession(session) }
        : principalFromClaims(claims as JWTPayload, claimNames)
    if (!found.ok) return deny(found, presented)
    const who = found.principal

    const authz = await authorize(resolution.rule, who, req, trace)
    if (!authz.ok) return deny(authz, presented)
    // The raw and the normalised spelling of a path matched different rules; a router may route
    // by either, so both must hold.
    if (resolution.also) {
      const second = await authorize(resolution.also, who, req, trace)
      if (!second.ok) return deny(second, presented)
    }

    const allow: Allow = { ok: true, via, principal: who, headers: headers ?? {} }
    if (claims) allow.claims = claims
    if (session) allow.session = session
    const protocol = protocolFor(req, upgrade)
    if (protocol !== undefined) allow.protocol = protocol
    return allow
  }

  async function run(req: AuthRequest, upgrade: boolean, trace: TraceSink, notify = true): Promise<Decision> {
    const report = notify ? onDecision : undefined
    const started = report ? performance.now() : 0
    let decision: Decision
    try {
      decision = await decide(req, upgrade, trace)
    } catch (error) {
      // A bug or a hostile input that slipped past every guard must still fail closed, not 500.
      const why = error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : typeof error
      trace?.({ step: 'error', outcome: 'fail', detail: `unexpected ${why}` })
      decision = denyDecision('auth_unavailable', `unexpected error while deciding: ${why}`, { realm, presented: 'none' })
    }
    if (report) {
      try {
        report({ decision, method: req.method, path: pathOf(req.url).slice(0, 2048), upgrade, time: Date.now(), durationMs: performance.now() - started })
      } catch (error) {
        console.error('gatehouse: onDecision threw; the decision stands', error)
      }
    }
    return decision
  }

  const auth: Auth<AuthOptions> = {
    check: (req) => run(req, false, undefined),
    checkUpgrade: (req) => run(req, true, undefined),
    async explain(req, opts) {
      const steps: TraceStep[] = []
      const upgrade = opts?.upgrade ?? false
      steps.push({ step: 'request', outcome: 'info', detail: `${upgrade ? 'WebSocket upgrade' : 'HTTP'} ${req.method} ${pathOf(req.url).slice(0, 300)}` })
      // Diagnostic runs do not fire onDecision: they are not traffic.
      const decision = await run(req, upgrade, (s) => steps.push(s), false)
      steps.push(
        decision.ok
          ? { step: 'decision', outcome: 'pass', detail: `allow via ${decision.via}${decision.principal ? ` as '${decision.principal.id}'` : ''}` }
          : { step: 'decision', outcome: 'fail', detail: `deny ${decision.status} ${decision.code}: ${decision.hint ?? decision.message}`, data: { status: decision.status, code: decision.code } },
      )
      return { decision, steps }
    },
    sessions,
    exposeHints,
    realm,
    keys: () => verifier?.keys() ?? [],
    respond(decision) {
      return {
        status: DENY_STATUS[decision.code],
        headers: { ...decision.headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
        body: JSON.stringify(denyBody(decision, exposeHints)),
      }
    },
    close() {
      closed ??= Promise.all([verifier?.close(), sessions?.close()]).then(() => undefined)
      return closed
    },
  }
  return auth as Auth<O>
}

function value(origin: string | string[] | undefined): string {
  if (origin === undefined) return 'no Origin header (allowed: origins.allowMissing)'
  return `Origin ${JSON.stringify(Array.isArray(origin) ? origin.join(', ') : origin).slice(0, 200)} allowed`
}
