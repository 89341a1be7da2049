import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { clean, columns, createScrubber, describeTime, humanDuration, isoTime, paint, redact, showValue, stepLines, wantsColor } from './format.js'

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const secretArb = fc.string({ unit: fc.constantFrom(...B64URL), minLength: 8, maxLength: 400 })

describe('redact', () => {
  it('keeps the first 6 characters and the length of a long value', () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl'
    expect(redact(token)).toBe(`eyJhbG…(${token.length} chars)`)
  })

  it('shows only the length of a short value, whose prefix would give most of it away', () => {
    expect(redact('hunter2')).toBe('…(7 chars)')
    expect(redact('a'.repeat(23))).toBe('…(23 chars)')
  })

  it('never contains the value it stands for (property)', () => {
    fc.assert(fc.property(secretArb, (s) => !redact(s).includes(s)))
  })
})

describe('createScrubber', () => {
  it('replaces every occurrence of every secret, longest first', () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.SIGNATURE_SEGMENT_xyz'
    const signature = 'SIGNATURE_SEGMENT_xyz'
    const scrub = createScrubber([signature, token])
    const out = scrub(`a ${token} b ${signature} c ${token}`)
    expect(out).not.toContain(signature)
    expect(out).toBe(`a ${redact(token)} b ${redact(signature)} c ${redact(token)}`)
  })

  it('leaves values under 8 characters alone, so a cookie like theme=dark does not erase words', () => {
    expect(createScrubber(['dark', '1'])('dark mode 1')).toBe('dark mode 1')
  })

  it('leaves no secret in any text (property)', () => {
    fc.assert(
      fc.property(fc.array(secretArb, { minLength: 1, maxLength: 4 }), fc.array(fc.string(), { maxLength: 5 }), (secrets, noise) => {
        const text = noise.flatMap((n, i) => [n, secrets[i % secrets.length] as string]).join('') + secrets.join(' ')
        const out = createScrubber(secrets)(text)
        return secrets.every((s) => !out.includes(s))
      }),
    )
  })
})

describe('humanDuration', () => {
  it.each([
    [0, '0s'],
    [0.9, '0s'],
    [12, '12s'],
    [192, '3m 12s'],
    [-192, '3m 12s'],
    [3600, '1h'],
    [3605, '1h'],
    [7500, '2h 5m'],
    [90061, '1d 1h'],
    [86400 * 400, '400d'],
  ])('%s s → %s', (seconds, shown) => {
    expect(humanDuration(seconds)).toBe(shown)
  })

  it('shows at most two units, the first one exact (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), (s) => {
        const out = humanDuration(s)
        expect(out).toMatch(/^\d+[dhms]( \d+[dhms])?$/)
        const first = /^(\d+)([dhms])/.exec(out) as RegExpExecArray
        const size = { d: 86400, h: 3600, m: 60, s: 1 }[first[2] as 'd' | 'h' | 'm' | 's']
        expect(Number(first[1])).toBe(Math.floor(Math.abs(s) / size))
      }),
    )
  })
})

describe('describeTime', () => {
  const now = Date.UTC(2026, 10, 30, 10, 3, 12)
  const at = Date.UTC(2026, 10, 30, 10, 0, 0) / 1000

  it('says how long ago a token expired', () => {
    expect(describeTime('exp', at, now)).toBe('2026-11-30T10:00:00Z (expired 3m 12s ago)')
  })

  it('says how long a token remains valid', () => {
    expect(describeTime('exp', at + 900, now)).toBe('2026-11-30T10:15:00Z (expires in 11m 48s)')
  })

  it('describes nbf and iat in their own words', () => {
    expect(describeTime('nbf', at + 300, now)).toContain('not valid for another 1m 48s')
    expect(describeTime('nbf', at, now)).toContain('valid since 3m 12s ago')
    expect(describeTime('iat', at, now)).toContain('issued 3m 12s ago')
    expect(describeTime('iat', at + 600, now)).toContain("in the future: check the issuer's clock")
  })

  it('flags a value that is not a NumericDate instead of inventing a time', () => {
    expect(describeTime('exp', '1764496800', now)).toBe('"1764496800" (not a NumericDate: must be a finite number of seconds)')
    expect(describeTime('exp', null, now)).toContain('not a NumericDate')
  })

  it('does not throw on times outside the Date range', () => {
    expect(isoTime(1e300)).toBe('1e+300 (out of range)')
    expect(describeTime('exp', 1e300, now)).toContain('out of range')
  })
})

describe('clean and showValue', () => {
  it('neutralises terminal escapes and bidi overrides from a hostile claim', () => {
    expect(clean('ok\x1b[2J\x1b[31mred\u202eevil\n')).toBe('ok?[2J?[31mred?evil?')
  })

  it('cuts long values and reports their length', () => {
    const shown = showValue('x'.repeat(1000))
    expect(shown.length).toBeLessThan(340)
    expect(shown).toMatch(/… \(1002 chars\)$/)
  })
})

describe('colour', () => {
  it('is on only for a TTY with NO_COLOR unset', () => {
    expect(wantsColor(true, {})).toBe(true)
    expect(wantsColor(true, { NO_COLOR: '1' })).toBe(false)
    expect(wantsColor(true, { NO_COLOR: '' })).toBe(false)
    expect(wantsColor(false, {})).toBe(false)
    expect(wantsColor(undefined, {})).toBe(false)
  })

  it('marks steps ✓ ✗ · and adds ANSI codes only when asked', () => {
    const steps = [
      { step: 'rule', outcome: 'pass', detail: 'ok' },
      { step: 'signature', outcome: 'fail', detail: 'bad' },
      { step: 'request', outcome: 'info', detail: 'GET /' },
      { step: 'cache', outcome: 'skip', detail: 'disabled' },
    ] as const
    const plain = stepLines(steps, paint(false))
    expect(plain).toEqual(['  ✓ rule       ok', '  ✗ signature  bad', '  · request    GET /', '  · cache      skipped: disabled'])
    expect(plain.join('')).not.toContain('\x1b[')
    const coloured = stepLines(steps, paint(true))
    expect(coloured[0]).toContain('\x1b[32m✓\x1b[39m')
    expect(coloured[1]).toContain('\x1b[31m✗\x1b[39m')
  })

  it('aligns columns', () => {
    expect(columns([['a', '1'], ['long', '2']])).toEqual(['  a     1', '  long  2'])
  })
})
