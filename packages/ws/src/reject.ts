import { STATUS_CODES } from 'node:http'
import type { Auth, Deny, DenyResponse } from '@gatehouse/core'
import { denyDecision } from '@gatehouse/core'

/**
 * The WebSocket close code for each deny status, used by `reject: 'close'`, by expiry and by
 * re-validation. 4401 and 4403 sit in the range RFC 6455 leaves to applications and mirror the
 * HTTP statuses; 1011 is the standard "server error" code for 503 `auth_unavailable`.
 */
export const CLOSE_CODES = { 401: 4401, 403: 4403, 503: 1011 } as const satisfies Record<Deny['status'], number>

/** The parts of `Auth` the upgrade handler uses; `createAuth` returns them. */
export type UpgradeAuth = Pick<Auth, 'checkUpgrade' | 'decide' | 'respond' | 'realm'>

// A value that would end the header line is dropped rather than written: it would split the response.
const UNSAFE_HEADER_VALUE = /[\r\n\0]/

function headerName(name: string): string {
  if (name === 'www-authenticate') return 'WWW-Authenticate'
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase())
}

/** `Name: value` for a raw HTTP head, or `undefined` when the value cannot be written safely. */
export function headerLine(name: string, value: string): string | undefined {
  return UNSAFE_HEADER_VALUE.test(value) || UNSAFE_HEADER_VALUE.test(name) ? undefined : `${headerName(name)}: ${value}`
}

/**
 * Serialises a deny as the complete HTTP/1.1 response written on the raw upgrade socket:
 * status line, `Connection: close`, the headers `auth.respond` chose (content type,
 * `WWW-Authenticate`, …), `Content-Length` and the JSON body.
 */
export function httpDenyResponse(response: DenyResponse): string {
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ''}`, 'Connection: close']
  for (const [name, value] of Object.entries(response.headers)) {
    const line = headerLine(name, value)
    if (line !== undefined) lines.push(line)
  }
  lines.push(`Content-Length: ${Buffer.byteLength(response.body)}`)
  return `${lines.join('\r\n')}\r\n\r\n${response.body}`
}

/**
 * The deny used when `checkUpgrade` itself failed (a rejected promise) or the handler is closed:
 * 503 `auth_unavailable`, failing closed.
 */
export function unavailable(auth: UpgradeAuth, why: unknown): Deny {
  const hint =
    typeof why === 'string' ? why
    : why instanceof Error ? `checkUpgrade failed: ${why.name}: ${why.message.slice(0, 200)}`
    : `checkUpgrade failed with a non-Error value (${typeof why})`
  return denyDecision('auth_unavailable', hint, { realm: auth.realm, presented: 'none' })
}
