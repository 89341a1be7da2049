// Starts a throwaway redis-server on a free 127.0.0.1 port: the same few steps as
// test/redis-server.ts (no persistence, ready once it answers PING), in plain JavaScript so the
// benchmarks need no TypeScript loader. The process is tracked and killed when the run ends.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { exited, spawn } from './children.mjs'

const BINARY = process.env.REDIS_SERVER ?? 'redis-server'

/** The `redis-server --version` line, or undefined when the binary is missing or does not run. */
export function redisServerVersion() {
  const probe = spawnSync(BINARY, ['--version'], { encoding: 'utf8' })
  return probe.status === 0 && /Redis server/i.test(probe.stdout) ? probe.stdout.trim() : undefined
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let reply = ''
    const done = (ok) => {
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

/** Starts redis-server and waits (at most 10 s) until it answers PING. */
export async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-redis-'))
  const port = await freePort()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning']
  const child = spawn(BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let output = ''
  child.stderr.on('data', (d) => (output = (output + d).slice(-2000)))
  const stopIt = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited(child)
    rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break
    if (await ping(port)) return { port, url: `redis://127.0.0.1:${port}`, pid: child.pid, stop: stopIt }
    await sleep(25)
  }
  child.kill('SIGKILL')
  await stopIt()
  throw new Error(`redis-server did not answer PING on port ${port}: ${output}`)
}
