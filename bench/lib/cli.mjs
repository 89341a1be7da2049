// What a scenario prints when run on its own (`node bench/<name>.bench.mjs`): the same tables the
// harness prints and writes into docs/benchmarks.md.
import { consoleTable, RENDERERS } from './report.mjs'

export function printTables(scenario, result) {
  for (const table of RENDERERS[scenario](result)) console.log(`\n${consoleTable(table)}`)
  console.log(`\nwrote bench/results/${scenario}.json`)
}
