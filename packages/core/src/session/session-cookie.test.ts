import { createHmac } from 'node:crypto'
import { parseSetCookie } from 'cookie'
import { describe, expect, it } from 'vitest'
import { createCookieWriter, isSessionId, MAX_COOKIE_VALUE, newSessionId, signSessionId, storeKey, unsignSessionCookie } from './session-cookie.js'

const secret = 'a'.repeat(32)
const other = 'b'.repeat(32)

describe('session ids', () => {
  it('are 256 random bits in base64url, never repeating', () => {
    const ids = new Set(Array.from({ length: 2000 }, newSessionId))
    expect(ids.size).toBe(2000)
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(Buffer.from(id, 'base64url')).toHaveLength(32)
      expect(isSessionId(id)).toBe(true)
    }
  })

  it('are stored under a hash that does not contain them', () => {
    const id = newSessionId()
    const key = storeKey(id)
    expect(key).not.toContain(id)
    expect(key).toBe(storeKey(id))
    expect(key).not.toBe(storeKey(newSessionId()))
  })
})

describe('signSessionId / unsignSessionCookie', () => {
  it('round-trips and reports which secret matched', () => {
    const id = newSessionId()
    expect(unsignSessionCookie(signSessionId(id, secret), [secret])).toEqual({ ok: true, id, secretIndex: 0 })
    expect(unsignSessionCookie(signSessionId(id, other), [secret, other])).toEqual({ ok: true, id, secretIndex: 1 })
  })

  it('the signature is HMAC-SHA256 of the id in base64url', () => {
    const id = newSessionId()
    expect(signSessionId(id, secret)).toBe(`${id}.${createHmac('sha256', secret).update(id).digest('base64url')}`)
  })

  it('refuses a value signed with a secret that is not configured', () => {
    expect(unsignSessionCookie(signSessionId(newSessionId(), other), [secret])).toEqual({ ok: false, reason: 'signature' })
  })

  it('refuses every single-character change, including the spare bits of the last character', () => {
    const value = signSessionId(newSessionId(), secret)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    for (const position of [0, 21, 42, 44, 70, 86]) {
      for (const c of alphabet) {
        if (c === value[position]) continue
        const changed = value.slice(0, position) + c + value.slice(position + 1)
        expect(unsignSessionCookie(changed, [secret]).ok).toBe(false)
      }
    }
  })

  it('refuses malformed and oversized values with a reason', () => {
    const value = signSessionId(newSessionId(), secret)
    for (const bad of ['', '.', value.slice(0, -1), `${value}A`, value.replace('.', ':'), `${value.split('.')[0]}`, `x${value}`, `${value} `, value.replace('.', '.=')]) {
      expect(unsignSessionCookie(bad, [secret])).toEqual({ ok: false, reason: 'malformed' })
    }
    expect(unsignSessionCookie('a'.repeat(MAX_COOKIE_VALUE + 1), [secret])).toEqual({ ok: false, reason: 'oversized' })
  })
})

describe('createCookieWriter', () => {
  const attributes = { name: '__Host-gatehouse.sid', secure: true, sameSite: 'lax' as const, path: '/' }

  it('writes HttpOnly, Secure, SameSite, Path and a whole-second Max-Age', () => {
    const header = createCookieWriter(attributes).write('v.v', 1799.9)
    expect(header).toBe('__Host-gatehouse.sid=v.v; Max-Age=1799; Path=/; HttpOnly; Secure; SameSite=Lax')
  })

  it('writes Domain when configured and omits Secure when not secure', () => {
    const header = createCookieWriter({ name: 'sid', secure: false, sameSite: 'strict', domain: 'example.com', path: '/app' }).write('v', 60)
    const parsed = parseSetCookie(header)
    expect(parsed).toMatchObject({ name: 'sid', value: 'v', maxAge: 60, domain: 'example.com', path: '/app', httpOnly: true, sameSite: 'strict' })
    expect(parsed.secure).toBeFalsy()
  })

  it('clears with an empty value, Max-Age=0 and the same attributes', () => {
    const writer = createCookieWriter({ ...attributes, name: '__Secure-sid', domain: 'example.com', sameSite: 'none' })
    expect(writer.clear).toBe('__Secure-sid=; Max-Age=0; Domain=example.com; Path=/; HttpOnly; Secure; SameSite=None')
  })

  it('never writes a negative Max-Age', () => {
    expect(createCookieWriter(attributes).write('v', -5)).toContain('Max-Age=0;')
  })
})
