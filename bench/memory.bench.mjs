// Memory under many distinct tokens: RSS and heap after 1M distinct tokens (100k with --quick)
// have gone through one verifier's verified-token cache, which must stay bounded by cache.max.
// Each configuration runs in its own process (with --expose-gc, so samples follow a full GC):
// `cache: { max: 1000 }`, the default (10 000 entries) and `cache: false` for reference.
//
//   node bench/memory.bench.mjs [--quick]
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { exited, fork } from './lib/children.mjs'
import { writeResult } from './lib/results.mjs'
import { printTables } from './lib/cli.mjs'

const here = dirname(fileURLToPath(import.meta.url))
export const DEFAULT_CACHE_MAX = 10_000
// Once the cache is full, verifying more tokens may not grow the heap by more than this.
export const PLATEAU_MB = 4

function child(tokens, cache) {
  return new Promise((resolve, reject) => {
    const c = fork(join(here, 'lib', 'memory-child.mjs'), [String(tokens), cache], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let result
    c.on('message', (m) => (result = m))
    exited(c).then(() => (result && c.exitCode === 0 ? resolve(result) : reject(new Error(`memory child (cache ${cache}) exited with ${c.signalCode ?? c.exitCode}`))))
  })
}

/** Runs the scenario and writes bench/results/memory.json. */
export async function run({ quick = false } = {}) {
  const tokens = quick ? 100_000 : 1_000_000
  const configs = [
    { cache: '1000', max: 1000, label: 'cache: { max: 1000 }' },
    { cache: 'default', max: DEFAULT_CACHE_MAX, label: `default cache (${DEFAULT_CACHE_MAX} entries)` },
    { cache: 'off', max: 0, label: 'cache: false' },
  ]
  const rows = []
  for (const config of configs) {
    const r = await child(tokens, config.cache)
    // The first checkpoint (10 % of the tokens) is past the point where every cache is full.
    const first = r.samples[0]
    const heapGrowthAfterFullMB = +(r.after.heapUsedMB - first.heapUsedMB).toFixed(2)
    const bounded = r.entries <= config.max && heapGrowthAfterFullMB <= PLATEAU_MB
    rows.push({ ...config, ...r, heapGrowthAfterFullMB, bounded })
  }
  return writeResult('memory', { quick, tokens, plateauMB: PLATEAU_MB, rows })
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTables('memory', await run({ quick: process.argv.includes('--quick') }))
}
