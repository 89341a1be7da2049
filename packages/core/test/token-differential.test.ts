// gatehouse verifies with node:crypto; jose's jwtVerify is the reference. Over generated and
// mutated tokens (signature bit flips, header and alg swaps, claims at the exp/nbf/tolerance
// boundaries, aud/iss shapes, base64url damage, extra and missing segments), gatehouse must never
// accept a token jose rejects, and may refuse one jose accepts only for a listed reason.
// 20k cases here; token-differential.long.test.ts runs 100k (GATEHOUSE_LONG=1).
import { describe, expect, it } from 'vitest'
import { runDifferential, STRICTER_REASONS } from './fixtures/differential.js'

describe('differential: gatehouse vs jose jwtVerify', () => {
  it('never accepts a token jose rejects (20k seeded cases)', async () => {
    const stats = await runDifferential(20_000, 20_261_130)
    console.log(`differential: ${stats.cases} cases, ${stats.checks} checks, both accept ${stats.bothAccept}, both reject ${stats.bothReject}, gatehouse stricter ${JSON.stringify(stats.stricter)}`)
    expect(stats.laxer).toEqual([])
    expect(stats.unexplained).toEqual([])
    expect(stats.cases).toBe(20_000)
    // Not vacuous: plenty of tokens pass both, and plenty fail both.
    expect(stats.bothAccept).toBeGreaterThan(stats.checks * 0.05)
    expect(stats.bothReject).toBeGreaterThan(stats.checks * 0.3)
    for (const reason of Object.keys(stats.stricter)) expect(STRICTER_REASONS).toHaveProperty(reason)
  }, 180_000)
})
