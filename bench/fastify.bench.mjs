// Fastify 5 with autocannon: bare vs + @gatehouse/fastify vs + @fastify/jwt, with one valid HS256
// token reused and with a fresh token on every request. Servers run in child processes.
//
//   node bench/fastify.bench.mjs [--quick]
import { pathToFileURL } from 'node:url'
import { runJwtScenario } from './lib/jwt-http.mjs'
import { writeResult } from './lib/results.mjs'
import { printTables } from './lib/cli.mjs'

/** Runs the scenario and writes bench/results/fastify.json. */
export async function run({ quick = false, cpuProfDir, log } = {}) {
  const result = await runJwtScenario({ framework: 'fastify', label: 'Fastify', peer: { server: 'fastify-jwt', label: '@fastify/jwt' }, quick, cpuProfDir, log })
  return writeResult('fastify', { quick, ...result })
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTables('fastify', await run({ quick: process.argv.includes('--quick') }))
}
