// The long soak (`pnpm test:long`, GATEHOUSE_LONG=1): 200,000 HTTP requests (100,000 each to
// Express and Fastify) and 10,000 WebSocket handshakes of the same mix as soak.test.ts. Ten times
// the traffic with the same heap bound: a leak of even a few dozen bytes per request breaks it.
import { afterAll, describe, expect, it } from 'vitest'
import { runSoakSuite } from './soak-suite.js'
import { watchProcess } from './unhandled.js'

const watch = watchProcess()
afterAll(() => {
  watch.stop()
  expect(watch.events).toEqual([])
})

describe.skipIf(!process.env.GATEHOUSE_LONG)('long soak (200k HTTP requests, 10k WebSocket handshakes)', () => {
  runSoakSuite({ httpRequests: 100_000, wsHandshakes: 10_000, heapGrowthBytes: 4 * 1024 * 1024, timeoutMs: 600_000 }, it, (line) => console.log(line))
})
