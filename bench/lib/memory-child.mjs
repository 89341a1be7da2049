// Child process of bench/memory.bench.mjs, run with --expose-gc:
//
//   node --expose-gc bench/lib/memory-child.mjs <tokens> <cache: default | off | N>
//
// Verifies <tokens> distinct HS256 tokens, one after another, with one verifier, and samples the
// heap and RSS after a full GC at fixed checkpoints. Then counts the entries of the verified-token
// cache from outside: re-verifying the newest tokens first, every hit (`cached: true`) is an
// entry, and under LRU the first miss means every older token was evicted. Sends the result to
// the parent over IPC.
import { loadGatehouse } from './load.mjs'
import { AUDIENCE, ISSUER, mint, SECRET } from './tokens.mjs'

const [countArg, cacheArg] = process.argv.slice(2)
const count = Number(countArg)
const cache = cacheArg === 'default' ? undefined : cacheArg === 'off' ? false : { max: Number(cacheArg) }
if (!Number.isSafeInteger(count) || count < 1 || typeof globalThis.gc !== 'function') {
  console.error('usage: node --expose-gc bench/lib/memory-child.mjs <tokens> <default|off|N>')
  process.exit(2)
}

const core = await loadGatehouse('core')
const verifier = core.createTokenVerifier({ secret: SECRET, algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, ...(cache === undefined ? {} : { cache }) })
const now = Math.floor(Date.now() / 1000)
const token = (i) => mint(i, { now })

function sample(tokens) {
  globalThis.gc()
  globalThis.gc()
  const m = process.memoryUsage()
  return { tokens, rssMB: +(m.rss / 2 ** 20).toFixed(1), heapUsedMB: +(m.heapUsed / 2 ** 20).toFixed(2) }
}

// Warm the code paths (on tokens outside the measured range) before the first sample.
for (let i = 0; i < 2000; i++) await verifier.verify(token(count + 10 + i))
const before = sample(0)
const checkpoints = new Set([0.1, 0.25, 0.5, 0.75, 1].map((f) => Math.round(count * f)))
const samples = []
const t0 = process.hrtime.bigint()
const cpu0 = process.cpuUsage()
for (let i = 1; i <= count; i++) {
  const result = await verifier.verify(token(i))
  if (!result.ok) throw new Error(`token ${i} refused: ${result.code}`)
  if (checkpoints.has(i)) samples.push(sample(i))
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
const cpu = process.cpuUsage(cpu0)

let entries = 0
if (cache !== false) {
  for (let i = count; i >= 1; i--) {
    const result = await verifier.verify(token(i))
    if (!result.ok || !result.cached) break
    entries++
  }
}
await verifier.close()
process.send({ cache: cacheArg, tokens: count, before, samples, after: samples[samples.length - 1], entries, verifyUs: +((seconds * 1e6) / count).toFixed(2), verifyCpuUs: +((cpu.user + cpu.system) / count).toFixed(2) })
