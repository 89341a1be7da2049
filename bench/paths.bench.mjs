// Path matching: gatehouse's compiled trie against the usual ways of excluding or guarding paths
// (picomatch globs, path-to-regexp v8 `match()` functions, express-unless), each checked in list
// order as those libraries are used, at 30 and 1000 patterns.
//
//   node bench/paths.bench.mjs [--quick]
//
// Prints a table and writes bench/results/paths.json. `run({ quick })` does the same for a harness.
import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { loadGatehouse } from './lib/load.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const picomatch = require('picomatch')
const { match: p2rMatch } = require('path-to-regexp')
const { unless } = require('express-unless')

/** Deterministic PRNG (mulberry32) so every run measures the same patterns and paths. */
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = ['users', 'orgs', 'repos', 'items', 'orders', 'invoices', 'projects', 'teams', 'files', 'reports', 'agents', 'sessions', 'tokens', 'webhooks', 'events', 'billing', 'plans', 'members', 'keys', 'jobs']
const SUBS = ['comments', 'members', 'settings', 'history', 'attachments', 'labels']

/** `n` realistic patterns: exact, `:id`, nested, `/**` and method-prefixed forms. */
function makePatterns(n, random) {
  const out = ['/health', '/docs/**', '/api/auth/**']
  for (let i = 0; out.length < n; i++) {
    const word = WORDS[i % WORDS.length]
    const resource = i < WORDS.length ? word : `${word}${Math.floor(i / WORDS.length)}`
    const version = `v${1 + (i % 3)}`
    const base = `/api/${version}/${resource}`
    const sub = SUBS[Math.floor(random() * SUBS.length)]
    const forms = [base, `GET ${base}/:id`, `${base}/:id/${sub}`, `${base}/admin/**`, `POST,PUT ${base}/:id/${sub}/:subId`]
    for (const form of forms) if (out.length < n) out.push(form)
  }
  return out
}

/** Request paths: most hit some pattern (early or late in the list), about a fifth miss. */
function makeRequests(patterns, count, random) {
  const requests = []
  for (let i = 0; i < count; i++) {
    if (random() < 0.2) {
      const misses = ['/static/app.js', '/api/v9/unknown/1', '/favicon.ico', `/api/v1/${WORDS[i % WORDS.length]}/1/nothing/here`, '/api/v2/zzz']
      requests.push({ method: 'GET', path: misses[i % misses.length] })
      continue
    }
    const source = patterns[Math.floor(random() * patterns.length)]
    const space = source.indexOf(' ')
    const method = space === -1 ? 'GET' : source.slice(0, source.indexOf(',') === -1 ? space : source.indexOf(','))
    let path = (space === -1 ? source : source.slice(space + 1)).replace(/:\w+/g, () => String(Math.floor(random() * 1e6)))
    if (path.endsWith('/**')) path = path.slice(0, -3) + ['', '/x', '/x/y'][Math.floor(random() * 3)]
    requests.push({ method, path })
  }
  return requests
}

function split(pattern) {
  const space = pattern.indexOf(' ')
  if (space === -1) return { methods: undefined, path: pattern }
  const methods = pattern.slice(0, space).split(',')
  if (methods.includes('GET')) methods.push('HEAD')
  return { methods, path: pattern.slice(space + 1) }
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Each peer gets the same patterns in its own syntax, checked in order like its users do. */
function peers(patterns) {
  const parsed = patterns.map(split)
  const pico = parsed.map(({ methods, path }) => ({ methods, test: picomatch(path.replace(/:\w+/g, '*')) }))
  const p2r = parsed.map(({ methods, path }) => ({ methods, test: p2rMatch(path.replace(/\/\*\*$/, '{/*rest}')) }))
  // express-unless takes exact strings, RegExps, or { url, methods } objects.
  const unlessPaths = parsed.map(({ methods, path }) => {
    const url = /[:*]/.test(path)
      ? new RegExp(`^${path.replace(/\/\*\*$/, '').split('/').map((s) => (s.startsWith(':') || s === '*' ? '[^/]+' : escape(s))).join('/')}${path.endsWith('/**') ? '(?:/.*)?' : ''}$`)
      : path
    return methods ? { url, methods } : url
  })
  const first = (list) => (method, path) => {
    for (let i = 0; i < list.length; i++) {
      const entry = list[i]
      if (entry.methods !== undefined && !entry.methods.includes(method)) continue
      if (entry.test(path)) return i
    }
    return -1
  }
  let skipped = false
  const middleware = () => {}
  middleware.unless = unless
  const guarded = middleware.unless({ path: unlessPaths })
  const next = () => {
    skipped = true
  }
  return {
    picomatch: first(pico),
    'path-to-regexp': first(p2r),
    // The real middleware (it parses req.originalUrl with url.parse, then runs its loop).
    'express-unless': (method, path) => {
      skipped = false
      guarded({ method, originalUrl: path, url: path }, {}, next)
      return skipped ? 0 : -1
    },
  }
}

async function loadCore() {
  try {
    const core = await loadGatehouse('core')
    if (typeof core.createPathMatcher === 'function' && typeof core.compileRules === 'function') return core
  } catch {
    // index.ts not ready or not exporting these yet: bundle the modules themselves.
  }
  const [matcher, rules] = await Promise.all([loadGatehouse('core', 'path-matcher.ts'), loadGatehouse('core', 'rules.ts')])
  return { createPathMatcher: matcher.createPathMatcher, compileRules: rules.compileRules }
}

/**
 * A timing loop of its own for each contender, so that no contender pays for a call site that
 * the others made megamorphic.
 */
const loops = new WeakMap()
function loopFor(fn, requests) {
  let byRequests = loops.get(fn)
  if (byRequests === undefined) loops.set(fn, (byRequests = new Map()))
  let loop = byRequests.get(requests)
  if (loop === undefined) {
    loop = new Function(
      'fn',
      'requests',
      `return function (passes) {
        let sink = 0
        for (let p = 0; p < passes; p++) {
          for (let i = 0; i < requests.length; i++) {
            const r = requests[i]
            sink += fn(r.method, r.path)
          }
        }
        return sink
      }`,
    )(fn, requests)
    byRequests.set(requests, loop)
  }
  return loop
}

/**
 * ns per call of `fn` over every request, one timed pass of `passes` repetitions: wall-clock, and
 * the process's CPU time, which a busy machine inflates less (descheduled time is not counted).
 */
function timePass(fn, requests, passes) {
  const loop = loopFor(fn, requests)
  const cpu = process.cpuUsage()
  const start = process.hrtime.bigint()
  const sink = loop(passes)
  const ns = Number(process.hrtime.bigint() - start)
  const used = process.cpuUsage(cpu)
  const calls = passes * requests.length
  return { ns: ns / calls, cpuNs: ((used.user + used.system) * 1000) / calls, sink }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * Runs the benchmark. Contenders run interleaved, round by round in rotating order, so drift in
 * machine speed affects them alike; the median of the rounds is reported.
 */
export async function run({ quick = false } = {}) {
  const core = await loadCore()
  const rounds = quick ? 5 : 15
  const requestCount = 1000
  const results = { node: process.version, cpu: cpus()[0]?.model, loadavg: loadavg().map(round1), quick, rounds, requests: requestCount, sizes: [], resolve: undefined }
  let sink = 0

  for (const size of [30, 1000]) {
    const random = prng(size)
    const patterns = makePatterns(size, random)
    const requests = makeRequests(patterns, requestCount, random)
    const matcher = core.createPathMatcher(patterns)
    const contenders = { gatehouse: (method, path) => matcher.match(method, path)?.index ?? -1, ...peers(patterns) }

    // The translations must agree with gatehouse on every request, or the comparison is void.
    const disagreements = {}
    for (const [name, fn] of Object.entries(contenders)) {
      if (name === 'gatehouse') continue
      let count = 0
      for (const r of requests) {
        const expected = contenders.gatehouse(r.method, r.path)
        const got = fn(r.method, r.path)
        if (name === 'express-unless' ? (expected === -1) !== (got === -1) : got !== expected) count++
      }
      disagreements[name] = count
    }

    const names = Object.keys(contenders)
    const samples = Object.fromEntries(names.map((n) => [n, []]))
    const cpuSamples = Object.fromEntries(names.map((n) => [n, []]))
    // Aim each timed pass at roughly 20 ms for the slowest contender at this size.
    const passes = Math.max(1, Math.round((quick ? 4 : 20) / (size / 30)))
    for (const name of names) sink += timePass(contenders[name], requests, 1).sink
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length]
        const pass = timePass(contenders[name], requests, name === 'gatehouse' ? passes * 20 : passes)
        samples[name].push(pass.ns)
        cpuSamples[name].push(pass.cpuNs)
        sink += pass.sink
      }
    }
    const gatehouse = median(samples.gatehouse)
    results.sizes.push({
      patterns: size,
      disagreements,
      contenders: names.map((name) => ({
        name,
        nsPerPath: round1(median(samples[name])),
        minNs: round1(Math.min(...samples[name])),
        maxNs: round1(Math.max(...samples[name])),
        cpuNsPerPath: round1(median(cpuSamples[name])),
        ratio: round1(median(samples[name]) / gatehouse),
      })),
    })
  }

  // The whole resolver: request-target parsing, the canonical check, narrow and broad matching.
  const random = prng(40)
  const all = makePatterns(40, random)
  const publics = all.slice(0, 30)
  const ruleSet = core.compileRules({ public: publics, rules: all.slice(30).map((match, i) => ({ match, roles: [`r${i}`] })) })
  const requests = makeRequests(all, requestCount, random).map((r) => ({ method: r.method, path: `${r.path}?page=2` }))
  const resolve = (method, url) => ruleSet.resolve(method, url).index
  const wall = []
  const cpu = []
  for (let round = 0; round < rounds; round++) {
    const pass = timePass(resolve, requests, quick ? 20 : 100)
    wall.push(pass.ns)
    cpu.push(pass.cpuNs)
    sink += pass.sink
  }
  results.resolve = {
    public: publics.length,
    rules: all.length - 30,
    nsPerRequest: round1(median(wall)),
    minNs: round1(Math.min(...wall)),
    maxNs: round1(Math.max(...wall)),
    cpuNsPerRequest: round1(median(cpu)),
  }

  results.sink = sink
  return results
}

const round1 = (x) => Math.round(x * 10) / 10

function print(results) {
  console.log(`path matching, ${results.requests} request paths, median of ${results.rounds} interleaved rounds`)
  console.log(`node ${results.node}, ${results.cpu}, load average ${results.loadavg.join(' ')}\n`)
  for (const size of results.sizes) {
    console.log(`${size.patterns} patterns`)
    console.log(`  ${'contender'.padEnd(16)} ${'ns/path'.padStart(10)} ${'cpu ns/path'.padStart(12)} ${'× gatehouse'.padStart(12)}`)
    for (const c of size.contenders) console.log(`  ${c.name.padEnd(16)} ${c.nsPerPath.toFixed(1).padStart(10)} ${c.cpuNsPerPath.toFixed(1).padStart(12)} ${c.ratio.toFixed(1).padStart(12)}`)
    const off = Object.entries(size.disagreements).filter(([, n]) => n > 0)
    if (off.length > 0) console.log(`  disagreements with gatehouse: ${off.map(([n, c]) => `${n} ${c}`).join(', ')}`)
    console.log('')
  }
  const [small, large] = results.sizes
  console.log(`gatehouse 1000 / 30 patterns: ${(large.contenders[0].nsPerPath / small.contenders[0].nsPerPath).toFixed(2)}× (cpu ${(large.contenders[0].cpuNsPerPath / small.contenders[0].cpuNsPerPath).toFixed(2)}×)`)
  console.log(`resolve (${results.resolve.public} public + ${results.resolve.rules} rules, full request-target): ${results.resolve.nsPerRequest} ns/request (cpu ${results.resolve.cpuNsPerRequest})`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await run({ quick: process.argv.includes('--quick') })
  print(results)
  const { sink: _sink, ...saved } = results
  mkdirSync(join(here, 'results'), { recursive: true })
  writeFileSync(join(here, 'results', 'paths.json'), `${JSON.stringify({ date: new Date().toISOString(), ...saved }, null, 2)}\n`)
  console.log('\nwrote bench/results/paths.json')
}
