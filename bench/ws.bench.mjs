// WebSocket upgrades per second: bare `ws` against @gatehouse/ws in front of it.
//
//   node bench/ws.bench.mjs [--quick]
//
// Variants: bare ws (noServer + handleUpgrade, no checks); gatehouse with the origin policy only
// (default: 'public'); origin + a JWT reused on every upgrade (verified-token cache hits); origin +
// a fresh JWT on every upgrade (full verification each time; tokens are minted before timing).
//
// The servers run in a child process so that the client does not steal their CPU. The client
// opens one upgrade at a time over raw TCP (a fixed, minimal handshake, so the client's own cost
// stays small and equal for every variant), waits for the `101`, and resets the connection (a
// reset leaves no TIME_WAIT behind, so tens of thousands of upgrades do not run out of ports).
// Variants run interleaved, round after round, so drift in the machine hits all of them alike.
// Besides upgrades per second, it reports the server process's CPU time per upgrade, which
// varies less with other load on the machine than a rate does.
// Writes bench/results/ws.json.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { loadGatehouse } from './lib/load.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const ORIGIN = 'https://app.example.com'
const SECRET = 'bench-ws-secret-0123456789-0123456789-abcdef'
const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='
const TARGETS = { 'origin + token reused': 0.95, 'origin + fresh token': 0.85 }

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}
const round = (x, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits

// ---------------------------------------------------------------- server (child process)

async function listen(server) {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return server.address().port
}

async function serve() {
  const { createAuth } = await loadGatehouse('core')
  const { createUpgradeHandler, handleProtocols } = await loadGatehouse('ws')
  const { WebSocketServer } = await import('ws')
  const jwt = JSON.parse(process.env.GATEHOUSE_BENCH_WS_JWT)
  const origins = { allow: [ORIGIN] }
  const ports = {}

  // What the ws README shows for noServer mode, with no checks at all.
  const bare = new WebSocketServer({ noServer: true })
  const bareServer = http.createServer()
  bareServer.on('upgrade', (req, socket, head) => bare.handleUpgrade(req, socket, head, (ws) => bare.emit('connection', ws, req)))
  ports.bare = await listen(bareServer)

  const gated = async (name, auth) => {
    const wss = new WebSocketServer({ noServer: true, handleProtocols })
    const server = http.createServer()
    server.on('upgrade', createUpgradeHandler({ auth, wss }))
    ports[name] = await listen(server)
  }
  await gated('origin', createAuth({ default: 'public', origins }))
  await gated('token', createAuth({ jwt, origins }))
  // The parent went away (finished, or crashed): nothing left to serve.
  process.on('disconnect', () => process.exit(0))
  // CPU time the server spent, asked for between timed segments (never during one).
  process.on('message', (m) => {
    if (m === 'cpu') {
      const { user, system } = process.cpuUsage()
      process.send({ cpu: user + system })
    }
  })
  process.send({ ports })
}

// ---------------------------------------------------------------- client

function request(headers) {
  return ['GET /live HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', ...headers, '', ''].join('\r\n')
}

/** One upgrade: connect, send the handshake, wait for the status line, reset. */
function upgradeOnce(port, bytes) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.setNoDelay(true)
    socket.once('connect', () => socket.write(bytes))
    socket.once('error', reject)
    socket.once('data', (chunk) => {
      const status = chunk.toString('latin1', 0, 12)
      socket.resetAndDestroy()
      if (status === 'HTTP/1.1 101') resolve()
      else reject(new Error(`upgrade refused: ${chunk.toString('latin1').split('\r\n', 1)[0]}`))
    })
  })
}

/** The server process's CPU time so far, in microseconds. */
async function serverCpu(child) {
  child.send('cpu')
  for (;;) {
    const [m] = await once(child, 'message')
    if (m.cpu !== undefined) return m.cpu
  }
}

/**
 * `count` sequential upgrades; `next(i)` gives the i-th request. Returns upgrades per second and
 * the server's CPU time per upgrade in microseconds.
 */
async function measure(child, port, count, next) {
  const cpu0 = await serverCpu(child)
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < count; i++) await upgradeOnce(port, next(i))
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const cpu1 = await serverCpu(child)
  return { perSec: count / seconds, cpuUs: (cpu1 - cpu0) / count }
}

/** Runs the WebSocket upgrade benchmark and writes bench/results/ws.json. */
export async function run({ quick = false } = {}) {
  const count = quick ? 500 : 2000
  const rounds = quick ? 5 : 9
  const warmup = quick ? 200 : 1000
  // Other work on the machine moves these numbers more than anything measured here: record it.
  const loadBefore = loadavg()[0]

  // Load (and, without dist/, bundle) everything here before the child bundles the same files.
  await loadGatehouse('core')
  await loadGatehouse('ws')
  const { createTestIssuer } = await loadGatehouse('core', 'testing/index.ts')
  const issuer = createTestIssuer({ alg: 'HS256', secret: SECRET })
  const reused = request([`Origin: ${ORIGIN}`, `Authorization: Bearer ${issuer.sign({ sub: 'bench-user' }, { expiresIn: '1h' })}`])
  // Every upgrade of the fresh variant presents a token the server has never seen (no verified-token cache hit).
  const freshTotal = warmup + count * rounds
  const fresh = Array.from({ length: freshTotal }, (_, i) => request([`Origin: ${ORIGIN}`, `Authorization: Bearer ${issuer.sign({ sub: `user-${i}`, jti: `t-${i}` }, { expiresIn: '1h' })}`]))
  let freshUsed = 0

  const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
    env: { ...process.env, GATEHOUSE_BENCH_WS_JWT: JSON.stringify(issuer.options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  try {
    const [{ ports }] = await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code]) => Promise.reject(new Error(`bench server exited with code ${code}`))),
    ])
    // Every variant receives the same handshake (Origin and a bearer token), so the comparison
    // measures what gatehouse adds, not the cost of parsing a longer request.
    const variants = [
      { name: 'bare ws', port: ports.bare, next: () => reused },
      { name: 'origin only', port: ports.origin, next: () => reused },
      { name: 'origin + token reused', port: ports.token, next: () => reused },
      { name: 'origin + fresh token', port: ports.token, next: () => fresh[freshUsed++] },
    ]
    for (const v of variants) await measure(child, v.port, warmup, v.next)

    const samples = new Map(variants.map((v) => [v.name, []]))
    for (let r = 0; r < rounds; r++) {
      // Rotate the order each round so no variant always runs first (or right after the slowest).
      for (let k = 0; k < variants.length; k++) {
        const v = variants[(r + k) % variants.length]
        samples.get(v.name).push(await measure(child, v.port, count, v.next))
      }
    }

    const bare = median(samples.get('bare ws').map((x) => x.perSec))
    const bareCpu = median(samples.get('bare ws').map((x) => x.cpuUs))
    const results = variants.map(({ name }) => {
      const xs = samples.get(name).map((x) => x.perSec)
      const cpu = median(samples.get(name).map((x) => x.cpuUs))
      const m = median(xs)
      const ratio = round(m / bare, 3)
      const target = TARGETS[name]
      return {
        name,
        medianPerSec: round(m),
        minPerSec: round(Math.min(...xs)),
        maxPerSec: round(Math.max(...xs)),
        ratioToBare: ratio,
        ...(target ? { target, meetsTarget: ratio >= target } : {}),
        serverCpuUsPerUpgrade: round(cpu, 1),
        addedServerCpuUs: round(cpu - bareCpu, 1),
      }
    })
    const result = {
      benchmark: 'ws',
      date: new Date().toISOString(),
      quick,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpu: cpus()[0]?.model,
      cpus: cpus().length,
      loadAverage1m: { before: round(loadBefore, 2), after: round(loadavg()[0], 2) },
      method:
        'sequential upgrades over raw TCP to a server in a child process, every variant sent the same handshake (Origin + Authorization: Bearer); median of interleaved rounds; server CPU from process.cpuUsage() of the server process',
      upgradesPerRound: count,
      rounds,
      results,
    }
    const out = join(here, 'results', 'ws.json')
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
    return result
  } finally {
    child.kill()
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (isMain && process.argv.includes('--serve')) {
  await serve()
} else if (isMain) {
  const result = await run({ quick: process.argv.includes('--quick') })
  console.log(`WebSocket upgrades/s, ${result.upgradesPerRound} sequential upgrades × ${result.rounds} rounds (median, min–max, ratio to bare ws)`)
  for (const r of result.results) {
    const target = r.target ? `  (target ≥ ${r.target}×: ${r.meetsTarget ? 'met' : 'MISSED'})` : ''
    const cpu = `server CPU ${r.serverCpuUsPerUpgrade} µs/upgrade${r.name === 'bare ws' ? '' : ` (+${r.addedServerCpuUs})`}`
    console.log(`  ${r.name.padEnd(24)} ${String(r.medianPerSec).padStart(6)}/s  ${`${r.minPerSec}–${r.maxPerSec}`.padEnd(11)}  ${r.ratioToBare.toFixed(3)}×  ${cpu}${target}`)
  }
  console.log('wrote bench/results/ws.json')
}
