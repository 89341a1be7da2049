// The full differential run: 100k seeded cases (300k verifications by each side), gatehouse
// against jose's jwtVerify. Runs with `pnpm test:long` (GATEHOUSE_LONG=1); the normal suite runs
// 20k of the same generator in token-differential.test.ts.
import { describe, expect, it } from 'vitest'
import { runDifferential, STRICTER_REASONS } from './fixtures/differential.js'

describe.skipIf(!process.env.GATEHOUSE_LONG)('differential (long): gatehouse vs jose jwtVerify', () => {
  it('never accepts a token jose rejects (100k seeded cases)', async () => {
    const stats = await runDifferential(100_000, 1_796_032_800)
    console.log(`differential (long): ${stats.cases} cases, ${stats.checks} checks, both accept ${stats.bothAccept}, both reject ${stats.bothReject}, gatehouse stricter ${JSON.stringify(stats.stricter)}`)
    expect(stats.laxer).toEqual([])
    expect(stats.unexplained).toEqual([])
    expect(stats.cases).toBe(100_000)
    expect(stats.bothAccept).toBeGreaterThan(stats.checks * 0.05)
    // Every listed reason is exercised at this size, so the list stays honest.
    for (const reason of Object.keys(STRICTER_REASONS).filter((r) => r !== 'too_large')) expect(stats.stricter[reason], reason).toBeGreaterThan(0)
  }, 600_000)
})
