// JWT verification: gatehouse (uncached and cached) against jose, fast-jwt (with and without its
// cache), jsonwebtoken and the node:crypto floor, for HS256, RS256, ES256 and EdDSA.
//
//   node bench/verify.bench.mjs [--quick]
//
// The floor is the least any verifier must do: split the token, base64url-decode its three
// parts, JSON.parse header and payload, and check the signature with a node:crypto KeyObject (no
// claim checks). "floor, awaited" is the same work behind an `await`: the price of an async API
// (gatehouse and jose are async; fast-jwt and jsonwebtoken are not). "gatehouse (cached, new
// string)" presents a new copy of the token each time, as real requests do (V8 caches a string's
// hash in the string, so the plain cached row reuses it); "new string alone" is the copy's cost.
//
// Contenders run in interleaved rounds (every contender once per round, in a rotating order), so
// drift in CPU frequency or GC pressure hits them alike; each round times a batch sized to take
// ~10 ms (~4 ms with --quick). Each batch is timed twice: by the process's CPU time (user +
// system, `process.cpuUsage`) and by the wall clock. The CPU time is what the tables and ratios
// use: it counts the work done and not the time the process waited for a core, so it stays
// meaningful on a machine shared with other jobs; the wall-clock medians are kept in the JSON
// beside it. Reported: median µs/op over the rounds, the min–max, and the ratio to the floor as
// the median of per-round ratios (each contender against the floor measured in the same round).
// Results go to bench/results/verify.json; `run({ quick })` does the same for bench/run.mjs.
import { Buffer } from 'node:buffer'
import { createHmac, createPublicKey, generateKeyPairSync, sign as cryptoSign, timingSafeEqual, verify as cryptoVerify } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadGatehouse } from './lib/load.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)

const ISSUER = 'https://id.example.com'
const AUDIENCE = 'backend'

async function loadVerifier() {
  try {
    const core = await loadGatehouse('core')
    if (typeof core.createTokenVerifier === 'function') return core.createTokenVerifier
  } catch {
    // The package entry may not build while other modules are in progress; the verifier alone will.
  }
  return (await loadGatehouse('core', 'token/token-verifier.ts')).createTokenVerifier
}

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
/** A new string with the token's content, as each HTTP request's header parsing yields. */
const fresh = (token) => Buffer.from(token, 'latin1').toString('latin1')

function setup(alg) {
  const secret = Buffer.from('bench-secret-bench-secret-bench-secret-0123456789')
  let pair
  if (alg === 'RS256') pair = generateKeyPairSync('rsa', { modulusLength: 2048 })
  else if (alg === 'ES256') pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  else if (alg === 'EdDSA') pair = generateKeyPairSync('ed25519')
  const now = Math.floor(Date.now() / 1000)
  // A typical access token: ~400 bytes.
  const header = { alg, typ: 'JWT', kid: 'bench-1' }
  const claims = { iss: ISSUER, sub: 'user-12345', aud: AUDIENCE, iat: now, exp: now + 3600, roles: ['reader', 'writer'], scope: 'reports:read reports:write', jti: '7f3c1a2e-9b1d-4c55-8a0e-2f4b6c8d0e1f' }
  const input = `${b64(header)}.${b64(claims)}`
  let signature
  if (alg === 'HS256') signature = createHmac('sha256', secret).update(input).digest()
  else if (alg === 'ES256') signature = cryptoSign('sha256', Buffer.from(input), { key: pair.privateKey, dsaEncoding: 'ieee-p1363' })
  else signature = cryptoSign(alg === 'EdDSA' ? null : 'sha256', Buffer.from(input), pair.privateKey)
  const token = `${input}.${signature.toString('base64url')}`
  const publicKey = pair?.publicKey
  return { alg, secret, publicKey, pem: publicKey?.export({ type: 'spki', format: 'pem' }), jwk: publicKey?.export({ format: 'jwk' }), token }
}

/** The floor: split, decode, parse, verify — nothing else. */
function floorVerifier({ alg, secret, publicKey }) {
  const secretKey = alg === 'HS256' ? createSecretKey(secret) : undefined
  const keyInput = alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey
  const hash = alg === 'EdDSA' ? null : 'sha256'
  return (token) => {
    const d1 = token.indexOf('.')
    const d2 = token.indexOf('.', d1 + 1)
    const header = JSON.parse(Buffer.from(token.slice(0, d1), 'base64url').toString())
    const payload = JSON.parse(Buffer.from(token.slice(d1 + 1, d2), 'base64url').toString())
    const signature = Buffer.from(token.slice(d2 + 1), 'base64url')
    let ok
    if (secretKey) {
      const mac = createHmac('sha256', secretKey).update(token.slice(0, d2)).digest()
      ok = mac.length === signature.length && timingSafeEqual(mac, signature)
    } else {
      ok = cryptoVerify(hash, Buffer.from(token.slice(0, d2)), keyInput, signature)
    }
    return ok && header.alg === alg && payload !== null
  }
}

function createSecretKey(bytes) {
  return require('node:crypto').createSecretKey(bytes)
}

async function contenders(fixture, createTokenVerifier) {
  const { alg, secret, pem, jwk, publicKey } = fixture
  const jose = await import('jose')
  const fastJwt = require('fast-jwt')
  const jsonwebtoken = require('jsonwebtoken')
  const keyOption = alg === 'HS256' ? { secret } : { publicKey: jwk }
  const common = { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE }
  const uncached = createTokenVerifier({ ...keyOption, ...common, cache: false })
  const cached = createTokenVerifier({ ...keyOption, ...common })
  const joseKey = alg === 'HS256' ? new Uint8Array(secret) : await jose.importJWK({ ...jwk, alg }, alg)
  const fastKey = alg === 'HS256' ? secret : pem
  const fastOptions = { key: fastKey, algorithms: [alg], allowedIss: ISSUER, allowedAud: AUDIENCE }
  const fastUncached = fastJwt.createVerifier({ ...fastOptions, cache: false })
  const fastCached = fastJwt.createVerifier({ ...fastOptions, cache: true })
  const floor = floorVerifier(fixture)
  const list = [
    { name: 'node:crypto floor', sync: true, fn: floor },
    { name: 'floor, awaited', sync: false, fn: async (t) => floor(t) },
    { name: 'gatehouse (cache: false)', sync: false, fn: async (t) => (await uncached.verify(t)).ok },
    { name: 'gatehouse (cached)', sync: false, fn: async (t) => (await cached.verify(t)).ok },
    // A request brings a new string each time, whose hash V8 has not computed yet.
    { name: 'gatehouse (cached, new string)', sync: false, fn: async (t) => (await cached.verify(fresh(t))).ok },
    { name: 'new string alone', sync: true, fn: (t) => fresh(t).length > 0 },
    { name: 'jose jwtVerify', sync: false, fn: async (t) => !!(await jose.jwtVerify(t, joseKey, { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE })).payload },
    { name: 'fast-jwt', sync: true, fn: (t) => !!fastUncached(t) },
    { name: 'fast-jwt (cache)', sync: true, fn: (t) => !!fastCached(t) },
  ]
  // jsonwebtoken 9 does not support EdDSA.
  if (alg !== 'EdDSA') {
    const key = alg === 'HS256' ? secret : createPublicKey(pem)
    list.push({ name: 'jsonwebtoken', sync: true, fn: (t) => !!jsonwebtoken.verify(t, key, { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE }) })
  }
  void publicKey
  return { list, close: async () => Promise.all([uncached.close(), cached.close()]) }
}

/**
 * A timing loop of its own for one contender. Compiled separately (new Function) so that every
 * contender's call site stays monomorphic: a loop shared by ten contenders would call each of
 * them through a megamorphic site, and charge that to whichever ran after a deoptimization.
 */
function makeLoop(sync) {
  const body = sync
    ? 'let ok = 0; for (let i = 0; i < n; i++) ok += fn(token) ? 1 : 0; return ok'
    : 'return (async () => { let ok = 0; for (let i = 0; i < n; i++) ok += (await fn(token)) ? 1 : 0; return ok })()'
  return new Function('fn', 'token', 'n', body)
}

/** Runs `n` verifications; returns µs/op of CPU time and of wall-clock time. */
async function batch(contender, token, n) {
  contender.loop ??= makeLoop(contender.sync)
  const cpu = process.cpuUsage()
  const start = process.hrtime.bigint()
  const ok = await contender.loop(contender.fn, token, n)
  const wallNs = Number(process.hrtime.bigint() - start)
  const used = process.cpuUsage(cpu)
  if (ok !== n) throw new Error(`${contender.name} rejected the benchmark token`)
  return { cpu: (used.user + used.system) / n, wall: wallNs / n / 1000 }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * Runs the benchmark and writes bench/results/verify.json.
 * @param {{ quick?: boolean, algs?: string[], log?: (line: string) => void }} [options]
 */
export async function run({ quick = false, algs = ['HS256', 'RS256', 'ES256', 'EdDSA'], log = (line) => console.log(line) } = {}) {
  const createTokenVerifier = await loadVerifier()
  const rounds = quick ? 7 : 31
  const targetMs = quick ? 4 : 10
  const warmMs = quick ? 150 : 400
  const results = { node: process.version, date: new Date().toISOString(), rounds, clock: 'process CPU time (user + system) per op; wallMedianUs is the wall clock', loadAverageAtStart: loadavg(), algorithms: {} }
  for (const alg of algs) {
    const fixture = setup(alg)
    const { list, close } = await contenders(fixture, createTokenVerifier)
    // Warm up (long enough for the optimizing compiler, whose background threads would otherwise
    // bill their CPU time to the first rounds) and size each contender's batch.
    const sizes = new Map()
    for (const c of list) {
      const until = Date.now() + warmMs
      let n = 100
      while (Date.now() < until) {
        await batch(c, fixture.token, n)
        n = Math.min(n * 2, 5000)
      }
      const { wall } = await batch(c, fixture.token, 500)
      sizes.set(c, Math.max(100, Math.round((targetMs * 1000) / wall)))
    }
    const samples = new Map(list.map((c) => [c, { cpu: [], wall: [] }]))
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < list.length; i++) {
        const c = list[(i + r) % list.length]
        const { cpu, wall } = await batch(c, fixture.token, sizes.get(c))
        samples.get(c).cpu.push(cpu)
        samples.get(c).wall.push(wall)
      }
    }
    await close()
    const floor = samples.get(list[0]).cpu
    const rows = list.map((c) => {
      const { cpu, wall } = samples.get(c)
      return {
        name: c.name,
        medianUs: +median(cpu).toFixed(3),
        minUs: +Math.min(...cpu).toFixed(3),
        maxUs: +Math.max(...cpu).toFixed(3),
        // Paired: each round's time over the floor's in the same round, then the median. Load
        // from other processes shifts both sides of a pair alike.
        ratioToFloor: +median(cpu.map((x, r) => x / floor[r])).toFixed(3),
        wallMedianUs: +median(wall).toFixed(3),
      }
    })
    results.algorithms[alg] = rows
    log(`\n${alg} (token ${fixture.token.length} bytes; CPU µs per token, wall-clock median beside it)`)
    log(`${'contender'.padEnd(26)} ${'median µs'.padStart(10)} ${'min–max µs'.padStart(18)} ${'× floor'.padStart(8)} ${'wall µs'.padStart(9)}`)
    for (const row of rows) {
      log(`${row.name.padEnd(26)} ${row.medianUs.toFixed(2).padStart(10)} ${`${row.minUs.toFixed(2)}–${row.maxUs.toFixed(2)}`.padStart(18)} ${row.ratioToFloor.toFixed(2).padStart(8)} ${row.wallMedianUs.toFixed(2).padStart(9)}`)
    }
    const get = (name) => rows.find((r) => r.name === name)
    const hitVsFast = median(samples.get(list.find((c) => c.name === 'gatehouse (cached)')).cpu.map((x, r) => x / samples.get(list.find((c) => c.name === 'fast-jwt')).cpu[r]))
    log(`targets: uncached ${get('gatehouse (cache: false)').ratioToFloor.toFixed(2)}× floor (≤ 1.25), cache hit ${hitVsFast.toFixed(3)}× fast-jwt uncached (≤ 0.1)`)
    results.algorithms[alg] = { tokenBytes: fixture.token.length, rows, uncachedToFloor: get('gatehouse (cache: false)').ratioToFloor, cacheHitToFastJwt: +hitVsFast.toFixed(4) }
  }
  mkdirSync(join(here, 'results'), { recursive: true })
  writeFileSync(join(here, 'results', 'verify.json'), `${JSON.stringify(results, null, 2)}\n`)
  return results
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run({ quick: process.argv.includes('--quick') })
}
