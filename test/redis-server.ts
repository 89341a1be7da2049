/**
 * Starts real `redis-server` processes for tests and benchmarks: a free 127.0.0.1 port, no
 * persistence (`--save '' --appendonly no`), ready once it answers PING. Framework-free, so
 * benchmarks can bundle it too.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/** A running redis-server. */
export interface RedisServer {
  port: number
  /** `redis://127.0.0.1:<port>` */
  url: string
  /** The process id of the current server process (changes on `restart`). */
  readonly pid: number
  /** Shuts the server down gracefully (SIGTERM) and waits until it has exited. Idempotent. */
  stop(): Promise<void>
  /** Kills the server abruptly (SIGKILL), as a crash would, and waits until it has exited. */
  kill(): Promise<void>
  /** Starts the server again on the same port (stopping it first if it runs); data is gone. */
  restart(): Promise<void>
}

const BINARY = process.env.REDIS_SERVER ?? 'redis-server'
let availability: boolean | undefined

/**
 * Whether the `redis-server` binary can run here. When it cannot, tests skip with a message
 * saying how to install it; under CI (`process.env.CI` set) this throws instead, so a missing
 * binary fails the build rather than silently skipping the Redis tests.
 */
export function hasRedisServer(): boolean {
  if (availability === undefined) {
    const probe = spawnSync(BINARY, ['--version'], { encoding: 'utf8' })
    availability = probe.status === 0 && /Redis server/i.test(probe.stdout)
    if (!availability) {
      const why = `'${BINARY}' was not found or did not run (install it, e.g. \`apt-get install redis-server\` or \`brew install redis\`, or set REDIS_SERVER to its path)`
      if (process.env.CI) throw new Error(`Redis tests need redis-server under CI: ${why}`)
      console.warn(`Skipping Redis tests: ${why}`)
    }
  }
  return availability
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** Resolves true once the server answers PING with PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let reply = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1')
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

const running = new Set<ChildProcess>()
let exitHookInstalled = false
function track(child: ChildProcess): void {
  running.add(child)
  child.once('exit', () => running.delete(child))
  if (!exitHookInstalled) {
    exitHookInstalled = true
    // A crashed test run must not leave servers behind.
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL')
    })
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

async function launch(port: number, dir: string): Promise<ChildProcess> {
  mkdirSync(dir, { recursive: true })
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning']
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  track(child)
  let output = ''
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-2000)))
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-2000)))
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited during start-up on port ${port}:\n${output}`)
    if (await ping(port)) return child
    await sleep(25)
  }
  child.kill('SIGKILL')
  await exited(child)
  throw new Error(`redis-server did not answer PING on port ${port} within 10 s:\n${output}`)
}

/** Starts a redis-server on a free 127.0.0.1 port and waits until it answers PING. */
export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-redis-'))
  let child: ChildProcess | undefined
  let port = 0
  // Another process may take the free port between the probe and the bind: try a few.
  for (let attempt = 1; child === undefined; attempt++) {
    port = await freePort()
    try {
      child = await launch(port, dir)
    } catch (error) {
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true })
        throw error
      }
    }
  }
  let current: ChildProcess = child
  const end = async (signal: NodeJS.Signals) => {
    if (current.exitCode === null && current.signalCode === null) current.kill(signal)
    await exited(current)
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return current.pid as number
    },
    async stop() {
      await end('SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    },
    kill: () => end('SIGKILL'),
    async restart() {
      await end('SIGTERM')
      current = await launch(port, dir)
    },
  }
}
