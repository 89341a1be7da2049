import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleClient } from '../test/bundle'

interface Report {
  timers: string[]
  listeners: string[]
  touched: string[]
  exports: string[]
  relativeError?: string
}

// Runs in a fresh Node process: every timer, listener and browser global is a trap that
// records its use. Creating the client counts as well as importing it, because SSR code creates
// clients at module level too.
const probe = (file: string) => `
  const report = { timers: [], listeners: [], touched: [] }
  for (const name of ['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask']) {
    const original = globalThis[name]
    globalThis[name] = (...args) => { report.timers.push(name); return original(...args) }
  }
  const add = EventTarget.prototype.addEventListener
  EventTarget.prototype.addEventListener = function (type, ...rest) { report.listeners.push(type); return add.call(this, type, ...rest) }
  process.on('newListener', (type) => report.listeners.push('process:' + String(type)))
  for (const name of ['window', 'document', 'navigator', 'location', 'self', 'localStorage', 'sessionStorage', 'WebSocket']) {
    Object.defineProperty(globalThis, name, { configurable: true, get() { report.touched.push(name); return undefined } })
  }
  const mod = await import(${JSON.stringify(pathToFileURL(file).href)})
  mod.createAuthFetch({ baseUrl: 'https://api.example.com', token: mod.fromCookie('client_token'), refresh: async () => null })
  mod.createAuthFetch({ token: 't', allowOrigins: ['https://api.example.com'] })
  const result = { timers: [...report.timers], listeners: [...report.listeners], touched: [...report.touched], exports: Object.keys(mod).sort() }
  // Only now may the client look for a page: a relative URL without baseUrl needs one.
  try { await mod.createAuthFetch({ token: 't' })('/relative') } catch (error) { result.relativeError = String(error) }
  process.stdout.write(JSON.stringify(result))
`

let dir: string
let report: Report

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-ssr-'))
  const file = join(dir, 'client.mjs')
  await writeFile(file, await bundleClient())
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe(file)], { cwd: dir })
  report = JSON.parse(stdout) as Report
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('server-side rendering safety', () => {
  it('exports the public API', () => {
    expect(report.exports).toEqual(['createAuthFetch', 'fromCookie'])
  })

  it('touches no browser global on import or creation', () => {
    expect(report.touched).toEqual([])
  })

  it('registers no timer and no listener on import or creation', () => {
    expect(report.timers).toEqual([])
    expect(report.listeners).toEqual([])
  })

  it('fails a relative URL at call time, with a message naming baseUrl', () => {
    expect(report.relativeError).toMatch(/^TypeError: .*"\/relative".*"baseUrl"/)
  })
})
