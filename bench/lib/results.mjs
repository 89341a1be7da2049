// Where results go: bench/results/<scenario>.json, one file per scenario, rewritten on each run.
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results')

/** Writes `result` (with the date, Node version and CPU added) and returns what it wrote. */
export function writeResult(scenario, result) {
  const full = { scenario, date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, ...result }
  mkdirSync(RESULTS_DIR, { recursive: true })
  writeFileSync(join(RESULTS_DIR, `${scenario}.json`), `${JSON.stringify(full, null, 2)}\n`)
  return full
}
