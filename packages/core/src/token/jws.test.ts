import { constants, createHmac, createSecretKey, generateKeyPairSync, sign } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ALGORITHMS, verifyKeyInput } from './algorithms.js'
import { parseCompactJws, type ParsedJws, verifyAsymmetric, verifyHmac } from './jws.js'

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const HEADER = b64({ alg: 'HS256', typ: 'JWT' })
const PAYLOAD = b64({ sub: 'user-1', exp: 2_000_000_000 })
const SIGNATURE = Buffer.alloc(32, 7).toString('base64url')
const TOKEN = `${HEADER}.${PAYLOAD}.${SIGNATURE}`

function reason(token: string, max = 8192): unknown {
  const result = parseCompactJws(token, max)
  return result.ok ? 'ok' : result.detail?.reason
}

function parsed(token: string): ParsedJws {
  const result = parseCompactJws(token, 8192)
  if (!result.ok) throw new Error(`expected a parse, got ${result.hint}`)
  return result
}

describe('parseCompactJws', () => {
  it('splits and decodes a compact JWS', () => {
    const result = parsed(TOKEN)
    expect(result.header).toEqual({ alg: 'HS256', typ: 'JWT' })
    expect(result.claims).toEqual({ sub: 'user-1', exp: 2_000_000_000 })
    expect(result.signature.equals(Buffer.alloc(32, 7))).toBe(true)
    expect(TOKEN.slice(0, result.signingInputEnd)).toBe(`${HEADER}.${PAYLOAD}`)
  })

  it('accepts an empty signature segment at this stage (the verifier refuses it as unsigned)', () => {
    expect(parsed(`${HEADER}.${PAYLOAD}.`).signature.length).toBe(0)
  })

  it.each([
    ['', 'empty'],
    ['abc', 'segment_count'],
    [`${HEADER}.${PAYLOAD}`, 'segment_count'],
    [`${TOKEN}.extra`, 'segment_count'],
    [`${TOKEN}.`, 'segment_count'],
    [`${HEADER}.a.b.c.d`, 'segment_count'],
    [`.${PAYLOAD}.${SIGNATURE}`, 'empty_segment'],
    [`${HEADER}..${SIGNATURE}`, 'empty_segment'],
  ])('refuses %j as %s', (token, why) => {
    expect(reason(token)).toBe(why)
  })

  it('names a 5-segment token as a JWE', () => {
    const result = parseCompactJws('a.b.c.d.e', 8192)
    expect(result.ok === false && result.hint).toMatch(/encrypted JWE/)
  })

  it('refuses tokens over the size bound before decoding them', () => {
    expect(reason(TOKEN, TOKEN.length)).toBe('ok')
    expect(reason(TOKEN, TOKEN.length - 1)).toBe('too_large')
  })

  it('refuses padding, whitespace and the base64 alphabet in every segment', () => {
    for (const segment of [0, 1, 2]) {
      const parts = TOKEN.split('.')
      const original = parts[segment]!
      const variants: Array<[string, string]> = [
        [`${original}=`, 'base64url_padding'],
        [`${original.slice(0, 4)} ${original.slice(4)}`, 'base64url_whitespace'],
        [`${original.slice(0, 4)}\n${original.slice(4)}`, 'base64url_whitespace'],
        [`${original.slice(0, 4)}\t${original.slice(4)}`, 'base64url_whitespace'],
        [`${original.slice(0, 4)}+${original.slice(5)}`, 'base64url_alphabet'],
        [`${original.slice(0, 4)}/${original.slice(5)}`, 'base64url_alphabet'],
        [`${original.slice(0, 4)}\u0000${original.slice(5)}`, 'base64url_alphabet'],
      ]
      for (const [variant, why] of variants) {
        const copy = [...parts]
        copy[segment] = variant
        expect(reason(copy.join('.')), `${why} in segment ${segment}`).toBe(why)
      }
    }
  })

  it('refuses every non-alphabet ASCII character at every position of short segments', () => {
    // Guards the native fast path: whatever the runtime's base64 decoder does with a stray
    // character, the token must be refused.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    let tried = 0
    for (let code = 0; code < 128; code++) {
      const ch = String.fromCharCode(code)
      if (alphabet.includes(ch)) continue
      for (const segment of [0, 1, 2]) {
        const parts = TOKEN.split('.')
        const original = parts[segment]!
        for (const pos of [0, 1, 2, 3, 5, original.length - 2, original.length - 1]) {
          const copy = [...parts]
          copy[segment] = original.slice(0, pos) + ch + original.slice(pos + 1)
          const inserted = [...parts]
          inserted[segment] = original.slice(0, pos) + ch + original.slice(pos)
          for (const candidate of [copy.join('.'), inserted.join('.')]) {
            tried++
            // A '.' changes the segment count; everything else must be caught as a base64url
            // fault (not, say, as bad JSON after a lenient decode).
            const why = String(reason(candidate))
            expect(why, `U+${code.toString(16)} at ${pos} of segment ${segment}`).toMatch(code === 0x2e ? /^segment_count$/ : /^base64url_/)
          }
        }
      }
    }
    expect(tried).toBeGreaterThan(2500)
  })

  it('refuses non-ASCII characters, including ones whose low byte is in the alphabet', () => {
    // Node's decoder reads U+0144 as 'D' (its low byte): without the ASCII check the signature
    // segment could be re-spelled and still verify.
    for (const ch of ['\u0144', '\u0141', '\u4e41', '\u00e9', '\u{1F600}', '\u00ff', '\u0080']) {
      const sig = `${SIGNATURE.slice(0, 10)}${ch}${SIGNATURE.slice(11)}`
      expect(reason(`${HEADER}.${PAYLOAD}.${sig}`), ch).toBe('base64url_alphabet')
      expect(reason(`${HEADER}.${PAYLOAD.slice(0, 5)}${ch}${PAYLOAD.slice(6)}.${SIGNATURE}`), ch).toBe('base64url_alphabet')
    }
  })

  it('refuses a length that cannot encode whole bytes (truncation)', () => {
    const sig = SIGNATURE.slice(0, 41) // 43 chars → 41 ≡ 1 (mod 4)
    expect(reason(`${HEADER}.${PAYLOAD}.${sig}`)).toBe('base64url_length')
  })

  it('refuses non-canonical trailing bits, so one token has one spelling', () => {
    // 32 bytes → 43 chars, the last carrying 2 zero bits; 'B' sets one of them.
    const last = SIGNATURE.at(-1)!
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const value = alphabet.indexOf(last)
    const altered = `${SIGNATURE.slice(0, -1)}${alphabet[value | 1]}`
    expect(Buffer.from(altered, 'base64url').equals(Buffer.from(SIGNATURE, 'base64url'))).toBe(true)
    expect(reason(`${HEADER}.${PAYLOAD}.${altered}`)).toBe('base64url_noncanonical')
  })

  it('refuses invalid UTF-8, non-JSON and non-object JSON in header and payload', () => {
    const bad = Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url') // {"\xff":1}
    expect(reason(`${bad}.${PAYLOAD}.${SIGNATURE}`)).toBe('invalid_utf8')
    expect(reason(`${HEADER}.${bad}.${SIGNATURE}`)).toBe('invalid_utf8')
    expect(reason(`${b64('{not json')}.${PAYLOAD}.${SIGNATURE}`)).toBe('invalid_json')
    expect(reason(`${HEADER}.${b64('{"a":')}.${SIGNATURE}`)).toBe('invalid_json')
    for (const value of ['null', '[]', '"str"', '42', 'true']) {
      expect(reason(`${b64(value)}.${PAYLOAD}.${SIGNATURE}`), value).toBe('not_an_object')
      expect(reason(`${HEADER}.${b64(value)}.${SIGNATURE}`), value).toBe('not_an_object')
    }
  })

  it('refuses a UTF-8 byte order mark before the JSON (strict JSON)', () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ alg: 'HS256' }))]).toString('base64url')
    expect(reason(`${bom}.${PAYLOAD}.${SIGNATURE}`)).toBe('invalid_json')
  })

  it('keeps __proto__ keys as plain data', () => {
    const result = parsed(`${HEADER}.${b64('{"__proto__":{"admin":true},"sub":"x"}')}.${SIGNATURE}`)
    expect((result.claims as { admin?: unknown }).admin).toBeUndefined()
    expect(Object.getPrototypeOf(result.claims)).toBe(Object.prototype)
  })

  it('reuses a known header object for an identical header segment, and still checks the rest', () => {
    const known = { alg: 'HS256', typ: 'JWT', known: true }
    const headers = new Map([[HEADER, known]])
    const result = parseCompactJws(TOKEN, 8192, headers)
    expect(result.ok && result.header).toBe(known)
    expect(result.ok && result.headerKnown).toBe(true)
    expect(reason(`${HEADER}.${PAYLOAD}.${SIGNATURE}=`)).toBe('base64url_padding')
    const other = parseCompactJws(`${b64({ alg: 'HS384' })}.${PAYLOAD}.${SIGNATURE}`, 8192, headers)
    expect(other.ok && other.headerKnown).toBe(false)
    const damaged = parseCompactJws(`${HEADER}.${PAYLOAD} .${SIGNATURE}`, 8192, headers)
    expect(damaged.ok).toBe(false)
  })

  it('never puts the token in a hint', () => {
    const secretish = 'c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw'
    for (const token of [`${secretish} .a.b`, `${secretish}.${secretish}`, `${secretish}=.${PAYLOAD}.${SIGNATURE}`]) {
      const result = parseCompactJws(token, 8192)
      expect(result.ok).toBe(false)
      if (!result.ok) expect(result.hint).not.toContain(secretish.slice(0, 12))
    }
  })

  it('is linear on hostile input: a 1 MiB run of one character fails fast', () => {
    const hostile = `${'A'.repeat(512 * 1024)}.${'='.repeat(512 * 1024)}.x`
    const start = performance.now()
    expect(parseCompactJws(hostile, 2 * 1024 * 1024).ok).toBe(false)
    expect(performance.now() - start).toBeLessThan(500)
  })
})

describe('signature checks', () => {
  const input = `${HEADER}.${PAYLOAD}`

  it('verifies HMAC in constant time and refuses other lengths', () => {
    const secret = createSecretKey(Buffer.alloc(32, 1))
    const good = createHmac('sha256', secret).update(input).digest()
    const token = `${input}.${good.toString('base64url')}`
    const hs256 = ALGORITHMS.get('HS256')!
    expect(verifyHmac(hs256, secret, token, input.length, good)).toBe(true)
    expect(verifyHmac(hs256, secret, token, input.length, good.subarray(0, 31))).toBe(false)
    const flipped = Buffer.from(good)
    flipped[0] = flipped[0]! ^ 1
    expect(verifyHmac(hs256, secret, token, input.length, flipped)).toBe(false)
  })

  it('verifies ECDSA in JWS (r ‖ s) form only, and refuses a DER signature', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const es256 = ALGORITHMS.get('ES256')!
    const p1363 = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
    const der = sign('sha256', Buffer.from(input), privateKey)
    expect(verifyAsymmetric(es256, verifyKeyInput(es256, publicKey), Buffer.from(input), p1363)).toBe(true)
    expect(verifyAsymmetric(es256, verifyKeyInput(es256, publicKey), Buffer.from(input), der)).toBe(false)
  })

  it('verifies PS256 with a digest-length salt only', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const ps256 = ALGORITHMS.get('PS256')!
    const digestSalt = sign('sha256', Buffer.from(input), { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
    const maxSalt = sign('sha256', Buffer.from(input), { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN })
    expect(verifyAsymmetric(ps256, verifyKeyInput(ps256, publicKey), Buffer.from(input), digestSalt)).toBe(true)
    expect(verifyAsymmetric(ps256, verifyKeyInput(ps256, publicKey), Buffer.from(input), maxSalt)).toBe(false)
  })

  it('treats a signature node:crypto cannot even parse as a failed check', () => {
    const { publicKey } = generateKeyPairSync('ed25519')
    const eddsa = ALGORITHMS.get('EdDSA')!
    expect(verifyAsymmetric(eddsa, publicKey, Buffer.from(input), Buffer.alloc(3))).toBe(false)
    const rs256 = ALGORITHMS.get('RS256')!
    expect(verifyAsymmetric(rs256, publicKey, Buffer.from(input), Buffer.alloc(256))).toBe(false)
  })
})
