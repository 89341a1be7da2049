/**
 * The soak tests, parameterised by size, shared by soak.test.ts and soak.long.test.ts.
 */
import { expect, type TestAPI } from 'vitest'
import type { Auth } from '@gatehouse/core'
import { startExpress, startFastify, type Running } from './servers.js'
import { handles, soak, soakAuth, soakMix, startWs, wsAttempt, wsMix } from './soak.js'

export interface SoakSize {
  /** Requests per HTTP framework. */
  httpRequests: number
  wsHandshakes: number
  /** How much the heap may grow between the warm mark and the end, after full GCs. */
  heapGrowthBytes: number
  timeoutMs: number
}

const MB = 1024 * 1024
const fmt = (bytes: number) => `${(bytes / MB).toFixed(1)} MiB`

/** Lets closed sockets and cleared timers leave the handle list. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100))

/** Handle counts that may differ between two snapshots: timers and sockets of gatehouse's making may not. */
function leaked(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [type, n] of Object.entries(after)) if (n > (before[type] ?? 0)) out[type] = n - (before[type] ?? 0)
  return out
}

/** Registers the soak tests with `it`; `log` receives one line of measurements per test. */
export function runSoakSuite(size: SoakSize, it: TestAPI, log: (line: string) => void): void {
  it.each([
    { name: 'Express', start: (a: Auth) => startExpress(a, { recordHits: false }) },
    { name: 'Fastify', start: (a: Auth) => startFastify(a, {}, { recordHits: false }) },
  ])(
    `$name: ${size.httpRequests} requests get exactly their intended outcomes, with a bounded heap and no leaked handles`,
    async ({ name, start }) => {
      await settle()
      const before = handles()
      const auth = soakAuth()
      const kinds = await soakMix(auth)
      let server: Running | undefined
      try {
        server = await start(auth)
        const result = await soak(server, kinds, size.httpRequests)
        const growth = result.heapEnd - result.heapWarm
        log(
          `${name} soak: ${result.requests} requests in ${result.seconds.toFixed(1)} s (${Math.round(result.requests / result.seconds)}/s), heap ${fmt(result.heapWarm)} → ${fmt(result.heapEnd)} (${growth >= 0 ? '+' : ''}${fmt(growth)}), outcomes ${JSON.stringify(result.actual)}`,
        )
        expect(result.wrong).toEqual({})
        expect(result.actual).toEqual(result.expected)
        expect(growth).toBeLessThan(size.heapGrowthBytes)
      } finally {
        await server?.close()
        await auth.close()
      }
      await settle()
      expect(leaked(before, handles())).toEqual({})
    },
    size.timeoutMs,
  )

  it(
    `ws: ${size.wsHandshakes} handshakes get exactly their intended outcomes and leave no socket or timer behind`,
    async () => {
      await settle()
      const before = handles()
      const auth = soakAuth()
      const mix = await wsMix(auth)
      const server = await startWs(auth)
      const expected: Record<string, number> = {}
      const actual: Record<string, number> = {}
      const wrong: Record<string, number> = {}
      try {
        let next = 0
        const worker = async () => {
          for (let i = next++; i < size.wsHandshakes; i = next++) {
            const kind = mix[i % mix.length] as (typeof mix)[number]
            const outcome = await wsAttempt(server.port, kind.path, kind.options)
            expected[kind.expect] = (expected[kind.expect] ?? 0) + 1
            actual[outcome] = (actual[outcome] ?? 0) + 1
            if (outcome !== kind.expect) wrong[`${kind.name} → ${outcome}`] = (wrong[`${kind.name} → ${outcome}`] ?? 0) + 1
          }
        }
        const started = performance.now()
        await Promise.all(Array.from({ length: 16 }, worker))
        log(`ws soak: ${size.wsHandshakes} handshakes in ${((performance.now() - started) / 1000).toFixed(1)} s, outcomes ${JSON.stringify(actual)}`)
        expect(wrong).toEqual({})
        expect(actual).toEqual(expected)
        // Every admitted socket was closed by its client: the server holds no socket and no expiry timer.
        await settle()
        expect(leaked(before, handles())).toEqual({ TCPServerWrap: 1 })
      } finally {
        await server.close()
        await auth.close()
      }
      await settle()
      expect(leaked(before, handles())).toEqual({})
    },
    size.timeoutMs,
  )
}
