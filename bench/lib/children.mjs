// Every child process a benchmark starts is registered here, so that a run that ends early —
// an error, Ctrl-C, SIGTERM — never leaves a server or redis-server behind.
import { fork as nodeFork, spawn as nodeSpawn } from 'node:child_process'

const live = new Set()
let hooked = false

function hook() {
  if (hooked) return
  hooked = true
  // 'exit' handlers must be synchronous: SIGKILL is the only thing left to do there.
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL')
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      for (const child of live) child.kill('SIGKILL')
      console.error(`\nbench: ${signal}, stopped ${live.size} child process(es)`)
      process.exit(130)
    })
  }
}

/** Registers `child` until it exits. */
export function track(child) {
  hook()
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

/** `child_process.fork`, tracked. */
export function fork(modulePath, args, options) {
  return track(nodeFork(modulePath, args, options))
}

/** `child_process.spawn`, tracked. */
export function spawn(command, args, options) {
  return track(nodeSpawn(command, args, options))
}

/** Resolves once `child` has exited (at once when it already has). */
export function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/**
 * Asks a child to finish by itself (so `--cpu-prof` can write its profile), then kills it if it
 * has not exited within `graceMs`.
 */
export async function stop(child, { message = { type: 'exit' }, graceMs = 5000 } = {}) {
  if (child.exitCode !== null || child.signalCode !== null) return
  if (child.connected) child.send(message)
  else child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited(child)
  clearTimeout(timer)
}
