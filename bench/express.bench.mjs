// Express 5 with autocannon: bare vs + @gatehouse/express vs + express-jwt, with one valid HS256
// token reused and with a fresh token on every request. Servers run in child processes.
//
//   node bench/express.bench.mjs [--quick]
import { pathToFileURL } from 'node:url'
import { runJwtScenario } from './lib/jwt-http.mjs'
import { writeResult } from './lib/results.mjs'
import { printTables } from './lib/cli.mjs'

/** Runs the scenario and writes bench/results/express.json. */
export async function run({ quick = false, cpuProfDir, log } = {}) {
  const result = await runJwtScenario({ framework: 'express', label: 'Express', peer: { server: 'express-jwt', label: 'express-jwt' }, quick, cpuProfDir, log })
  return writeResult('express', { quick, ...result })
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTables('express', await run({ quick: process.argv.includes('--quick') }))
}
