// Browser bundle size, min+gzip (esbuild minify, gzip level 9), of @gatehouse/client against the
// HTTP clients people reach for: ky, ofetch, wretch and axios. The measurement is
// scripts/check-size.mjs --peers (the same one CI gates the client's 3 KB budget with), so the
// docs and the gate can never disagree.
//
//   node bench/client-size.bench.mjs
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { writeResult } from './lib/results.mjs'
import { printTables } from './lib/cli.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const BUDGET = 3072

/** Runs the scenario and writes bench/results/client-size.json. */
export async function run({ log = console.warn } = {}) {
  // Exit status 1 only says the client is over its budget; the sizes are printed either way.
  const out = spawnSync(process.execPath, [join(root, 'scripts', 'check-size.mjs'), '--peers'], { cwd: root, encoding: 'utf8', timeout: 120_000 })
  const rows = []
  for (const line of out.stdout.split('\n')) {
    const m = /^(\S+)\s+(\d+) B min\s+(\d+) B min\+gzip/.exec(line)
    if (m) rows.push({ name: m[1], minBytes: Number(m[2]), gzipBytes: Number(m[3]) })
    else if (/not measured/.test(line)) log(line)
  }
  const client = rows.find((r) => r.name === '@gatehouse/client')
  if (!client) throw new Error(`scripts/check-size.mjs printed no size for @gatehouse/client:\n${out.stdout}${out.stderr}`)
  for (const r of rows) r.ratio = Math.round((r.gzipBytes / client.gzipBytes) * 100) / 100
  return writeResult('client-size', { budgetBytes: BUDGET, rows })
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTables('client-size', await run())
}
