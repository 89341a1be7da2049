import type { AllowVia, AuthRequest, DecisionEvent, DenyCode } from '@gatehouse/core'

/** One line of the live decision log, as the page shows it. Holds no credential. */
export interface LogEntry {
  id: number
  /** Epoch milliseconds. */
  time: number
  method: string
  /** The path without the query (which may carry tokens). */
  path: string
  upgrade: boolean
  outcome: 'allow' | 'deny'
  via?: AllowVia
  /** The principal's id, when one was established. */
  user?: string
  /**
   * For a deny, the deny's status. For an allowed HTTP request, the status the route answered
   * with (a public `/auth/refresh` can still answer 401 itself); 101 for an allowed upgrade.
   */
  status: number
  code?: DenyCode
  hint?: string
  durationMs: number
}

/** The live decision log: a bounded list of entries, and the requests behind them for `explain`. */
export interface DecisionLog {
  /** Creates the entry for a decision; it is shown once {@link DecisionLog.publish} is called. */
  add(event: DecisionEvent, request: AuthRequest | undefined): LogEntry
  /** Shows an entry (after its response status is known). */
  publish(entry: LogEntry): void
  /** The published entries, oldest first. */
  entries(): LogEntry[]
  /**
   * The request behind an entry, with its real headers: `explain` needs them. Server-side only;
   * never send it to a client unredacted (see {@link redactRequest}).
   */
  request(id: number): { request: AuthRequest; upgrade: boolean } | undefined
  /** Calls `listener` for every entry published from now on; returns the unsubscribe function. */
  subscribe(listener: (entry: LogEntry) => void): () => void
}

/**
 * Creates a decision log that keeps the last `max` entries and requests. Old ones are dropped,
 * so the memory it holds is bounded however long the demo runs.
 */
export function createDecisionLog(max = 100): DecisionLog {
  let nextId = 1
  const published: LogEntry[] = []
  const requests = new Map<number, { request: AuthRequest; upgrade: boolean }>()
  const listeners = new Set<(entry: LogEntry) => void>()

  return {
    add(event, request) {
      const d = event.decision
      const entry: LogEntry = {
        id: nextId++,
        time: event.time,
        method: event.method,
        path: event.path,
        upgrade: event.upgrade,
        outcome: d.ok ? 'allow' : 'deny',
        status: d.ok ? (event.upgrade ? 101 : 200) : d.status,
        durationMs: Math.round(event.durationMs * 100) / 100,
      }
      if (d.ok) {
        entry.via = d.via
        if (d.principal) entry.user = d.principal.id
      } else {
        entry.code = d.code
        if (d.hint !== undefined) entry.hint = d.hint
      }
      if (request !== undefined) {
        requests.set(entry.id, { request, upgrade: event.upgrade })
        // Entries can be created and never published (a request whose response never ends); the
        // request table is bounded on its own so such entries cannot pile up either.
        while (requests.size > max) requests.delete(requests.keys().next().value as number)
      }
      return entry
    },
    publish(entry) {
      published.push(entry)
      while (published.length > max) {
        const dropped = published.shift() as LogEntry
        requests.delete(dropped.id)
      }
      for (const listener of listeners) listener(entry)
    },
    entries: () => [...published],
    request: (id) => requests.get(id),
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

/** `eyJhbG…(213 chars)`: enough to tell two tokens apart in a demo, never enough to use one. */
export function redactValue(value: string): string {
  return `${value.slice(0, 6)}…(${value.length} chars)`
}

const PROTOCOL_BEARER = 'gatehouse.bearer.'

function redactHeader(name: string, value: string): string {
  if (name === 'authorization') {
    const space = value.indexOf(' ')
    return space === -1 ? redactValue(value) : `${value.slice(0, space)} ${redactValue(value.slice(space + 1))}`
  }
  if (name === 'cookie') {
    return value
      .split(';')
      .map((pair) => {
        const eq = pair.indexOf('=')
        return eq === -1 ? pair.trim() : `${pair.slice(0, eq).trim()}=…(${pair.slice(eq + 1).trim().length} chars)`
      })
      .join('; ')
  }
  if (name === 'sec-websocket-protocol') {
    return value
      .split(',')
      .map((p) => {
        const v = p.trim()
        return v.startsWith(PROTOCOL_BEARER) ? `${PROTOCOL_BEARER}${redactValue(v.slice(PROTOCOL_BEARER.length))}` : v
      })
      .join(', ')
  }
  if (name === 'sec-websocket-key') return '…'
  return value
}

/** Query values are redacted too: `?access_token=…` is a classic way to leak a token into logs. */
function redactUrl(url: string): string {
  const q = url.indexOf('?')
  if (q === -1) return url
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      return eq === -1 ? pair : `${pair.slice(0, eq)}=…(${pair.length - eq - 1} chars)`
    })
    .join('&')
  return `${url.slice(0, q)}?${query}`
}

/** A copy of a request fit to show: credential values in headers and the query are redacted. */
export function redactRequest(request: AuthRequest): AuthRequest {
  const headers: AuthRequest['headers'] = {}
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue
    headers[name] = Array.isArray(value) ? value.map((v) => redactHeader(name, v)) : redactHeader(name, value)
  }
  return { method: request.method, url: redactUrl(request.url), headers }
}

/**
 * Every credential value a request carries (bearer tokens, cookie values, subprotocol tokens,
 * query values), so that text about the request can be scrubbed of them whatever produced it.
 */
export function credentialValues(request: AuthRequest): string[] {
  const found: string[] = []
  const all = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v])
  for (const v of all(request.headers.authorization)) found.push(v, v.slice(v.indexOf(' ') + 1))
  for (const v of all(request.headers.cookie)) {
    for (const pair of v.split(';')) found.push(pair.slice(pair.indexOf('=') + 1).trim())
  }
  for (const v of all(request.headers['sec-websocket-protocol'])) {
    for (const p of v.split(',')) if (p.trim().startsWith(PROTOCOL_BEARER)) found.push(p.trim().slice(PROTOCOL_BEARER.length))
  }
  const q = request.url.indexOf('?')
  if (q !== -1) for (const pair of request.url.slice(q + 1).split('&')) found.push(pair.slice(pair.indexOf('=') + 1))
  // Short values (a theme=dark cookie) are not secrets, and replacing them would mangle the text.
  return [...new Set(found.filter((v) => v.length >= 8))].sort((a, b) => b.length - a.length)
}

/** Replaces every occurrence of the given values in `text` with their redacted form. */
export function scrub(text: string, values: readonly string[]): string {
  let out = text
  for (const v of values) out = out.split(v).join(redactValue(v))
  return out
}
