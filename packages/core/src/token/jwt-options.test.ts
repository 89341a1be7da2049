import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { GatehouseConfigError } from '../config-error.js'
import { parseOptions } from '../options-parse.js'
import { jwtOptionsSchema, resolvedKeysOf } from './jwt-options.js'

const SECRET = 's'.repeat(32)

function problems(input: unknown): Array<{ path: string; message: string }> {
  try {
    parseOptions(jwtOptionsSchema, input, 'jwt', 'jwt')
  } catch (error) {
    if (error instanceof GatehouseConfigError) return [...error.problems]
    throw error
  }
  return []
}

const paths = (input: unknown) => problems(input).map((p) => p.path)

describe('jwtOptionsSchema', () => {
  it('accepts a full, valid configuration unchanged', () => {
    const input = {
      secret: [SECRET, Buffer.alloc(32, 1)],
      algorithms: ['HS256'],
      issuer: ['https://id.example.com'],
      audience: 'backend',
      clockTolerance: '10s',
      maxTokenAge: '1h',
      requiredClaims: ['sub'],
      typ: 'at+jwt',
      requireExp: false,
      maxTokenBytes: 16_384,
      from: ['header', { cookie: 'client_token' }, { query: 'access_token' }, 'protocol'],
      claims: { id: 'uid', roles: 'groups', scopes: 'scp' },
      cache: { max: 100 },
      isRevoked: () => false,
    }
    const parsed = parseOptions(jwtOptionsSchema, input, 'jwt', 'jwt')
    expect(parsed).toEqual(input)
    expect(resolvedKeysOf(parsed)?.secrets).toHaveLength(2)
  })

  it('reports unknown options, with their path', () => {
    expect(problems({ secret: SECRET, audiance: 'x' })).toEqual([{ path: 'jwt', message: expect.stringMatching(/unknown option 'audiance'/) }])
    expect(paths({ secret: SECRET, claims: { idd: 'x' } })).toEqual(['jwt.claims'])
    expect(paths({ jwksUrl: 'https://a.example/j', jwks: { coolDown: 1 } })).toEqual(['jwt.jwks'])
  })

  it('reports every problem at once, key rules included, even when other fields fail', () => {
    const found = problems({
      secret: ['short', '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----'],
      algorithms: ['none'],
      clockTolerance: '5 minutes',
      from: ['header', 'header', { cookie: 'bad name' }],
      cache: { max: 0 },
      isRevoked: 'yes',
      typo: 1,
    })
    expect(found.map((p) => p.path).sort()).toEqual(
      ['jwt', 'jwt.algorithms[0]', 'jwt.cache', 'jwt.clockTolerance', 'jwt.from[1]', 'jwt.from[2].cookie', 'jwt.isRevoked', 'jwt.secret', 'jwt.secret[1]'].sort(),
    )
    for (const p of found) expect(p.message.length).toBeGreaterThan(10)
  })

  it('composes under jwt in a parent schema with the same paths', () => {
    const parent = z.object({ jwt: jwtOptionsSchema.optional() }).strict()
    const result = parent.safeParse({ jwt: { secret: [SECRET, 'short'] } })
    expect(result.success).toBe(false)
    expect(result.error?.issues.map((i) => i.path)).toEqual([['jwt', 'secret', 1]])
  })

  it('requires a key', () => {
    expect(problems({ issuer: 'https://id.example.com' })).toEqual([{ path: 'jwt', message: expect.stringMatching(/no key is configured/) }])
  })

  it.each([
    [{ issuer: '' }, 'jwt.issuer'],
    [{ issuer: [] }, 'jwt.issuer'],
    [{ audience: ['ok', ''] }, 'jwt.audience'],
    [{ audience: 5 }, 'jwt.audience'],
    [{ clockTolerance: -1 }, 'jwt.clockTolerance'],
    [{ maxTokenAge: '1 hour' }, 'jwt.maxTokenAge'],
    [{ requiredClaims: 'sub' }, 'jwt.requiredClaims'],
    [{ requiredClaims: [''] }, 'jwt.requiredClaims'],
    [{ typ: '' }, 'jwt.typ'],
    [{ requireExp: 'yes' }, 'jwt.requireExp'],
    [{ maxTokenBytes: 0 }, 'jwt.maxTokenBytes'],
    [{ maxTokenBytes: 1.5 }, 'jwt.maxTokenBytes'],
    [{ algorithms: 'HS256' }, 'jwt.algorithms'],
    [{ algorithms: [] }, 'jwt.algorithms'],
    [{ from: [] }, 'jwt.from'],
    [{ from: 'header' }, 'jwt.from'],
    [{ from: ['cookie'] }, 'jwt.from[0]'],
    [{ from: [{ cookie: 'a', query: 'b' }] }, 'jwt.from[0]'],
    [{ from: [{ query: '' }] }, 'jwt.from[0].query'],
    [{ from: [{ cookie: 'a;b' }] }, 'jwt.from[0].cookie'],
    [{ from: [{ cookie: 'tok' }, { cookie: 'tok' }] }, 'jwt.from[1]'],
    [{ claims: { id: '' } }, 'jwt.claims.id'],
    [{ cache: true }, 'jwt.cache'],
    [{ cache: { max: 10, ttl: 5 } }, 'jwt.cache'],
    [{ isRevoked: true }, 'jwt.isRevoked'],
  ])('refuses %j at %s', (extra, path) => {
    expect(paths({ secret: SECRET, ...extra })).toEqual([path])
  })

  it('refuses a zero JWKS timeout', () => {
    expect(paths({ jwksUrl: 'https://a.example/j', jwks: { timeout: '0s' } })).toEqual(['jwt.jwks.timeout'])
    expect(paths({ jwksUrl: 'https://a.example/j', jwks: { timeout: '2s', cooldown: 0, cacheMaxAge: '1h' } })).toEqual([])
  })

  it('reports key problems with array indexes', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    expect(problems({ publicKey: [generateKeyPairSync('ed25519').publicKey, privateKey] })).toEqual([
      { path: 'jwt.publicKey[1]', message: expect.stringMatching(/private key/) },
    ])
  })
})
