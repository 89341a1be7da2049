import type { TraceStep } from '../trace.js'

/** Where the CLI writes, and what it knows about the terminal. Injected so output can be tested. */
export interface Io {
  out(line: string): void
  err(line: string): void
  /** ANSI colours on: only when stdout is a TTY and `NO_COLOR` is unset. */
  color: boolean
  /** Epoch milliseconds; times in tokens are shown relative to it. */
  now(): number
}

/** Whether to colour output, per https://no-color.org and the TTY check. */
export function wantsColor(isTTY: boolean | undefined, env: Record<string, string | undefined>): boolean {
  return isTTY === true && env.NO_COLOR === undefined
}

/** ANSI styling that collapses to plain text when colours are off. */
export interface Paint {
  green(s: string): string
  red(s: string): string
  yellow(s: string): string
  dim(s: string): string
  bold(s: string): string
}

const PLAIN: Paint = { green: (s) => s, red: (s) => s, yellow: (s) => s, dim: (s) => s, bold: (s) => s }
const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`
const ANSI: Paint = { green: sgr(32, 39), red: sgr(31, 39), yellow: sgr(33, 39), dim: sgr(2, 22), bold: sgr(1, 22) }

export function paint(color: boolean): Paint {
  return color ? ANSI : PLAIN
}

// C0 (tab and newline included), DEL, C1, line/paragraph separators, bidi controls and BOM: a
// token claim or a request path must not move the cursor, recolour or reorder the operator's terminal.
// eslint-disable-next-line no-control-regex -- matching control characters is the purpose
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g

/** Makes text from a token, a request or a hint safe to print on one terminal line. */
export function clean(text: string): string {
  return text.replace(CONTROL, '?')
}

/** Values shorter than this are redacted to their length alone: a 6-character prefix would give most of them away. */
const PREFIX_MIN_LENGTH = 24

/**
 * The printable stand-in for a token or other secret: its first 6 characters, `…` and its length
 * (`eyJhbG…(187 chars)`). Short values show only their length.
 */
export function redact(value: string): string {
  const head = value.length >= PREFIX_MIN_LENGTH ? clean(value.slice(0, 6)) : ''
  return `${head}…(${value.length} chars)`
}

/**
 * Builds a last line of defence for everything the CLI prints: every occurrence of a secret the
 * request carried (token, signature segment, cookie value) is replaced by its redacted form, even
 * inside a hint or trace step that was never meant to contain it.
 */
export function createScrubber(secrets: Iterable<string>): (text: string) => string {
  // Longest first, so a whole token is replaced before its signature segment would be.
  const list = [...new Set(secrets)].filter((s) => s.length >= 8).sort((a, b) => b.length - a.length)
  if (list.length === 0) return (text) => text
  return (text) => {
    let out = text
    for (const secret of list) if (out.includes(secret)) out = out.split(secret).join(redact(secret))
    return out
  }
}

const UNITS: Array<[string, number]> = [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]]

/** A span of seconds for people: the two largest units from the first non-zero one (`3m 12s`, `2h 5m`, `1h`, `0s`). */
export function humanDuration(seconds: number): string {
  let rest = Math.floor(Math.abs(seconds))
  const parts: string[] = []
  let used = 0
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (used === 0 && n === 0) continue
    if (n > 0) parts.push(`${n}${unit}`)
    if (++used === 2) break
  }
  return parts.length ? parts.join(' ') : '0s'
}

/** Epoch seconds as an ISO 8601 UTC instant, without milliseconds when they are zero. */
export function isoTime(seconds: number): string {
  const ms = seconds * 1000
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return `${seconds} (out of range)`
  return new Date(ms).toISOString().replace('.000Z', 'Z')
}

/** Claims that hold NumericDate values (RFC 7519 §2) and are shown as times. */
export const TIME_CLAIMS = new Set(['exp', 'nbf', 'iat', 'auth_time'])

/**
 * A NumericDate claim with its meaning relative to now:
 * `2026-11-30T10:00:00Z (expired 3m 12s ago)`, `… (expires in 14m 48s)`, `… (issued 2h 5m ago)`.
 */
export function describeTime(claim: string, value: unknown, nowMs: number): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${clean(JSON.stringify(value) ?? String(value))} (not a NumericDate: must be a finite number of seconds)`
  const delta = value - nowMs / 1000
  const span = humanDuration(delta)
  const future = delta > 0
  let relative: string
  switch (claim) {
    case 'exp':
      relative = future ? `expires in ${span}` : `expired ${span} ago`
      break
    case 'nbf':
      relative = future ? `not valid for another ${span}` : `valid since ${span} ago`
      break
    case 'iat':
      relative = future ? `issued ${span} in the future: check the issuer's clock` : `issued ${span} ago`
      break
    default:
      relative = future ? `in ${span}` : `${span} ago`
  }
  return `${isoTime(value)} (${relative})`
}

const MAX_VALUE = 300

/** A claim or header value as compact JSON on one line, cut to a readable length. */
export function showValue(value: unknown): string {
  const json = clean(JSON.stringify(value) ?? String(value))
  return json.length > MAX_VALUE ? `${json.slice(0, MAX_VALUE)}… (${json.length} chars)` : json
}

/** Name/value lines with the names padded to one column. */
export function columns(rows: ReadonlyArray<readonly [string, string]>, indent = '  '): string[] {
  const width = Math.max(0, ...rows.map(([name]) => name.length))
  return rows.map(([name, value]) => `${indent}${name.padEnd(width)}  ${value}`)
}

const MARKS: Record<TraceStep['outcome'], string> = { pass: '✓', fail: '✗', info: '·', skip: '·' }

/** One trace step as a line: `✓ signature   HS256 signature verified with key hs:3f9a…`. */
export function stepLines(steps: readonly TraceStep[], p: Paint): string[] {
  const width = Math.max(0, ...steps.map((s) => clean(s.step).length))
  return steps.map((s) => {
    const mark = MARKS[s.outcome]
    const coloured = s.outcome === 'pass' ? p.green(mark) : s.outcome === 'fail' ? p.red(mark) : p.dim(mark)
    const name = clean(s.step).padEnd(width)
    const detail = s.outcome === 'skip' ? p.dim(`skipped: ${clean(s.detail)}`) : clean(s.detail)
    return `  ${coloured} ${s.outcome === 'fail' ? p.bold(name) : name}  ${detail}`
  })
}
