// Profiles one HTTP server under one load, to find what a request costs:
//
//   node bench/profile-http.mjs <server> [--fresh | --cookie] [--fill N] [--seconds N] [--top N]
//
// <server> is one of bench/servers/http-server.mjs's servers (express-gatehouse, fastify-jwt, …).
// The server runs under `node --cpu-prof`; autocannon sends one reused HS256 token (default),
// a fresh token per request (--fresh), or a logged-in session cookie (--cookie) for N seconds
// (default 10). --fill N first sends N distinct tokens (unmeasured), as a server that has seen
// many users has: the verified-token cache is then full. Prints the functions with the most self time and the time by location, and
// leaves the .cpuprofile for Chrome DevTools.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { PATH, startServer } from './lib/http.mjs'
import { profileLines, summarizeProfile } from './lib/profile.mjs'
import { redisServerVersion, startRedis } from './lib/redis-server.mjs'
import { mint, mintMany } from './lib/tokens.mjs'

const args = process.argv.slice(2)
const name = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a))
const option = (flag, fallback) => {
  const i = args.indexOf(flag)
  return i === -1 ? fallback : Number(args[i + 1])
}
if (!name) {
  console.error('usage: node bench/profile-http.mjs <server> [--fresh | --cookie] [--fill N] [--seconds N] [--top N]')
  process.exit(2)
}
const seconds = option('--seconds', 10)
const mode = args.includes('--fresh') ? 'fresh' : args.includes('--cookie') ? 'cookie' : 'reused'
const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'node_modules', '.cache', 'gatehouse-bench', 'profiles', `${name}-${mode}-${Date.now()}`)

let redis
if (name.endsWith('-redis')) {
  if (!redisServerVersion()) throw new Error('this server needs redis-server (apt-get install redis-server)')
  redis = await startRedis()
}
const server = await startServer(name, { cpuProfDir: dir, redisPort: redis?.port })
try {
  let load
  if (mode === 'cookie') {
    const res = await globalThis.fetch(`${server.url}/login`, { method: 'POST' })
    load = { headers: { cookie: res.headers.getSetCookie()[0].split(';')[0] } }
  } else if (mode === 'fresh') {
    const tokens = mintMany(60_000, 1)
    let i = 0
    load = { requests: [{ setupRequest: (req) => ((req.headers.authorization = `Bearer ${tokens[i++ % tokens.length]}`), req) }] }
  } else {
    load = { headers: { authorization: `Bearer ${mint(0)}` } }
  }
  const fill = option('--fill', 0)
  if (fill > 0) {
    const tokens = mintMany(fill, 100_000)
    let i = 0
    await autocannon({ url: server.url + PATH, connections: 32, amount: fill, requests: [{ setupRequest: (req) => ((req.headers.authorization = `Bearer ${tokens[i++ % tokens.length]}`), req) }] })
  }
  await server.begin()
  const result = await autocannon({ url: server.url + PATH, connections: 32, duration: seconds, ...load })
  const cpu = await server.end()
  console.log(`${name} (${mode}${fill ? `, after ${fill} other tokens` : ''}): ${Math.round(result.requests.total / result.duration)} req/s, ${result.non2xx} non-2xx, server CPU ${((cpu.userUs + cpu.systemUs) / cpu.requests).toFixed(1)} µs/request`)
} finally {
  await server.close()
  await redis?.stop()
}
const file = join(dir, `${name}.cpuprofile`)
console.log(profileLines(file, summarizeProfile(file, option('--top', 30))).join('\n'))
