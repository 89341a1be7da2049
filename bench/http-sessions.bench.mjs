// Session-cookie authentication over HTTP with autocannon: Express + gatehouse sessions against
// Express + express-session, with each library's in-memory store and with Redis
// (@gatehouse/redis on ioredis vs connect-redis on node-redis). Each server logs one user in
// (POST /login) and the load then sends that session cookie on every request. Servers run in
// child processes; the Redis pair shares one throwaway redis-server, skipped when it is missing.
//
//   node bench/http-sessions.bench.mjs [--quick]
import { pathToFileURL } from 'node:url'
import { fixedHeaders, interleave, sizes, startServer } from './lib/http.mjs'
import { redisServerVersion, startRedis } from './lib/redis-server.mjs'
import { writeResult } from './lib/results.mjs'
import { printTables } from './lib/cli.mjs'

/** Logs in once and returns the `name=value` pair of the session cookie the server set. */
async function login(server) {
  const res = await globalThis.fetch(`${server.url}/login`, { method: 'POST' })
  await res.arrayBuffer()
  const cookie = res.headers.getSetCookie()[0]
  if (res.status !== 204 || cookie === undefined) throw new Error(`${server.name}: POST /login answered ${res.status} without a session cookie`)
  return cookie.split(';')[0]
}

/** Runs the scenario and writes bench/results/http-sessions.json. */
export async function run({ quick = false, cpuProfDir, log = () => {} } = {}) {
  const size = sizes(quick)
  const redisVersion = redisServerVersion()
  const servers = []
  let redis
  const start = async (name, options) => {
    const server = await startServer(name, { cpuProfDir, ...options })
    servers.push(server)
    return server
  }
  try {
    const bare = await start('express-session-bare')
    const memory = [await start('express-gatehouse-session'), await start('express-session')]
    let stores = []
    if (redisVersion) {
      redis = await startRedis()
      stores = [await start('express-gatehouse-session-redis', { redisPort: redis.port }), await start('express-session-redis', { redisPort: redis.port })]
    } else {
      log('redis-server is not installed: the Redis pair is skipped (apt-get install redis-server)')
    }
    const base = 'Express (bare, cookie sent)'
    const contender = (name, group, role, server, cookie) => ({ name, group, role, baseline: base, server, load: fixedHeaders({ cookie }), probeHeaders: { cookie }, guarded: role !== 'baseline' })
    const [ghMemory, esMemory] = await Promise.all(memory.map(login))
    const contenders = [
      contender(base, 'memory', 'baseline', bare, esMemory),
      contender('Express + gatehouse sessions (memory store)', 'memory', 'gatehouse', memory[0], ghMemory),
      contender('Express + express-session (MemoryStore)', 'memory', 'peer', memory[1], esMemory),
    ]
    if (stores.length) {
      const [ghRedis, esRedis] = await Promise.all(stores.map(login))
      contenders.push(
        contender('Express + gatehouse sessions + @gatehouse/redis', 'redis', 'gatehouse', stores[0], ghRedis),
        contender('Express + express-session + connect-redis', 'redis', 'peer', stores[1], esRedis),
      )
    }
    const rows = await interleave(contenders, { ...size, log })
    const find = (name) => rows.find((r) => r.name === name)
    const versus = (a, b) => (find(a) && find(b) ? Math.round((find(a).rps.median / find(b).rps.median) * 1000) / 1000 : undefined)
    return writeResult('http-sessions', {
      quick,
      ...size,
      redis: redisVersion ? { version: /v=(\S+)/.exec(redisVersion)?.[1] ?? redisVersion } : { skipped: 'redis-server is not installed' },
      rows,
      memoryVsExpressSession: versus('Express + gatehouse sessions (memory store)', 'Express + express-session (MemoryStore)'),
      redisVsConnectRedis: versus('Express + gatehouse sessions + @gatehouse/redis', 'Express + express-session + connect-redis'),
    })
  } finally {
    await Promise.all(servers.map((s) => s.close()))
    await redis?.stop()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTables('http-sessions', await run({ quick: process.argv.includes('--quick') }))
}
