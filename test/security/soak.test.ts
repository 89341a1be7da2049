// Bounded soak in the normal suite: 20,000 HTTP requests (10,000 each to Express and Fastify) and
// 1,000 WebSocket handshakes, a fixed mix of good, expired, forged and hostile ones. Every request
// gets exactly its intended outcome (the multiset of statuses and codes is known in advance), the
// heap does not grow beyond the verified-token cache's bound, and no socket or timer outlives the
// servers. soak.long.test.ts runs ten times as many (`pnpm test:long`).
import { afterAll, describe, expect, it } from 'vitest'
import { runSoakSuite } from './soak-suite.js'
import { watchProcess } from './unhandled.js'

const watch = watchProcess()
afterAll(() => {
  watch.stop()
  expect(watch.events).toEqual([])
})

describe('soak (20k HTTP requests, 1k WebSocket handshakes)', () => {
  runSoakSuite({ httpRequests: 10_000, wsHandshakes: 1_000, heapGrowthBytes: 4 * 1024 * 1024, timeoutMs: 120_000 }, it, (line) => console.log(line))
})
