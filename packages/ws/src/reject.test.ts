import type { DenyResponse } from '@gatehouse/core'
import { describe, expect, it } from 'vitest'
import { CLOSE_CODES, headerLine, httpDenyResponse, unavailable } from './reject.js'

const auth = {
  realm: 'api',
  checkUpgrade: () => Promise.reject(new Error('unused')),
  decide: () => Promise.reject(new Error('unused')),
  respond: () => {
    throw new Error('unused')
  },
}

describe('httpDenyResponse', () => {
  it('writes a complete HTTP/1.1 response with Connection: close and an exact Content-Length', () => {
    const response: DenyResponse = {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="api"', 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      body: '{"error":"credentials_missing","message":"Authentication required. ✓"}',
    }
    const raw = httpDenyResponse(response)
    const [head, body] = raw.split('\r\n\r\n')
    expect(head?.split('\r\n')).toEqual([
      'HTTP/1.1 401 Unauthorized',
      'Connection: close',
      'WWW-Authenticate: Bearer realm="api"',
      'Content-Type: application/json; charset=utf-8',
      'Cache-Control: no-store',
      `Content-Length: ${Buffer.byteLength(response.body)}`,
    ])
    expect(body).toBe(response.body)
    // The check mark is three bytes: a character count would cut the body short.
    expect(Buffer.byteLength(response.body)).toBe(response.body.length + 2)
  })

  it('uses the reason phrase of each deny status', () => {
    for (const [status, reason] of [[401, 'Unauthorized'], [403, 'Forbidden'], [503, 'Service Unavailable']] as const) {
      expect(httpDenyResponse({ status, headers: {}, body: '{}' }).split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${reason}`)
    }
  })

  it('drops a header whose value would split the response', () => {
    const raw = httpDenyResponse({ status: 403, headers: { 'x-a': 'ok', 'x-b': 'evil\r\nSet-Cookie: sid=planted' }, body: '{}' })
    expect(raw).toContain('X-A: ok')
    expect(raw).not.toContain('planted')
  })
})

describe('headerLine', () => {
  it('title-cases names and refuses CR, LF and NUL', () => {
    expect(headerLine('set-cookie', 'sid=1; Path=/')).toBe('Set-Cookie: sid=1; Path=/')
    expect(headerLine('x-a', 'a\nb')).toBeUndefined()
    expect(headerLine('x-a', 'a\rb')).toBeUndefined()
    expect(headerLine('x-a', 'a\0b')).toBeUndefined()
    expect(headerLine('x-a\r\nx-b', 'v')).toBeUndefined()
  })
})

describe('CLOSE_CODES', () => {
  it('maps 401 to 4401, 403 to 4403 and 503 to 1011', () => {
    expect(CLOSE_CODES).toEqual({ 401: 4401, 403: 4403, 503: 1011 })
  })
})

describe('unavailable', () => {
  it('fails closed with 503 auth_unavailable and names the error in the hint', () => {
    const deny = unavailable(auth, new TypeError('store exploded'))
    expect(deny).toMatchObject({ ok: false, status: 503, code: 'auth_unavailable', hint: 'checkUpgrade failed: TypeError: store exploded' })
    expect(unavailable(auth, 42).hint).toBe('checkUpgrade failed with a non-Error value (number)')
    expect(unavailable(auth, 'closed').hint).toBe('closed')
  })
})
