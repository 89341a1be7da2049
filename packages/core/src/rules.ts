import { z } from 'zod'
import type { AuthRequest, Principal } from './decision.js'
import { parseOptions } from './options-parse.js'
import { type CompiledMatcher, compileMatcher } from './path-matcher.js'
import { type ParsedPattern, parsePattern, patternProblem } from './path-pattern.js'
import { type NormalizeOptions, normalizePath, parseRequestTarget, type RequestTarget } from './request-target.js'
import type { TraceSink } from './trace.js'

/**
 * What a request needs: nothing (`public`), an authenticated principal (`authenticated`), or
 * nothing but with credentials verified when present (`optional`: an anonymous request is let in
 * without a principal, a valid credential is let in with one, a broken or expired one is refused).
 */
export type Access = 'public' | 'authenticated' | 'optional'

/** One entry of the `rules` option, as the user writes it. */
export interface RuleInput {
  /** The path pattern(s) the rule applies to, e.g. `'/api/admin/**'` or `['GET /a', '/b/:id']`. */
  match: string | string[]
  /**
   * `public` opens the paths; `optional` opens them to anonymous requests but verifies
   * credentials when present (both matched narrowly, like `public` entries); `authenticated`
   * only requires a principal.
   */
  allow?: Access
  /** Roles the principal needs. */
  roles?: string[]
  /** Scopes the principal needs. */
  scopes?: string[]
  /** A last check on the principal and request; `false` denies with `forbidden`. */
  check?: (principal: Principal, req: AuthRequest) => boolean | Promise<boolean>
}

/** A rule after validation, with every default filled in. */
export interface CompiledRule {
  /** Position in the `rules` option. */
  index: number
  match: string[]
  access: Access
  roles: string[]
  scopes: string[]
  check?: RuleInput['check']
}

/** What the rules say about one request. */
export interface Resolution {
  access: Access
  /** Which part of the configuration decided: a `public` entry, a rule, or `default`. */
  source: 'public' | 'rules' | 'default'
  /** Position of the deciding entry in `public` or `rules`; -1 for `default`. */
  index: number
  /** The pattern that matched. */
  pattern?: string
  /** The deciding rule, when `source` is `rules`. */
  rule?: CompiledRule
  /**
   * Further protective rules that must be enforced as well. Set only when spellings of the path
   * (raw, and the normalised forms of `normalizePath`) match different protective rules: a
   * router may route the request by any of them, so the request has to satisfy all.
   */
  also?: CompiledRule[]
  /** The parsed request-target. */
  target: RequestTarget
}

/** Compiled `public`, `rules` and `default` options. */
export interface RuleSet {
  /**
   * Decides what a request needs. `public` entries are tried first, then `rules` in order; the
   * first that matches decides; otherwise `default`. Never throws.
   */
  resolve(method: string, url: string, trace?: TraceSink): Resolution
}

type Check = NonNullable<RuleInput['check']>

function patternField(kind: 'public' | 'protective') {
  return z.string({ error: "must be a string: write a path pattern such as '/health' or 'GET /items/:id'" }).superRefine((pattern, ctx) => {
    const message = patternProblem(pattern, kind)
    if (message !== undefined) ctx.addIssue({ code: 'custom', message })
  })
}

function nameList(what: 'role' | 'scope', example: string) {
  return z
    .array(z.string({ error: `each ${what} must be a string such as '${example}'` }).min(1, { error: `${what} names cannot be empty: remove the empty string` }), {
      error: `must be an array of ${what} names such as ['${example}']`,
    })
    .min(1, { error: `must list at least one ${what}: add one such as ['${example}'], or remove the option` })
}

const matchField = z.custom<string | string[]>(() => true).superRefine((value, ctx) => {
  if (value === undefined) {
    ctx.addIssue({ code: 'custom', message: "is required: give the path pattern(s) the rule applies to, e.g. match: '/api/admin/**'" })
  } else if (typeof value === 'string') {
    const message = patternProblem(value, 'protective')
    if (message !== undefined) ctx.addIssue({ code: 'custom', message })
  } else if (Array.isArray(value)) {
    if (value.length === 0) ctx.addIssue({ code: 'custom', message: "must list at least one path pattern, e.g. ['/api/admin/**']" })
    value.forEach((pattern, j) => {
      const message = patternProblem(pattern, 'protective')
      if (message !== undefined) ctx.addIssue({ code: 'custom', path: [j], message })
    })
  } else {
    ctx.addIssue({ code: 'custom', message: "must be a path pattern or an array of them, e.g. '/api/admin/**' or ['GET /a', '/b/:id']" })
  }
})

const accessField = z.enum(['public', 'optional', 'authenticated'], { error: "must be 'public', 'optional' or 'authenticated'" })

/**
 * The zod schema of one entry of `rules`. Reports problems with option paths relative to the
 * rule (`match`, `match[1]`, `roles`, …).
 */
export const ruleSchema = z
  .object({
    match: matchField,
    allow: accessField.optional(),
    roles: nameList('role', 'admin').optional(),
    scopes: nameList('scope', 'reports:read').optional(),
    check: z.custom<Check>((v) => typeof v === 'function', { error: 'must be a function (principal, req) => boolean | Promise<boolean>' }).optional(),
  })
  .strict()
  .superRefine(
    (rule, ctx) => {
      // Runs even when a field failed, so every problem is reported at once; the value may be raw.
      const allow = typeof rule === 'object' && rule !== null ? (rule as { allow?: unknown }).allow : undefined
      if (allow !== 'public' && allow !== 'optional') return
      const raw = rule as Record<string, unknown>
      const extra = (['roles', 'scopes', 'check'] as const).filter((key) => raw[key] !== undefined)
      if (extra.length > 0) {
        const list = extra.join(' and ')
        ctx.addIssue({
          code: 'custom',
          path: ['allow'],
          message: `allow: '${allow}' cannot be combined with ${list}: remove ${list}, or remove allow: '${allow}' to require ${extra.length > 1 ? 'them' : 'it'}`,
        })
      }
      // A public (or optional) rule opens paths like a public entry: it may not be a catch-all either. Other
      // pattern problems are reported by the match field already.
      const match = raw.match
      const report = (pattern: unknown, path: (string | number)[]) => {
        if (patternProblem(pattern, 'protective') !== undefined) return
        const message = patternProblem(pattern, 'public')
        if (message !== undefined) ctx.addIssue({ code: 'custom', path, message })
      }
      if (typeof match === 'string') report(match, ['match'])
      else if (Array.isArray(match)) match.forEach((pattern, j) => report(pattern, ['match', j]))
    },
    { when: () => true },
  )

/**
 * The zod fields of the rule options (`public`, `rules`, `default`), to be spread into the
 * options schema of `createAuth`. Problems are reported as `public[i]`, `rules[i].match`,
 * `rules[i].match[j]`, `rules[i].roles`, `default`, ….
 */
export const rulesOptionsSchemaShape = {
  public: z.array(patternField('public'), { error: "must be an array of path patterns such as ['/health', '/docs/**']" }).optional(),
  rules: z.array(ruleSchema, { error: "must be an array of rules such as [{ match: '/api/admin/**', roles: ['admin'] }]" }).optional(),
  default: accessField.optional(),
}

const rulesOptionsSchema = z.object(rulesOptionsSchemaShape)

/** The spellings of a non-canonical path that protective rules are matched against, besides the raw one. */
const FORMS: readonly NormalizeOptions[] = [
  { decode: false, resolveDots: false },
  { decode: false, resolveDots: true },
  { decode: true, resolveDots: false },
  { decode: true, resolveDots: true },
]

/** One pattern of the configuration, in evaluation order. */
interface Entry {
  source: 'public' | 'rules'
  index: number
  pattern: string
  access: Access
  rule: CompiledRule | undefined
}

/**
 * Compiles the rule options once. Public patterns (and rules with `allow: 'public'`) match
 * narrowly: only canonical paths (see `parseRequestTarget`), case-sensitively, with one trailing
 * slash tolerated. Protective rules match broadly: case-insensitively, trailing-slash tolerant,
 * against both the raw path and its normalised form (`normalizePath`), so a spelling that a
 * router or proxy sends to the same handler cannot slip past them; the lower rule index wins,
 * and the other rules that other spellings match are returned as {@link Resolution.also}.
 *
 * Paths longer than `MAX_PATH_BYTES` are never public; they are judged by the protective rules,
 * matched in full, and by `default`. Every step is linear in the length of the request-target.
 *
 * @throws {GatehouseConfigError} when the options are invalid, listing every problem.
 */
export function compileRules(input: { public?: string[]; rules?: RuleInput[]; default?: Access }): RuleSet {
  const options = parseOptions(rulesOptionsSchema, input ?? {}, 'gatehouse')
  const fallback: Access = options.default ?? 'authenticated'

  const entries: Entry[] = []
  ;(options.public ?? []).forEach((pattern, index) => entries.push({ source: 'public', index, pattern, access: 'public', rule: undefined }))
  ;(options.rules ?? []).forEach((input, index) => {
    const protective = input.roles !== undefined || input.scopes !== undefined || input.check !== undefined
    const rule: CompiledRule = {
      index,
      match: typeof input.match === 'string' ? [input.match] : [...input.match],
      access: protective ? 'authenticated' : (input.allow ?? 'authenticated'),
      roles: input.roles ?? [],
      scopes: input.scopes ?? [],
    }
    if (input.check !== undefined) rule.check = input.check
    for (const pattern of rule.match) entries.push({ source: 'rules', index, pattern, access: rule.access, rule })
  })

  // Each matcher gets the entries it judges, in evaluation order, and maps its index back.
  const narrowEntries: number[] = []
  const broadEntries: number[] = []
  const narrowParsed: ParsedPattern[] = []
  const broadParsed: ParsedPattern[] = []
  entries.forEach((entry, i) => {
    const parsed = parsePattern(entry.pattern)
    // Entries that can let an anonymous request in are matched narrowly.
    if (entry.access !== 'authenticated') {
      narrowEntries.push(i)
      narrowParsed.push(parsed)
    } else {
      broadEntries.push(i)
      broadParsed.push(parsed)
    }
  })
  const narrow = compileMatcher(narrowParsed, { caseSensitive: true, trailingSlash: true })
  const broad = compileMatcher(broadParsed, { caseSensitive: false, trailingSlash: true })
  // Normalised paths are percent-decoded, so they meet decoded pattern literals; without any `%`
  // in the patterns both matchers would be identical.
  const broadDecoded: CompiledMatcher = broadParsed.some((p) => p.source.includes('%'))
    ? compileMatcher(broadParsed, { caseSensitive: false, trailingSlash: true, decodeLiterals: true })
    : broad

  const resolve = (method: string, url: string, trace?: TraceSink): Resolution => {
    const target = parseRequestTarget(url)
    const path = target.path
    const m = typeof method === 'string' ? method : ''
    if (!target.canonical) {
      trace?.({
        step: 'path',
        outcome: 'info',
        detail: `the request path ${target.reason}, so no public rule can match it; protective rules were matched against the path and its normalised form`,
        data: { canonical: false, reason: target.reason },
      })
    }

    let narrowHit = -1
    if (target.canonical) {
      const i = narrow.find(m, path)
      if (i !== -1) narrowHit = narrowEntries[i] as number
    }
    // `public` entries come before every rule: when one matched, no rule can change the outcome.
    const settled = narrowHit !== -1 && (entries[narrowHit] as Entry).source === 'public'
    // Protective rules meet the path as every lenient router could read it: raw, and with `//`
    // folded, `\` read as `/` and `;…` dropped, with and without percent-decoding, with and
    // without resolving dot segments. Each form may hit another rule; all of them apply.
    const hits: number[] = []
    const rawHit = settled ? -1 : broad.find(m, path)
    if (rawHit !== -1) hits.push(broadEntries[rawHit] as number)
    if (!settled && (!target.canonical || path.includes('%'))) {
      for (const form of FORMS) {
        const spelled = normalizePath(path, form)
        if (spelled === path) continue
        const k = (form.decode ? broadDecoded : broad).find(m, spelled)
        if (k !== -1) hits.push(broadEntries[k] as number)
      }
    }

    let hit = narrowHit
    for (const h of hits) if (hit === -1 || h < hit) hit = h

    if (hit === -1) {
      trace?.({ step: 'rule', outcome: 'info', detail: `no rule matched: default '${fallback}' applies`, data: { source: 'default', access: fallback } })
      return { access: fallback, source: 'default', index: -1, target }
    }
    const entry = entries[hit] as Entry
    const resolution: Resolution = { access: entry.access, source: entry.source, index: entry.index, pattern: entry.pattern, target }
    if (entry.rule !== undefined) resolution.rule = entry.rule
    const others: Entry[] = []
    if (hit !== narrowHit) {
      for (const h of hits) {
        const candidate = entries[h] as Entry
        if (candidate.rule !== undefined && candidate.rule !== entry.rule && !others.some((o) => o.rule === candidate.rule)) others.push(candidate)
      }
    }
    if (others.length) resolution.also = others.map((o) => o.rule as CompiledRule)
    if (trace !== undefined) {
      trace({
        step: 'rule',
        outcome: 'info',
        detail: `${entry.source}[${entry.index}] '${entry.pattern}' matched${hit === narrowHit || hits[0] === hit ? ' the path' : ' a normalised spelling of the path'}: ${describe(entry)}`,
        data: { source: entry.source, index: entry.index, pattern: entry.pattern, access: entry.access, form: hit === narrowHit || hits[0] === hit ? 'raw' : 'normalised' },
      })
      for (const other of others) {
        trace({
          step: 'rule',
          outcome: 'info',
          detail: `${other.source}[${other.index}] '${other.pattern}' matched another spelling of the path: ${describe(other)}; every rule a spelling matches applies`,
          data: { source: other.source, index: other.index, pattern: other.pattern, access: other.access, also: true },
        })
      }
    }
    return resolution
  }

  return { resolve }
}

function describe(entry: Entry): string {
  const rule = entry.rule
  if (entry.access === 'public' || rule === undefined) return 'public'
  const needs: string[] = []
  if (rule.roles.length > 0) needs.push(`roles ${rule.roles.join(', ')}`)
  if (rule.scopes.length > 0) needs.push(`scopes ${rule.scopes.join(', ')}`)
  if (rule.check !== undefined) needs.push('a check')
  return needs.length === 0 ? 'authentication required' : `needs ${needs.join(' and ')}`
}
