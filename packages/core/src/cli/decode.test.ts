import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeToken, stripBearer, tokenLines, tokenSecrets } from './decode.js'

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const SIGNATURE = 'dGhpcy1pcy1hLXNpZ25hdHVyZS1zZWdtZW50LXh5eg'
const jwt = (header: unknown, claims: unknown, signature = SIGNATURE) => `${b64(header)}.${b64(claims)}.${signature}`

describe('decodeToken', () => {
  it('returns the header, the claims and only the length of the signature', () => {
    const decoded = decodeToken(jwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'u1', exp: 1 }))
    expect(decoded).toEqual({ ok: true, header: { alg: 'HS256', typ: 'JWT' }, claims: { sub: 'u1', exp: 1 }, signatureLength: SIGNATURE.length })
  })

  it('accepts a pasted header value with the Bearer scheme and surrounding whitespace', () => {
    expect(decodeToken(`  Bearer ${jwt({ alg: 'HS256' }, {})}\n`).ok).toBe(true)
    expect(stripBearer('bearer   abc')).toBe('abc')
  })

  it.each([
    ['', 'the token is empty'],
    ['abc', 'it has 1 segment; a JWT has 3'],
    ['a.b', 'it has 2 segments; a JWT has 3'],
    ['a.b.c.d.e', 'JWE'],
    [`${b64({ alg: 'HS256' })}=.${b64({})}.x`, 'padding "=" is not allowed'],
    [`${b64({ alg: 'HS256' })}.a+b/.x`, 'base64 "+" or "/"'],
    [`${b64('not json')}.${b64({})}.x`, 'the header segment does not decode to JSON'],
    [`${b64({ alg: 'HS256' })}.${b64([1, 2])}.x`, 'the payload segment is JSON but not an object (found an array)'],
    [`${b64({ alg: 'HS256' })}.${b64('null')}.x`, 'found null'],
    [`.${b64({})}.x`, 'the header segment is empty'],
    [`${b64({ alg: 'HS256' })}.${b64({})}.si=g`, 'the signature segment is not base64url'],
  ])('refuses %j with a clear reason', (token, reason) => {
    const decoded = decodeToken(token)
    expect(decoded.ok).toBe(false)
    if (!decoded.ok) expect(decoded.reason).toContain(reason)
  })

  it('never throws, and its reason never quotes the input (property)', () => {
    const segment = fc.oneof(fc.string(), fc.base64String(), fc.json().map((j) => Buffer.from(j).toString('base64url')))
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => s.join('.')), (token) => {
        const decoded = decodeToken(token)
        if (!decoded.ok && token.trim().length >= 12) expect(decoded.reason).not.toContain(token.trim())
      }),
    )
  })
})

describe('tokenLines', () => {
  const now = Date.UTC(2026, 10, 30, 10, 3, 12)
  const exp = Date.UTC(2026, 10, 30, 10, 0, 0) / 1000

  it('lists header fields and claims with humanised times, never the signature', () => {
    const token = jwt({ alg: 'RS256', kid: 'k1' }, { sub: 'alice', aud: ['backend'], exp, iat: exp - 900 })
    const decoded = decodeToken(token)
    if (!decoded.ok) throw new Error(decoded.reason)
    const text = tokenLines(decoded, now).join('\n')
    expect(text).toContain('"RS256"')
    expect(text).toMatch(/kid\s+"k1"/)
    expect(text).toMatch(/aud\s+\["backend"\]/)
    expect(text).toContain('exp  2026-11-30T10:00:00Z (expired 3m 12s ago)')
    expect(text).toContain('iat  2026-11-30T09:45:00Z (issued 18m 12s ago)')
    expect(text).toContain(`signature  ${SIGNATURE.length} chars (never shown)`)
    expect(text).not.toContain(SIGNATURE)
  })

  it('names an empty signature as an unsecured token', () => {
    const decoded = decodeToken(jwt({ alg: 'none' }, { sub: 'x' }, ''))
    if (!decoded.ok) throw new Error(decoded.reason)
    expect(tokenLines(decoded, now).join('\n')).toContain('none (empty segment: an unsecured token)')
  })
})

describe('tokenSecrets', () => {
  it('yields the bare token and its signature for the scrubber', () => {
    const token = jwt({ alg: 'HS256' }, {})
    expect(tokenSecrets(`Bearer ${token}`)).toEqual([token, SIGNATURE])
    expect(tokenSecrets('opaque-token-value')).toEqual(['opaque-token-value'])
  })
})
