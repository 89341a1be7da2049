import { z } from 'zod'
import type { Decision } from './decision.js'
import { type Duration, durationProblem } from './duration.js'
import { type OriginsOptions, originsOptionsSchema } from './origin-policy.js'
import type { PrincipalHook } from './principal.js'
import { type Access, type RuleInput, rulesOptionsSchemaShape } from './rules.js'
import { type SessionOptions, sessionOptionsSchema } from './session/session-options.js'
import { type JwtOptions, jwtOptionsSchema } from './token/jwt-options.js'

/** What `onDecision` receives after every `check` and `checkUpgrade`. */
export interface DecisionEvent {
  decision: Decision
  method: string
  /** The request path without the query (which may carry tokens). */
  path: string
  upgrade: boolean
  /** Epoch milliseconds when the decision was made. */
  time: number
  /** How long the decision took, in milliseconds. */
  durationMs: number
}

/** Options of {@link createAuth}. Validated once, at creation. */
export interface AuthOptions {
  /** JWT verification: keys, algorithms, claims, sources. */
  jwt?: JwtOptions
  /** Server-side sessions carried by a signed cookie. */
  session?: SessionOptions
  /** Paths anyone may reach, e.g. `['/health', '/docs/**', 'GET /api/agents/**']`. Evaluated before `rules`; matched narrowly. */
  public?: string[]
  /** Rules in order; the first matching rule decides. */
  rules?: RuleInput[]
  /** What a request matched by no rule needs: `'authenticated'` (the default), `'public'` or `'optional'`. */
  default?: Access
  /** Allowed browser origins, for WebSocket upgrades and CSRF checks of cookie credentials. */
  origins?: OriginsOptions
  /** Maps verified credentials to a principal (e.g. a database look-up). `null` → 401 `principal_rejected`. */
  principal?: PrincipalHook
  /**
   * How long an application hook — `principal`, a rule's `check`, `jwt.isRevoked` — may take
   * before the request gets 503 `auth_unavailable` instead of hanging. Default `'5s'`.
   */
  hookTimeout?: Duration
  /** The `realm` of `WWW-Authenticate`. Default `'gatehouse'`. */
  realm?: string
  /** Send each deny's `hint` in the response body too. Default `false`: hints are for operators. */
  exposeHints?: boolean
  /** Called after every decision, e.g. for logging. Errors it throws are reported and ignored. */
  onDecision?: (event: DecisionEvent) => void
}

const fn = (what: string) => z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { message: `must be a function (${what})` })
const duration = z.custom<Duration>((v) => durationProblem(v) === undefined, { message: "must be a number of seconds or a string such as '30s', '15m', '8h', '7d'" })

/** The zod schema of {@link AuthOptions}: every problem is reported at once, with its option path. */
export const authOptionsSchema = z
  .object({
    jwt: jwtOptionsSchema.optional(),
    session: sessionOptionsSchema.optional(),
    ...rulesOptionsSchemaShape,
    origins: originsOptionsSchema.optional(),
    principal: fn('({ claims, session, via, request }) => Principal | null').optional(),
    hookTimeout: duration.optional(),
    realm: z
      .string()
      .min(1, 'must not be empty')
      .max(200, 'must be at most 200 characters')
      .refine((v) => /^[\x20-\x7e]*$/.test(v) && !/["\\]/.test(v), 'must be printable ASCII without quotes or backslashes (it goes into WWW-Authenticate)')
      .optional(),
    exposeHints: z.boolean().optional(),
    onDecision: fn('(event) => void').optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    const protects = (o.default ?? 'authenticated') === 'authenticated' || (o.rules ?? []).some((r) => r.allow === undefined || r.allow === 'authenticated')
    if (protects && o.jwt === undefined && o.session === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'nothing can authenticate a request: configure jwt and/or session, or set default: \'public\' with only public rules' })
    }
    const cookieCredentials = o.session !== undefined || (o.jwt?.from ?? []).some((s) => typeof s === 'object' && 'cookie' in s)
    if (cookieCredentials && o.origins?.allow?.includes('*')) {
      ctx.addIssue({ code: 'custom', path: ['origins', 'allow'], message: "'*' cannot be used while cookies carry credentials (session, or jwt.from with a cookie): any site could make requests that ride the user's cookies. List the allowed origins instead" })
    }
  })
