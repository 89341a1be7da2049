import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cacheWindow, checkClaims, type ClaimPolicy, normalizeTyp } from './claims.js'

const NOW = Date.UTC(2026, 10, 30, 10, 0, 0) // 2026-11-30T10:00:00Z
const NOW_S = NOW / 1000

const base: ClaimPolicy = { tolerance: 5, requireExp: true, issuers: undefined, audiences: undefined, maxTokenAge: undefined, requiredClaims: [], typ: undefined }
const policy = (over: Partial<ClaimPolicy> = {}): ClaimPolicy => ({ ...base, ...over })
const check = (claims: Record<string, unknown>, over: Partial<ClaimPolicy> = {}, header: Record<string, unknown> = {}, now = NOW) =>
  checkClaims(claims, header, policy(over), now)

describe('time claims', () => {
  it('passes a token inside its window', () => {
    expect(check({ exp: NOW_S + 60, nbf: NOW_S - 60, iat: NOW_S - 60 })).toBeUndefined()
  })

  it('refuses exp at the tolerance boundary and names how long ago and the tolerance', () => {
    expect(check({ exp: NOW_S - 4 })).toBeUndefined()
    const f = check({ exp: NOW_S - 192 })
    expect(f?.code).toBe('token_expired')
    expect(f?.hint).toBe('token expired 3m12s ago (exp 2026-11-30T09:56:48Z, clock tolerance 5s)')
    expect(check({ exp: NOW_S - 5 })?.code).toBe('token_expired')
  })

  it('treats exp 0 as long expired, not as missing', () => {
    expect(check({ exp: 0 })?.code).toBe('token_expired')
  })

  it.each([
    ['a numeric string', '123'],
    ['null', null],
    ['an array', [1]],
    ['an object', { n: 1 }],
    ['a boolean', true],
    ['Infinity (what JSON 1e400 parses to)', Infinity],
    ['-Infinity', -Infinity],
    ['NaN', NaN],
  ])('refuses exp, nbf and iat that are %s as token_claim_invalid', (_label, value) => {
    for (const claim of ['exp', 'nbf', 'iat']) {
      const claims = { exp: NOW_S + 60, [claim]: value }
      const f = check(claims)
      expect(f?.code, claim).toBe('token_claim_invalid')
      expect(f?.detail).toEqual({ reason: 'claim_type', claim })
    }
  })

  it('requires exp by default, and not when requireExp is false', () => {
    expect(check({ sub: 'x' })).toMatchObject({ code: 'token_claim_invalid', detail: { reason: 'claim_missing', claim: 'exp' } })
    expect(check({ sub: 'x' }, { requireExp: false })).toBeUndefined()
  })

  it('refuses nbf beyond the tolerance as token_not_yet_valid', () => {
    expect(check({ exp: NOW_S + 600, nbf: NOW_S + 5 })).toBeUndefined()
    const f = check({ exp: NOW_S + 600, nbf: NOW_S + 125 })
    expect(f?.code).toBe('token_not_yet_valid')
    expect(f?.hint).toMatch(/not valid for another 2m5s \(nbf 2026-11-30T10:02:05Z, clock tolerance 5s\)/)
  })

  it('refuses iat in the future beyond the tolerance as token_not_yet_valid (issuer clock ahead)', () => {
    expect(check({ exp: NOW_S + 600, iat: NOW_S + 5 })).toBeUndefined()
    const f = check({ exp: NOW_S + 600, iat: NOW_S + 6 })
    expect(f).toMatchObject({ code: 'token_not_yet_valid', detail: { reason: 'issued_in_future', claim: 'iat' } })
    expect(f?.hint).toMatch(/issuer's clock is ahead/)
  })

  it('applies maxTokenAge from iat, with the tolerance, and requires iat for it', () => {
    expect(check({ exp: NOW_S + 600, iat: NOW_S - 3605 }, { maxTokenAge: 3600 })).toBeUndefined()
    const f = check({ exp: NOW_S + 600, iat: NOW_S - 3606 }, { maxTokenAge: 3600 })
    expect(f).toMatchObject({ code: 'token_expired', detail: { reason: 'too_old' } })
    expect(f?.hint).toMatch(/issued 1h0m6s ago|issued 1h ago/)
    expect(check({ exp: NOW_S + 600 }, { maxTokenAge: 3600 })).toMatchObject({ code: 'token_claim_invalid', detail: { claim: 'iat' } })
  })

  it('compares whole seconds like jose: sub-second now never extends a token', () => {
    // exp + tolerance == floor(now): expired whatever the milliseconds.
    expect(check({ exp: NOW_S - 5 }, {}, {}, NOW + 999)?.code).toBe('token_expired')
    expect(check({ exp: NOW_S - 4 }, {}, {}, NOW + 999)).toBeUndefined()
  })

  it('matches jose’s time rules on random claims (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -100, max: 100 }),
        fc.option(fc.integer({ min: -100, max: 100 }), { nil: undefined }),
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: 0, max: 10 }),
        (expOffset, nbfOffset, ms, tolerance) => {
          const now = NOW + ms
          const claims: Record<string, unknown> = { exp: NOW_S + expOffset }
          if (nbfOffset !== undefined) claims.nbf = NOW_S + nbfOffset
          const nowS = Math.floor(now / 1000)
          // jose: exp <= now - tol → expired; nbf > now + tol → not yet valid.
          const joseRejects = NOW_S + expOffset <= nowS - tolerance || (nbfOffset !== undefined && NOW_S + nbfOffset > nowS + tolerance)
          const f = checkClaims(claims, {}, policy({ tolerance }), now)
          expect(f !== undefined).toBe(joseRejects)
        },
      ),
      { seed: 7, numRuns: 2000 },
    )
  })
})

describe('issuer and audience', () => {
  it('requires iss to be exactly one expected string', () => {
    const issuers = ['https://a.example', 'https://b.example']
    expect(check({ exp: NOW_S + 60, iss: 'https://b.example' }, { issuers })).toBeUndefined()
    expect(check({ exp: NOW_S + 60, iss: 'https://c.example' }, { issuers })).toMatchObject({ code: 'token_issuer_mismatch' })
    expect(check({ exp: NOW_S + 60 }, { issuers })?.hint).toMatch(/no iss claim/)
    const f = check({ exp: NOW_S + 60, iss: ['https://a.example'] }, { issuers })
    expect(f?.code).toBe('token_issuer_mismatch')
    expect(f?.hint).toMatch(/iss is an array/)
  })

  it('shows expected and presented issuer', () => {
    const f = check({ exp: NOW_S + 60, iss: 'https://evil.example' }, { issuers: ['https://id.example.com'] })
    expect(f?.hint).toBe("token iss 'https://evil.example' is not the expected 'https://id.example.com' (jwt.issuer)")
  })

  it('accepts aud as a string or an array containing any expected value', () => {
    const audiences = ['backend']
    expect(check({ exp: NOW_S + 60, aud: 'backend' }, { audiences })).toBeUndefined()
    expect(check({ exp: NOW_S + 60, aud: ['other', 'backend'] }, { audiences })).toBeUndefined()
    expect(check({ exp: NOW_S + 60, aud: ['other'] }, { audiences })?.code).toBe('token_audience_mismatch')
    expect(check({ exp: NOW_S + 60, aud: [] }, { audiences })?.code).toBe('token_audience_mismatch')
    expect(check({ exp: NOW_S + 60 }, { audiences })?.hint).toMatch(/no aud claim; expected 'backend'/)
  })

  it('names the audience mismatch the way operators read it', () => {
    const f = check({ exp: NOW_S + 60, aud: ['auth-service'] }, { audiences: ['backend'] })
    expect(f?.hint).toBe("token aud ['auth-service'] does not include 'backend' (jwt.audience)")
    const g = check({ exp: NOW_S + 60, aud: 'auth-service' }, { audiences: ['backend', 'api'] })
    expect(g?.hint).toBe("token aud ['auth-service'] does not include any of ['backend', 'api'] (jwt.audience)")
  })

  it('refuses an aud array holding a non-string, even next to a good value', () => {
    expect(check({ exp: NOW_S + 60, aud: ['backend', 1] }, { audiences: ['backend'] })).toMatchObject({ code: 'token_claim_invalid', detail: { claim: 'aud' } })
    expect(check({ exp: NOW_S + 60, aud: { backend: true } }, { audiences: ['backend'] })?.code).toBe('token_claim_invalid')
  })

  it('truncates and cleans hostile presented values in hints', () => {
    const hostile = `evil\u001b[31m\n\u202e${'x'.repeat(100_000)}`
    const f = check({ exp: NOW_S + 60, iss: hostile }, { issuers: ['https://id.example.com'] })
    expect(f?.hint.length).toBeLessThan(300)
    // eslint-disable-next-line no-control-regex -- asserting control characters are gone
    expect(f?.hint).not.toMatch(/[\u0000-\u001f\u202e]/)
  })
})

describe('required claims and typ', () => {
  it('requires listed claims to be own, non-null properties', () => {
    const requiredClaims = ['tenant', 'constructor']
    expect(check({ exp: NOW_S + 60, tenant: 't', constructor: 'c' }, { requiredClaims })).toBeUndefined()
    expect(check({ exp: NOW_S + 60, tenant: 't' }, { requiredClaims })).toMatchObject({ code: 'token_claim_invalid', detail: { claim: 'constructor' } })
    expect(check({ exp: NOW_S + 60, tenant: null, constructor: 'c' }, { requiredClaims })).toMatchObject({ detail: { claim: 'tenant' } })
  })

  it('compares typ as a media type', () => {
    const typ = { given: 'at+jwt', normalized: normalizeTyp('at+jwt') }
    expect(check({ exp: NOW_S + 60 }, { typ }, { typ: 'AT+JWT' })).toBeUndefined()
    expect(check({ exp: NOW_S + 60 }, { typ }, { typ: 'application/at+jwt' })).toBeUndefined()
    expect(check({ exp: NOW_S + 60 }, { typ }, { typ: 'JWT' })).toMatchObject({ code: 'token_claim_invalid', detail: { claim: 'typ' } })
    expect(check({ exp: NOW_S + 60 }, { typ }, {})?.code).toBe('token_claim_invalid')
  })
})

describe('cacheWindow', () => {
  it('spans nbf/iat to exp, without tolerance', () => {
    expect(cacheWindow({ exp: 200, nbf: 100, iat: 150 }, base)).toEqual({ from: 150_000, until: 200_000 })
    expect(cacheWindow({ exp: 200 }, base)).toEqual({ from: -Infinity, until: 200_000 })
    expect(cacheWindow({}, base)).toEqual({ from: -Infinity, until: Infinity })
  })

  it('ends at iat + maxTokenAge when that comes first', () => {
    expect(cacheWindow({ exp: 10_000, iat: 100 }, policy({ maxTokenAge: 60 }))).toEqual({ from: 100_000, until: 160_000 })
  })
})
