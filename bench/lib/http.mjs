// The machinery of the HTTP scenarios: servers in child processes (bench/servers/http-server.mjs),
// autocannon in this process, interleaved rounds, and per-round server CPU from the child.
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { fork, stop } from './children.mjs'
import { rotation, round, summarize } from './stats.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const SERVER = join(here, '..', 'servers', 'http-server.mjs')
export const PATH = '/api/items'

/** Sends `message` to `child` and resolves with its next message of type `reply`. */
function ask(child, message, reply, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no '${reply}' from the server within ${timeoutMs} ms`)), timeoutMs)
    const onMessage = (m) => m?.type === reply && done(undefined, m)
    const onExit = (code, signal) => done(new Error(`the server exited (${signal ?? code}) while waiting for '${reply}'`))
    function done(error, value) {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
      if (error) reject(error)
      else resolve(value)
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
    if (message) child.send(message)
  })
}

/**
 * Starts `bench/servers/http-server.mjs <name>` in a child process and waits for its port.
 * With `cpuProfDir`, the child runs under `--cpu-prof` and writes `<name>.cpuprofile` there when
 * it is closed.
 */
export async function startServer(name, { redisPort, cpuProfDir } = {}) {
  const execArgv = []
  if (cpuProfDir) {
    mkdirSync(cpuProfDir, { recursive: true })
    execArgv.push('--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `${name}.cpuprofile`)
  }
  const args = redisPort === undefined ? [name] : [name, String(redisPort)]
  const child = fork(SERVER, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const ready = await ask(child, undefined, 'ready', 60_000)
  const url = `http://127.0.0.1:${ready.port}`
  return {
    name,
    url,
    pid: ready.pid,
    /** Starts a measured round in the child. */
    begin: () => ask(child, { type: 'start' }, 'started'),
    /** Ends it: `{ userUs, systemUs, requests, wallUs }`. */
    end: () => ask(child, { type: 'stop' }, 'stats'),
    close: () => stop(child),
  }
}

/** A request `fetch`ed once before measuring, to prove the contender is wired as claimed. */
async function probe(url, headers) {
  const res = await globalThis.fetch(url, { headers })
  await res.arrayBuffer()
  return res.status
}

/**
 * Checks that a contender answers 200 with its credential and, when it guards the route, 401
 * without one. A contender that lets everything through would otherwise look fast.
 */
export async function preflight(contender) {
  const url = contender.server.url + PATH
  const withCredential = await probe(url, contender.probeHeaders ?? {})
  if (withCredential !== 200) throw new Error(`${contender.name}: expected 200 with a valid credential, got ${withCredential}`)
  if (contender.guarded) {
    const without = await probe(url, {})
    if (without !== 401) throw new Error(`${contender.name}: expected 401 without a credential, got ${without}`)
  }
}

/** autocannon options for a fixed header set (the request is built once and reused). */
export function fixedHeaders(headers) {
  return () => ({ headers })
}

/**
 * autocannon options that give every request the next value of `values` in `header`, e.g. a
 * fresh token each time. The request buffer is rebuilt per request, so a baseline that must be
 * compared with this one should rotate too (see the bare "(rotating)" contenders).
 */
export function rotatingHeader(header, values, prefix = '') {
  return () => {
    let i = Math.floor(Math.random() * values.length)
    return {
      requests: [
        {
          setupRequest(req) {
            req.headers[header] = prefix + values[i++ % values.length]
            return req
          },
        },
      ],
    }
  }
}

async function once(contender, { duration, connections }) {
  await contender.server.begin()
  const result = await autocannon({
    url: contender.server.url + PATH,
    connections,
    pipelining: 1,
    duration,
    ...contender.load(),
  })
  const cpu = await contender.server.end()
  const bad = result.non2xx + result.errors + result.timeouts
  if (bad > 0) throw new Error(`${contender.name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts in ${result.requests.total} requests`)
  const cpuUs = cpu.userUs + cpu.systemUs
  return {
    rps: result.requests.total / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    cpuUsPerRequest: cpu.requests > 0 ? cpuUs / cpu.requests : NaN,
    serverCpuShare: cpuUs / cpu.wallUs,
    requests: result.requests.total,
  }
}

/**
 * Runs every contender for `rounds` rounds of `duration` seconds, interleaved (round r visits them
 * in a rotated order), after one warm-up run each. `baseline(contender)` names the contender each
 * one's ratio is taken against; ratios are of medians over the same rounds.
 *
 * @returns rows of `{ name, rps, cpuUsPerRequest, latencyP50Ms, latencyP99Ms, ratio, cpuRatio, … }`.
 */
export async function interleave(contenders, { rounds, duration, warmup, connections, log = () => {} }) {
  for (const c of contenders) await preflight(c)
  for (const c of contenders) await once(c, { duration: warmup, connections })
  const samples = new Map(contenders.map((c) => [c, []]))
  for (let r = 0; r < rounds; r++) {
    for (const i of rotation(contenders.length, r)) {
      const c = contenders[i]
      samples.get(c).push(await once(c, { duration, connections }))
    }
    log(`  round ${r + 1}/${rounds} done`)
  }
  const rows = contenders.map((c) => {
    const xs = samples.get(c)
    return {
      name: c.name,
      group: c.group,
      role: c.role,
      baseline: c.baseline,
      rps: summarize(xs.map((x) => x.rps), 0),
      cpuUsPerRequest: summarize(xs.map((x) => x.cpuUsPerRequest), 1),
      serverCpuShare: summarize(xs.map((x) => x.serverCpuShare), 2),
      latencyP50Ms: summarize(xs.map((x) => x.latencyP50Ms), 1),
      latencyP99Ms: summarize(xs.map((x) => x.latencyP99Ms), 1),
      requests: xs.reduce((a, x) => a + x.requests, 0),
    }
  })
  for (const row of rows) {
    const base = rows.find((b) => b.name === row.baseline)
    if (!base) continue
    row.ratio = round(row.rps.median / base.rps.median, 3)
    row.cpuRatio = round(row.cpuUsPerRequest.median / base.cpuUsPerRequest.median, 3)
    row.addedCpuUsPerRequest = round(row.cpuUsPerRequest.median - base.cpuUsPerRequest.median, 1)
  }
  return rows
}

/** The autocannon/round sizes of a scenario for `quick` or full runs. */
export function sizes(quick) {
  return quick ? { rounds: 3, duration: 1, warmup: 0.5, connections: 32 } : { rounds: 5, duration: 4, warmup: 2, connections: 32 }
}
