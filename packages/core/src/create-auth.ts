import { authorize } from './authorize.js'
import { type ConfigProblem, GatehouseConfigError } from './config-error.js'
import { createCredentialReader, offeredProtocols, selectSubprotocol } from './credentials.js'
import { createCsrfGuard, isSafeMethod } from './csrf.js'
import { DENY_STATUS, type Failure } from './deny-codes.js'
import { type Allow, type AuthRequest, type Decision, type Deny, denyBody, denyDecision, type JWTPayload, type Presented, type Principal, type SessionRecord } from './decision.js'
import { toSeconds } from './duration.js'
import { type AuthOptions, authOptionsSchema } from './options.js'
import { parseOptions } from './options-parse.js'
import { createOriginPolicy, type OriginPolicy } from './origin-policy.js'
import { type ClaimNames, principalFromClaims, principalFromSession, type PrincipalResult, resolvePrincipal } from './principal.js'
import { type CompiledRule, compileRules, type Resolution } from './rules.js'
import { createSessionManager, type SessionManager } from './session/session-manager.js'
import { createTokenVerifier, type KeyInfo, type TokenVerifier } from './token/token-verifier.js'
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
  /**
   * The decision `check` (or, with `upgrade: true`, `checkUpgrade`) gives, returned synchronously
   * when nothing had to wait — public paths, tokens verified with static keys or from the cache,
   * no async hook — and as a promise otherwise. Adapters use it to spare every request a
   * microtask; never throws, never rejects.
   */
  decide(req: AuthRequest, options?: { upgrade?: boolean }): Decision | Promise<Decision>
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

/** A decision now, or one that had to wait (JWKS fetch, session store, async hook). */
type Pending = Decision | Promise<Decision>

/** What the credentials established, carried to the later steps. */
interface Authenticated {
  via: 'bearer' | 'session'
  claims?: JWTPayload
  /** The token came from the verified-token cache. */
  cached?: boolean
  session?: SessionRecord
  headers?: Record<string, string> | undefined
  cookieBorne: boolean
  presented: Presented
}

/** Continues with `next` now when `value` is ready, after it settles otherwise. */
function after<T>(value: T | Promise<T>, next: (value: T) => Pending): Pending {
  return value instanceof Promise ? value.then(next) : next(value)
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
  const hookTimeoutMs = toSeconds(o.hookTimeout ?? '5s', 'hookTimeout') * 1000
  const problems: ConfigProblem[] = []
  let verifier: TokenVerifier | undefined
  let sessions: SessionManager | undefined
  let originPolicy: OriginPolicy | undefined
  let rules: ReturnType<typeof compileRules> | undefined
  // Sub-factories validate deeper (key import, secret length); run them all so one error lists every problem.
  collect(problems, () => {
    if (options.jwt) verifier = createTokenVerifier(options.jwt, { hookTimeoutMs })
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

  function publicAllow(req: AuthRequest, upgrade: boolean): Allow {
    const protocol = protocolFor(req, upgrade)
    return protocol === undefined ? ALLOW_PUBLIC : { ...ALLOW_PUBLIC, protocol, headers: {} }
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

  function decide(req: AuthRequest, upgrade: boolean, trace: TraceSink): Pending {
    const method = req.method
    if (upgrade) {
      const bad = checkOrigin(req, trace)
      if (bad) return deny(bad, 'none')
    } else if (method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      trace?.({ step: 'rule', outcome: 'pass', detail: 'CORS preflight (OPTIONS with Access-Control-Request-Method) is public' })
      return ALLOW_PUBLIC
    }
    const resolution = ruleSet.resolve(method, req.url, trace)
    if (resolution.access === 'public') return publicAllow(req, upgrade)

    const credential = reader.read(req, resolution.target.query, upgrade, trace)
    switch (credential.kind) {
      case 'none':
        if (resolution.access === 'optional') {
          trace?.({ step: 'credentials', outcome: 'info', detail: 'no credentials, and the rule makes them optional: let in without a principal' })
          return publicAllow(req, upgrade)
        }
        return deny({ ok: false, code: 'credentials_missing', hint: credential.hint }, 'none')
      case 'malformed':
        return deny({ ok: false, code: 'credentials_malformed', hint: credential.hint }, 'malformed')
      case 'token': {
        const cookieBorne = credential.source === 'cookie'
        return after((verifier as TokenVerifier).verifyNow(credential.token, { trace }), (verified) =>
          verified.ok ? authenticated(req, upgrade, trace, resolution, { via: 'bearer', claims: verified.claims, cached: verified.cached, cookieBorne, presented: 'token' }) : deny(verified, 'token'),
        )
      }
      case 'session':
        return (sessions as SessionManager).authenticate(credential.values, { trace }).then((result) => {
          if (!result.ok) return deny(result, 'session')
          const headers = result.setCookie === undefined ? undefined : { 'set-cookie': result.setCookie }
          return authenticated(req, upgrade, trace, resolution, { via: 'session', session: result.session, headers, cookieBorne: true, presented: 'session' })
        })
    }
  }

  /** The steps after the credentials proved something: CSRF, principal, authorization. */
  function authenticated(req: AuthRequest, upgrade: boolean, trace: TraceSink, resolution: Resolution, c: Authenticated): Pending {
    if (c.cookieBorne && !isSafeMethod(req.method)) {
      const csrfResult = csrf.check(req, trace)
      if (!csrfResult.ok) return deny(csrfResult, c.presented)
    }
    const found: PrincipalResult | Promise<PrincipalResult> = principalHook
      ? resolvePrincipal(principalHook, { via: c.via, claims: c.claims, session: c.session, request: req }, hookTimeoutMs, trace)
      : c.session
        ? { ok: true, principal: principalFromSession(c.session) }
        : claimsPrincipal(c.claims as JWTPayload, c.cached === true)
    return after(found, (p) => {
      if (!p.ok) return deny(p, c.presented)
      const who = p.principal
      return after(authorize(resolution.rule, who, req, hookTimeoutMs, trace), (first) => {
        if (!first.ok) return deny(first, c.presented)
        // Spellings of the path matched different rules; a router may route by any of them, so
        // all must hold.
        return alsoAuthorized(resolution.also, 0, who, req, trace, () => allowed(req, upgrade, c, who), c.presented)
      })
    })
  }

  /** Enforces the further rules other spellings of the path matched, one after another. */
  function alsoAuthorized(rules: CompiledRule[] | undefined, i: number, who: Principal, req: AuthRequest, trace: TraceSink, done: () => Decision, presented: Presented): Pending {
    const rule = rules?.[i]
    if (rule === undefined) return done()
    return after(authorize(rule, who, req, hookTimeoutMs, trace), (r) => (r.ok ? alsoAuthorized(rules, i + 1, who, req, trace, done, presented) : deny(r, presented)))
  }

  // Cached tokens hand back the same frozen claims on every hit; their principal is derived
  // once and shared, frozen like the claims it comes from. A token seen for the first time
  // skips the memo: most fresh tokens are never seen again, and remembering costs more.
  const principals = new WeakMap<JWTPayload, PrincipalResult>()
  function claimsPrincipal(claims: JWTPayload, cached: boolean): PrincipalResult {
    if (!cached || !Object.isFrozen(claims)) return principalFromClaims(claims, claimNames)
    let found = principals.get(claims)
    if (found === undefined) {
      found = principalFromClaims(claims, claimNames)
      if (found.ok) {
        Object.freeze(found.principal.roles)
        Object.freeze(found.principal.scopes)
        Object.freeze(found.principal)
      }
      principals.set(claims, Object.freeze(found))
    }
    return found
  }

  function allowed(req: AuthRequest, upgrade: boolean, c: Authenticated, principal: Principal): Allow {
    const allow: Allow = { ok: true, via: c.via, principal, headers: c.headers ?? {} }
    if (c.claims) allow.claims = c.claims
    if (c.session) allow.session = c.session
    const protocol = protocolFor(req, upgrade)
    if (protocol !== undefined) allow.protocol = protocol
    return allow
  }

  function crashed(error: unknown, trace: TraceSink): Deny {
    // A bug or a hostile input that slipped past every guard must still fail closed, not 500.
    const why = error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : typeof error
    trace?.({ step: 'error', outcome: 'fail', detail: `unexpected ${why}` })
    return denyDecision('auth_unavailable', `unexpected error while deciding: ${why}`, { realm, presented: 'none' })
  }

  function run(req: AuthRequest, upgrade: boolean, trace: TraceSink, notify = true): Pending {
    const report = notify ? onDecision : undefined
    const started = report ? performance.now() : 0
    let pending: Pending
    try {
      pending = decide(req, upgrade, trace)
    } catch (error) {
      pending = crashed(error, trace)
    }
    const emit = (decision: Decision): Decision => {
      if (report) {
        try {
          report({ decision, method: req.method, path: pathOf(req.url).slice(0, 2048), upgrade, time: Date.now(), durationMs: performance.now() - started })
        } catch (error) {
          console.error('gatehouse: onDecision threw; the decision stands', error)
        }
      }
      return decision
    }
    if (pending instanceof Promise) return pending.then(emit, (error: unknown) => emit(crashed(error, trace)))
    return emit(pending)
  }

  const settled = (pending: Pending): Promise<Decision> => (pending instanceof Promise ? pending : Promise.resolve(pending))

  const auth: Auth<AuthOptions> = {
    check: (req) => settled(run(req, false, undefined)),
    checkUpgrade: (req) => settled(run(req, true, undefined)),
    decide: (req, opts) => run(req, opts?.upgrade ?? false, undefined),
    async explain(req, opts) {
      const steps: TraceStep[] = []
      const upgrade = opts?.upgrade ?? false
      steps.push({ step: 'request', outcome: 'info', detail: `${upgrade ? 'WebSocket upgrade' : 'HTTP'} ${req.method} ${pathOf(req.url).slice(0, 300)}` })
      // Diagnostic runs do not fire onDecision: they are not traffic.
      const decision = await settled(run(req, upgrade, (s) => steps.push(s), false))
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
