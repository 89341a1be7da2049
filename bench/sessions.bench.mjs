// Session check cost: `sessions.authenticate()` with the memory store (target: median ≤ 2 µs per
// check) and with Redis (latency, throughput, and Redis commands per check).
//
//   node bench/sessions.bench.mjs [--quick]
//
// Writes bench/results/sessions.json. The Redis part runs when `redis-server` is installed; it
// starts its own server on a free port (test/redis-server.ts) and stops it afterwards.
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { loadGatehouse } from './lib/load.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const SECRET = 'bench-secret-0123456789-0123456789-abcdef'

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits
const cookieValue = (setCookie) => setCookie.split(';')[0].split('=').slice(1).join('=')

/** Median ns per call of `op` over `samples` batches of `batch` sequential awaited calls. */
async function measure(op, { batch, samples, warmup }) {
  for (let i = 0; i < warmup; i++) await op()
  const perOp = []
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < batch; i++) await op()
    perOp.push(Number(process.hrtime.bigint() - t0) / batch)
  }
  return { medianNs: round(median(perOp)), minNs: round(Math.min(...perOp)), maxNs: round(Math.max(...perOp)), samples, batch }
}

async function benchMemory(core, quick) {
  const sizes = quick ? { batch: 5_000, samples: 9, warmup: 20_000 } : { batch: 20_000, samples: 31, warmup: 100_000 }
  const store = core.memoryStore()
  const sessions = core.createSessionManager({ secret: SECRET, store })
  const { setCookie } = await sessions.create({ userId: 'bench-user', roles: ['admin'], data: { plan: 'pro' } })
  const values = [cookieValue(setCookie)]
  const warm = await measure(async () => {
    const r = await sessions.authenticate(values)
    if (!r.ok) throw new Error(`bench session refused: ${r.hint}`)
  }, sizes)

  // First sight of a cookie (a new process, or one evicted from the verified-cookie cache):
  // signature check and key hash, then the store read. One round warms the code up first.
  const count = quick ? 2_000 : 10_000
  const coldStore = core.memoryStore({ max: 4 * count })
  const issuer = core.createSessionManager({ secret: SECRET, store: coldStore })
  const firstSight = async () => {
    const values = []
    for (let i = 0; i < count; i++) values.push([cookieValue((await issuer.create({ userId: `u${i % 100}` })).setCookie)])
    const fresh = core.createSessionManager({ secret: SECRET, store: coldStore })
    const t0 = process.hrtime.bigint()
    for (const v of values) if (!(await fresh.authenticate(v)).ok) throw new Error('first-sight session refused')
    const ns = Number(process.hrtime.bigint() - t0) / count
    await fresh.close()
    return ns
  }
  await firstSight()
  const coldNs = await firstSight()
  await issuer.close()

  // A forged cookie: refused by the signature check alone, before the store.
  const forged = [`${'A'.repeat(43)}.${'B'.repeat(43)}`]
  const forgedRun = await measure(async () => {
    if ((await sessions.authenticate(forged)).ok) throw new Error('forged cookie accepted')
  }, { ...sizes, samples: Math.max(5, sizes.samples >> 2) })

  await sessions.close()
  return {
    authenticate: { ...warm, target: { medianNs: 2000 }, meetsTarget: warm.medianNs <= 2000 },
    firstSightNsPerOp: round(coldNs),
    firstSightSessions: count,
    forgedCookie: forgedRun,
  }
}

async function loadRedisHelper() {
  const outfile = join(here, '.cache', 'redis-server.mjs')
  mkdirSync(dirname(outfile), { recursive: true })
  await build({ entryPoints: [join(here, '..', 'test', 'redis-server.ts')], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error' })
  return import(pathToFileURL(outfile).href)
}

/** Sum of `calls` over every command in INFO commandstats except INFO itself. */
async function commandCalls(admin) {
  const text = await admin.info('commandstats')
  let total = 0
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (match[1] !== 'info') total += Number(match[2])
  return total
}

async function benchRedis(core, quick) {
  const helper = await loadRedisHelper()
  let present
  try {
    present = helper.hasRedisServer()
  } catch {
    // Under CI the helper throws for a missing binary (tests must not skip); a benchmark may.
    present = false
  }
  if (!present) return { skipped: 'redis-server is not installed' }
  const [{ redisStore }, { Redis }] = await Promise.all([loadGatehouse('redis'), import('ioredis')])
  const server = await helper.startRedis()
  const options = { host: '127.0.0.1', port: server.port, enableOfflineQueue: false, maxRetriesPerRequest: 1 }
  const client = new Redis(options)
  const admin = new Redis(options)
  try {
    await Promise.all([client, admin].map((c) => new Promise((resolve, reject) => c.once('ready', resolve).once('error', reject))))
    const sessions = core.createSessionManager({ secret: SECRET, store: redisStore(client) })
    const { setCookie } = await sessions.create({ userId: 'bench-user', roles: ['admin'] })
    const values = [cookieValue(setCookie)]
    const check = async () => {
      const r = await sessions.authenticate(values)
      if (!r.ok) throw new Error(`bench session refused: ${r.hint}`)
    }

    const sizes = quick ? { batch: 300, samples: 5, warmup: 500 } : { batch: 2_000, samples: 11, warmup: 3_000 }
    const before = await commandCalls(admin)
    const sequential = await measure(check, sizes)
    const after = await commandCalls(admin)
    const ops = sizes.warmup + sizes.batch * sizes.samples

    // Throughput with many checks in flight on one connection.
    const inFlight = 64
    const total = quick ? 5_000 : 50_000
    let issued = 0
    const t0 = process.hrtime.bigint()
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (issued < total) {
          issued++
          await check()
        }
      }),
    )
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9

    await sessions.close()
    return {
      redisVersion: /redis_version:(\S+)/.exec(await admin.info('server'))?.[1],
      authenticate: { ...sequential, medianUs: round(sequential.medianNs / 1000, 2) },
      commandsPerCheck: round((after - before) / ops, 3),
      concurrent: { inFlight, checks: total, opsPerSec: Math.round(total / seconds) },
      clientOptions: { enableOfflineQueue: false, maxRetriesPerRequest: 1 },
    }
  } finally {
    client.disconnect()
    admin.disconnect()
    await server.stop()
  }
}

/** Runs the session benchmark and writes bench/results/sessions.json. */
export async function run({ quick = false } = {}) {
  const core = await loadGatehouse('core')
  const memory = await benchMemory(core, quick)
  const redis = await benchRedis(core, quick)
  const result = {
    benchmark: 'sessions',
    date: new Date().toISOString(),
    quick,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model,
    memory,
    redis,
  }
  const out = join(here, 'results', 'sessions.json')
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
  return result
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run({ quick: process.argv.includes('--quick') })
  const m = result.memory
  console.log(`memory store  authenticate: median ${m.authenticate.medianNs} ns/op (target ≤ 2000 ns: ${m.authenticate.meetsTarget ? 'met' : 'MISSED'})`)
  console.log(`              first sight of a cookie: ${m.firstSightNsPerOp} ns/op; forged cookie: ${m.forgedCookie.medianNs} ns/op`)
  if (result.redis.skipped) console.log(`redis         skipped: ${result.redis.skipped}`)
  else {
    const r = result.redis
    console.log(`redis ${r.redisVersion}   authenticate: median ${r.authenticate.medianUs} µs/op sequential, ${r.concurrent.opsPerSec} ops/s with ${r.concurrent.inFlight} in flight`)
    console.log(`              Redis commands per check: ${r.commandsPerCheck}`)
  }
  console.log('wrote bench/results/sessions.json')
}
