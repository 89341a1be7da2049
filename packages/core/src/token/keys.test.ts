import { execFileSync } from 'node:child_process'
import { createHash, createPublicKey, createSecretKey, generateKeyPairSync, KeyObject, webcrypto } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { algorithmsForKey, isNoneAlgorithm } from './algorithms.js'
import { fingerprintKey } from './fingerprint.js'
import { importJwk, importPublicKey, KeyIndex, type PreparedKey, resolveKeys } from './keys.js'

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const ed = generateKeyPairSync('ed25519')
const SECRET = 'a'.repeat(32)

function problems(options: Record<string, unknown>): Array<{ path: string; message: string }> {
  return resolveKeys(options).problems.map((p) => ({ path: p.path.join('.'), message: p.message }))
}

describe('algorithms', () => {
  it('recognises none in every casing', () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) expect(isNoneAlgorithm(alg)).toBe(true)
    expect(isNoneAlgorithm('nonce')).toBe(false)
  })

  it('derives the algorithms a key type fits', () => {
    expect(algorithmsForKey(createSecretKey(Buffer.alloc(32)))).toEqual(['HS256'])
    expect(algorithmsForKey(createSecretKey(Buffer.alloc(64)))).toEqual(['HS256', 'HS384', 'HS512'])
    expect(algorithmsForKey(rsa.publicKey)).toEqual(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'])
    expect(algorithmsForKey(ec.publicKey)).toEqual(['ES256'])
    expect(algorithmsForKey(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey)).toEqual(['ES384'])
    expect(algorithmsForKey(ed.publicKey)).toEqual(['EdDSA', 'Ed25519'])
    expect(algorithmsForKey(generateKeyPairSync('x25519').publicKey)).toEqual([])
  })
})

describe('fingerprintKey', () => {
  it('is the SHA-256 of the SPKI DER, whatever the encoding the key came in', () => {
    const expected = `sha256:${createHash('sha256').update(rsa.publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 12)}`
    expect(fingerprintKey(rsa.publicKey)).toBe(expected)
    expect(fingerprintKey(createPublicKey(rsa.publicKey.export({ type: 'pkcs1', format: 'pem' })))).toBe(expected)
    expect(fingerprintKey(createPublicKey({ key: rsa.publicKey.export({ format: 'jwk' }), format: 'jwk' }))).toBe(expected)
    expect(fingerprintKey(rsa.privateKey)).toBe(expected)
  })

  it('is the SHA-256 of the raw secret for HMAC (as `printf %s "$SECRET" | sha256sum` prints)', () => {
    const secret = 'correct horse battery staple, thirty-two+ bytes'
    expect(fingerprintKey(createSecretKey(Buffer.from(secret)))).toBe(`sha256:${createHash('sha256').update(secret).digest('hex').slice(0, 12)}`)
    expect(fingerprintKey(createSecretKey(Buffer.from(secret)))).toMatch(/^sha256:[0-9a-f]{12}$/)
  })

  it('differs between keys', () => {
    expect(fingerprintKey(ec.publicKey)).not.toBe(fingerprintKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey))
  })
})

describe('importPublicKey', () => {
  it('reads SPKI PEM, PKCS#1 PEM, JWK (object and JSON text), KeyObject and CryptoKey', async () => {
    const fp = fingerprintKey(rsa.publicKey)
    const jwk = rsa.publicKey.export({ format: 'jwk' })
    const cryptoKey = await webcrypto.subtle.importKey('jwk', jwk, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify'])
    for (const input of [
      rsa.publicKey.export({ type: 'spki', format: 'pem' }),
      rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }),
      jwk,
      JSON.stringify(jwk),
      rsa.publicKey,
      cryptoKey,
    ]) {
      const imported = importPublicKey(input)
      expect(typeof imported === 'string' ? imported : fingerprintKey(imported.key)).toBe(fp)
    }
  })

  it('reads an X.509 certificate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cert-'))
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-subj', '/CN=gatehouse-test', '-days', '1'], { stdio: 'ignore' })
      const imported = importPublicKey(readFileSync(join(dir, 'c.pem'), 'utf8'))
      expect(typeof imported === 'string' ? imported : imported.key.asymmetricKeyType).toBe('rsa')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('keeps a JWK’s kid and alg', () => {
    const imported = importJwk({ ...ec.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256' })
    expect(typeof imported === 'string' ? imported : { kid: imported.kid, alg: imported.alg }).toEqual({ kid: 'k1', alg: 'ES256' })
  })

  it.each([
    ['a private PEM', () => rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }), /private key/],
    ['a private KeyObject', () => rsa.privateKey, /private key/],
    ['a private JWK', () => rsa.privateKey.export({ format: 'jwk' }), /private key/],
    ['a secret KeyObject', () => createSecretKey(Buffer.alloc(32)), /jwt\.secret/],
    ['an oct JWK', () => ({ kty: 'oct', k: 'AAAA' }), /symmetric/],
    ['a 1024-bit RSA key', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey, /1024-bit RSA key.*2048/],
    ['an X25519 key', () => generateKeyPairSync('x25519').publicKey, /cannot verify JWS/],
    ['a secp256k1 key', () => generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey, /curve secp256k1/],
    ['base64 DER without PEM armour', () => rsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), /not a PEM key/],
    ['a PEM with literal \\n', () => String(rsa.publicKey.export({ type: 'spki', format: 'pem' })).replace(/\n/g, '\\n'), /literal '\\n'/],
    ['garbage PEM', () => '-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----', /could not be read/],
    ['bytes', () => Buffer.from('x'), /is bytes/],
    ['a number', () => 42, /must be a PEM string/],
    ['a JWK for encryption', () => ({ ...ec.publicKey.export({ format: 'jwk' }), use: 'enc' }), /use 'enc'/],
    ['a JWK without verify in key_ops', () => ({ ...ec.publicKey.export({ format: 'jwk' }), key_ops: ['encrypt'] }), /key_ops/],
    ['a JWK whose alg does not fit it', () => ({ ...ec.publicKey.export({ format: 'jwk' }), alg: 'RS256' }), /does not fit/],
    ['a JWK with alg none', () => ({ ...ec.publicKey.export({ format: 'jwk' }), alg: 'none' }), /not a supported/],
  ])('refuses %s with a message saying what to do', (_label, make, message) => {
    const imported = importPublicKey(make())
    expect(typeof imported).toBe('string')
    expect(imported).toMatch(message)
  })
})

describe('resolveKeys', () => {
  it('defaults to HS256 for secrets and to what public keys and JWKS allow', () => {
    expect(resolveKeys({ secret: SECRET }).keys?.algorithms).toEqual(['HS256'])
    expect(resolveKeys({ secret: 'a'.repeat(64) }).keys?.algorithms).toEqual(['HS256'])
    expect(resolveKeys({ publicKey: ec.publicKey }).keys?.algorithms).toEqual(['ES256'])
    expect(resolveKeys({ publicKey: [ec.publicKey, ed.publicKey] }).keys?.algorithms).toEqual(['ES256', 'EdDSA', 'Ed25519'])
    expect(resolveKeys({ publicKey: { ...ec.publicKey.export({ format: 'jwk' }), alg: 'ES256' } }).keys?.algorithms).toEqual(['ES256'])
    const jwks = resolveKeys({ jwksUrl: 'https://id.example.com/jwks.json' }).keys
    expect(jwks?.algorithms).not.toContain('HS256')
    expect(jwks?.jwksAlgorithms).toContain('RS256')
  })

  it('refuses a PEM or a JWK given as a secret', () => {
    expect(problems({ secret: String(rsa.publicKey.export({ type: 'spki', format: 'pem' })) })[0]?.message).toMatch(/PEM key.*jwt\.publicKey/)
    expect(problems({ secret: JSON.stringify(rsa.publicKey.export({ format: 'jwk' })) })[0]?.message).toMatch(/JWK/)
    expect(problems({ secret: [SECRET, Buffer.from(String(rsa.publicKey.export({ type: 'spki', format: 'pem' })))] })).toEqual([
      { path: 'secret.1', message: expect.stringMatching(/PEM key/) },
    ])
  })

  it('refuses secrets shorter than the hash of the allowed HS algorithms', () => {
    expect(problems({ secret: 'a'.repeat(31) })).toEqual([{ path: 'secret', message: expect.stringMatching(/31 bytes; HS256 needs .* at least 32/) }])
    expect(problems({ secret: 'a'.repeat(32) })).toEqual([])
    expect(problems({ secret: 'a'.repeat(47), algorithms: ['HS384'] })[0]?.message).toMatch(/HS384 needs .* 48/)
    expect(problems({ secret: ['a'.repeat(64), 'a'.repeat(63)], algorithms: ['HS256', 'HS512'] })).toEqual([{ path: 'secret.1', message: expect.stringMatching(/HS512/) }])
    expect(problems({ secret: '' })[0]?.message).toMatch(/empty/)
  })

  it('counts a string secret in UTF-8 bytes', () => {
    expect(problems({ secret: 'é'.repeat(16) })).toEqual([]) // 32 bytes
  })

  it('refuses none, unknown algorithms and algorithms no key can verify', () => {
    const found = problems({ secret: SECRET, algorithms: ['none', 'NoNe', 'hs256', 'HS256', 'RS256', 'XS1'] })
    expect(found).toEqual([
      { path: 'algorithms.0', message: expect.stringMatching(/never accepted/) },
      { path: 'algorithms.1', message: expect.stringMatching(/never accepted/) },
      { path: 'algorithms.2', message: expect.stringMatching(/did you mean 'HS256'/) },
      { path: 'algorithms.5', message: expect.stringMatching(/not a supported algorithm/) },
      { path: 'algorithms.4', message: expect.stringMatching(/RS256 needs an RSA public key/) },
    ])
  })

  it('never allows HS* without a secret (no HMAC with public key material)', () => {
    expect(problems({ publicKey: rsa.publicKey, algorithms: ['HS256', 'RS256'] })).toEqual([
      { path: 'algorithms.0', message: expect.stringMatching(/HS256 verifies with jwt\.secret.*never tried with public keys/) },
    ])
    expect(problems({ jwksUrl: 'https://id.example.com/jwks', algorithms: ['HS256'] }).map((p) => p.path)).toEqual(['algorithms.0', 'jwksUrl'])
  })

  it('refuses a public key that fits none of the configured algorithms', () => {
    expect(problems({ publicKey: ec.publicKey, algorithms: ['RS256'] }).map((p) => p.path)).toEqual(['algorithms.0', 'publicKey'])
  })

  it('checks JWKS URLs', () => {
    expect(problems({ jwksUrl: 'http://id.example.com/jwks' })[0]?.message).toMatch(/https/)
    expect(problems({ jwksUrl: 'http://127.0.0.1:8080/jwks' })).toEqual([])
    expect(problems({ jwksUrl: 'http://localhost:8080/jwks' })).toEqual([])
    expect(problems({ jwksUrl: 'not a url' })[0]?.message).toMatch(/not a URL/)
    expect(problems({ jwksUrl: ['https://a.example/j', 'https://a.example/j'] })).toEqual([{ path: 'jwksUrl.1', message: expect.stringMatching(/twice/) }])
    expect(problems({ jwksUrl: 'https://user:pw@a.example/j' })[0]?.message).toMatch(/credentials/)
  })

  it('needs at least one key, and jwks options only with a jwksUrl', () => {
    expect(problems({})).toEqual([{ path: '', message: expect.stringMatching(/no key is configured/) }])
    expect(problems({ secret: SECRET, jwks: { cooldown: 1 } })).toEqual([{ path: 'jwks', message: expect.stringMatching(/without jwt\.jwksUrl/) }])
  })

  it('reports every problem at once', () => {
    expect(problems({ secret: ['short', '-----BEGIN PUBLIC KEY-----'], publicKey: [rsa.privateKey, 'nope'], jwksUrl: 'ftp://x' }).length).toBe(5)
  })

  it('names key sources by option path, with the JWK kid', () => {
    const keys = resolveKeys({ secret: [SECRET, 'b'.repeat(32)], publicKey: { ...ec.publicKey.export({ format: 'jwk' }), kid: 'k1' } }).keys!
    expect(keys.secrets.map((k) => k.source)).toEqual(['jwt.secret[0]', 'jwt.secret[1]'])
    expect(keys.publicKeys.map((k) => k.source)).toEqual(['jwt.publicKey kid=k1'])
  })
})

describe('KeyIndex', () => {
  const prepared = (kid: string | undefined, key: KeyObject, algorithms: string[]): PreparedKey => ({
    key,
    kind: 'public',
    kid,
    fingerprint: fingerprintKey(key),
    source: 'test',
    type: 'test',
    algorithms,
  })
  const k1 = prepared('k1', ec.publicKey, ['ES256'])
  const k2 = prepared('k2', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, ['ES256'])
  const plain = prepared(undefined, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, ['ES256'])
  const rsaKey = prepared('r1', rsa.publicKey, ['RS256'])

  it('picks the keys a kid names, and only those', () => {
    const index = new KeyIndex([k1, k2, plain, rsaKey])
    expect(index.select('ES256', 'k2').map((c) => c.key)).toEqual([k2])
    expect(index.select('RS256', 'k1')).toEqual([])
  })

  it('tries keys without a kid when the token kid names none, and every key without a token kid', () => {
    const index = new KeyIndex([k1, k2, plain])
    expect(index.select('ES256', 'unknown').map((c) => c.key)).toEqual([plain])
    expect(index.select('ES256', undefined).map((c) => c.key)).toEqual([k1, k2, plain])
  })

  it('tries every key of the type when no key has a kid', () => {
    const index = new KeyIndex([plain])
    expect(index.select('ES256', 'whatever').map((c) => c.key)).toEqual([plain])
    expect(index.select('RS256', undefined)).toEqual([])
  })

  it('is safe against hostile kid and alg names', () => {
    const index = new KeyIndex([k1])
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(index.select(name, name)).toEqual([])
      expect(index.select('ES256', name)).toEqual([])
    }
  })
})
