// Formatting for hints. Everything shown here may come from a hostile token, so values are
// truncated (a claim can carry megabytes) and stripped of control and bidi characters (a hint
// ends up in logs and terminals, where those could forge lines or reorder text).

const MAX_SHOWN = 64
const MAX_ITEMS = 5
// C0, DEL, C1, line/paragraph separators, bidi embeddings/overrides/isolates, BOM.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g

/** A presented string made safe for a hint: control characters removed, at most 64 characters. */
export function clean(value: string): string {
  const short = value.length > MAX_SHOWN * 2 ? value.slice(0, MAX_SHOWN * 2) : value
  const safe = short.replace(UNSAFE, '')
  return safe.length > MAX_SHOWN ? `${safe.slice(0, MAX_SHOWN)}…` : safe
}

/** A presented value as a hint shows it: strings quoted, arrays as lists, anything else by type. */
export function show(value: unknown): string {
  if (typeof value === 'string') return `'${clean(value)}'`
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value)
  if (value === undefined) return 'none'
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => (Array.isArray(v) ? '[…]' : typeof v === 'object' && v !== null ? '{…}' : show(v)))
    const more = value.length > MAX_ITEMS ? `, … (+${value.length - MAX_ITEMS} more)` : ''
    return `[${items.join(', ')}${more}]`
  }
  return 'an object'
}

/** A list of expected values from the configuration (trusted, but still bounded). */
export function showList(values: readonly string[]): string {
  return show(values as unknown[])
}

/** `3m12s`, `2h5m`, `4d3h`, `850ms`: short, for "expired 3m12s ago". */
export function formatDuration(seconds: number): string {
  const s = Math.abs(seconds)
  if (!Number.isFinite(s)) return 'forever'
  if (s < 1) return `${Math.round(s * 1000)}ms`
  const whole = Math.floor(s)
  const d = Math.floor(whole / 86400)
  const h = Math.floor((whole % 86400) / 3600)
  const m = Math.floor((whole % 3600) / 60)
  const sec = whole % 60
  if (d > 0) return h > 0 ? `${d}d${h}h` : `${d}d`
  if (h > 0) return m > 0 ? `${h}h${m}m` : `${h}h`
  if (m > 0) return sec > 0 ? `${m}m${sec}s` : `${m}m`
  return `${sec}s`
}

/** A NumericDate (seconds) as `2026-11-30T10:00:00Z`, or the raw number when out of range. */
export function isoTime(seconds: number): string {
  const ms = seconds * 1000
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return String(seconds)
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}
