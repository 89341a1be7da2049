import { describe, expect, it } from 'vitest'
import { clean, formatDuration, isoTime, show } from './hint-format.js'

describe('hint formatting', () => {
  it('strips control and bidi characters and truncates', () => {
    expect(clean('a\nb\u0000c\u001b[2Jd\u202ee\u2066f\u0085g')).toBe('abc[2Jdefg')
    const long = clean('x'.repeat(1000))
    expect(long).toHaveLength(65)
    expect(long.endsWith('…')).toBe(true)
    // A megabyte of control characters is still bounded work and output.
    expect(clean('\u0000'.repeat(1_000_000) + 'tail').length).toBeLessThanOrEqual(65)
  })

  it('shows values by type, lists bounded', () => {
    expect(show('a')).toBe("'a'")
    expect(show(['a', 1, null, { x: 1 }, [2]])).toBe("['a', 1, null, {…}, […]]")
    expect(show(Array.from({ length: 9 }, (_, i) => i))).toBe('[0, 1, 2, 3, 4, … (+4 more)]')
    expect(show(undefined)).toBe('none')
    expect(show({ secret: 'value' })).toBe('an object')
  })

  it('formats durations compactly', () => {
    expect(formatDuration(192)).toBe('3m12s')
    expect(formatDuration(5)).toBe('5s')
    expect(formatDuration(0.25)).toBe('250ms')
    expect(formatDuration(3600)).toBe('1h')
    expect(formatDuration(3725)).toBe('1h2m')
    expect(formatDuration(90000)).toBe('1d1h')
    expect(formatDuration(-60)).toBe('1m')
  })

  it('formats NumericDates as ISO seconds, and out-of-range numbers raw', () => {
    expect(isoTime(1_796_032_800)).toBe('2026-11-30T10:00:00Z')
    expect(isoTime(1e300)).toBe('1e+300')
  })
})
