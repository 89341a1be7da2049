// The benchmark harness: runs every scenario, prints its tables and the targets, and writes
// bench/results/<scenario>.json plus bench/results/summary.json.
//
//   node bench/run.mjs [--quick] [--only name,name] [--write-docs] [--cpu-prof]
//
//   --quick       short rounds (the whole run takes under two minutes); for a smoke test, not docs
//   --only        run only these scenarios (names below)
//   --write-docs  render the tables into docs/benchmarks.md (between the results markers) and
//                 the plot into docs/benchmarks.svg; needs a full run (no --quick, no --only)
//   --cpu-prof    run the HTTP servers under node --cpu-prof and print each one's top frames
//   --render-docs run nothing: render docs/benchmarks.md and .svg again from the last full run's
//                 bench/results/summary.json (after a change to the tables' layout)
//
// `pnpm bench` builds the packages first; without dist/ the sources are bundled (bench/lib/load.mjs).
// Every scenario measures its contenders in interleaved rounds and reports medians with the
// min–max, and ratios against a baseline measured in the same run: this machine's absolute speed
// says little, the ratios are what carry over.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { profileLines, summarizeProfile } from './lib/profile.mjs'
import { consoleTable, evaluateTargets, markdownTable, RENDERERS, targetsTable } from './lib/report.mjs'
import { RESULTS_DIR } from './lib/results.mjs'
import { plotGroups, renderSvg } from './lib/svg.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const DOCS = join(root, 'docs', 'benchmarks.md')
const SVG = join(root, 'docs', 'benchmarks.svg')
const START = '<!-- results:start -->'
const END = '<!-- results:end -->'

/** Scenario name → module (each exports `run({ quick, log, cpuProfDir })`), in running order. */
const SCENARIOS = {
  verify: 'verify.bench.mjs',
  paths: 'paths.bench.mjs',
  sessions: 'sessions.bench.mjs',
  memory: 'memory.bench.mjs',
  'client-size': 'client-size.bench.mjs',
  express: 'express.bench.mjs',
  fastify: 'fastify.bench.mjs',
  'http-sessions': 'http-sessions.bench.mjs',
  ws: 'ws.bench.mjs',
}
const PROFILED = new Set(['express', 'fastify', 'http-sessions'])

function parseArgs(argv) {
  const args = { quick: false, only: undefined, writeDocs: false, cpuProf: false, renderDocs: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    // `pnpm bench -- --quick` may hand the separator through.
    if (a === '--') continue
    if (a === '--quick') args.quick = true
    else if (a === '--write-docs') args.writeDocs = true
    else if (a === '--cpu-prof') args.cpuProf = true
    else if (a === '--render-docs') args.renderDocs = true
    else if (a === '--only' || a.startsWith('--only=')) {
      const value = a === '--only' ? argv[++i] : a.slice('--only='.length)
      args.only = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    } else if (a === '--help' || a === '-h') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'))
      console.log(`\nscenarios: ${Object.keys(SCENARIOS).join(', ')}`)
      process.exit(0)
    } else fail(`unknown argument '${a}' (try --help)`)
  }
  if (args.only) {
    const unknown = args.only.filter((n) => !(n in SCENARIOS))
    if (unknown.length || args.only.length === 0) fail(`--only takes scenario names separated by commas; unknown: ${unknown.join(', ') || '(none given)'}. Scenarios: ${Object.keys(SCENARIOS).join(', ')}`)
  }
  if (args.writeDocs && (args.quick || args.only)) fail('--write-docs publishes the numbers: run every scenario in full (no --quick, no --only)')
  if (args.renderDocs && (args.quick || args.only || args.writeDocs || args.cpuProf)) fail('--render-docs runs nothing and takes no other option')
  return args
}

function fail(message) {
  console.error(`bench: ${message}`)
  process.exit(2)
}

function machine() {
  const model = /^model name\s*:\s*(.+)$/m.exec(existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '')?.[1] ?? cpus()[0]?.model ?? 'unknown'
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' })
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' })
  const built = ['core', 'express', 'fastify', 'ws', 'redis'].every((p) => existsSync(join(root, 'packages', p, 'dist', 'index.js'))) && !process.env.GATEHOUSE_BENCH_SOURCE
  return {
    nproc: availableParallelism(),
    cpu: model,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    commit: git.status === 0 ? `${git.stdout.trim()}${dirty.stdout.trim() ? ' (with uncommitted changes)' : ''}` : undefined,
    gatehouse: built ? 'packages/*/dist (built)' : 'bundled from packages/*/src',
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  }
}

function sanitize(result) {
  if (result && typeof result === 'object' && 'sink' in result) {
    const { sink: _sink, ...rest } = result
    return rest
  }
  return result
}

function write(path, content) {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, content)
}

/** The plot for a run's results, with the machine in its subtitle. */
function plot(summary) {
  const m = summary.machine
  return renderSvg(plotGroups(summary.results), { subtitle: `${m.nproc} × ${m.cpu}, Node ${m.node}; autocannon on 127.0.0.1, server in a child process; ${summary.date.slice(0, 10)}` })
}

function renderDocsAgain() {
  const file = join(RESULTS_DIR, 'summary.json')
  if (!existsSync(file)) fail('no bench/results/summary.json: run node bench/run.mjs --write-docs first')
  const summary = JSON.parse(readFileSync(file, 'utf8'))
  const complete = !summary.quick && Object.keys(SCENARIOS).every((n) => n in summary.scenarios)
  if (!complete) fail('bench/results/summary.json is not from a full run (it is --quick or --only): run node bench/run.mjs --write-docs')
  write(SVG, plot(summary))
  writeDocs(summary)
  console.log(`docs/benchmarks.md and docs/benchmarks.svg rendered from the run of ${summary.date}`)
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  if (args.renderDocs) return renderDocsAgain()
  const names = args.only ?? Object.keys(SCENARIOS)
  const info = machine()
  const t0 = Date.now()
  const cpuProfDir = args.cpuProf ? join(here, 'node_modules', '.cache', 'gatehouse-bench', 'profiles', new Date().toISOString().replace(/[:.]/g, '-')) : undefined
  console.log(`gatehouse benchmarks${args.quick ? ' (--quick)' : ''}: ${names.join(', ')}`)
  console.log(`${info.nproc} × ${info.cpu}, ${info.memoryGiB} GiB, Node ${info.node}, load average ${info.loadAverageAtStart.join(' ')}; gatehouse from ${info.gatehouse}\n`)

  const results = {}
  const status = {}
  for (const name of names) {
    const file = join(here, SCENARIOS[name])
    const started = Date.now()
    console.log(`── ${name} ${'─'.repeat(Math.max(0, 70 - name.length))}`)
    if (!existsSync(file)) {
      status[name] = { skipped: `bench/${SCENARIOS[name]} does not exist` }
      console.log(`skipped: ${status[name].skipped}\n`)
      continue
    }
    try {
      const scenario = await import(pathToFileURL(file).href)
      // verify.bench.mjs prints its own tables through `log`; the harness prints the same numbers.
      const log = name === 'verify' ? () => {} : (line) => console.log(line)
      const result = sanitize(await scenario.run({ quick: args.quick, log, ...(PROFILED.has(name) && cpuProfDir ? { cpuProfDir: join(cpuProfDir, name) } : {}) }))
      results[name] = result
      status[name] = { ok: true, seconds: Math.round((Date.now() - started) / 100) / 10 }
      write(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`)
      console.log('')
      for (const table of RENDERERS[name](result)) console.log(`${consoleTable(table)}\n`)
      console.log(`(${status[name].seconds} s)\n`)
    } catch (error) {
      status[name] = { error: error.stack ?? String(error), seconds: Math.round((Date.now() - started) / 100) / 10 }
      console.error(`${name} failed: ${error.stack ?? error}\n`)
    }
  }

  const profiles = {}
  if (cpuProfDir && existsSync(cpuProfDir)) {
    for (const scenario of readdirSync(cpuProfDir)) {
      for (const file of readdirSync(join(cpuProfDir, scenario)).filter((f) => f.endsWith('.cpuprofile'))) {
        const summary = summarizeProfile(join(cpuProfDir, scenario, file), 20)
        profiles[`${scenario}/${file}`] = summary
        console.log(profileLines(`${scenario}/${file}`, summary).join('\n'), '\n')
      }
    }
    console.log(`profiles in ${cpuProfDir} (open them in Chrome DevTools → Performance, or node bench/lib/profile.mjs <file>)\n`)
  }

  const targets = evaluateTargets(results).filter((t) => names.includes(t.scenario))
  console.log(consoleTable(targetsTable(targets)))
  const seconds = Math.round((Date.now() - t0) / 1000)
  const summary = {
    date: new Date().toISOString(),
    command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    quick: args.quick,
    seconds,
    machine: { ...info, loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
    scenarios: status,
    targets,
    ...(cpuProfDir ? { profiles } : {}),
    results,
  }
  write(join(RESULTS_DIR, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`)
  const svg = plot(summary)
  // Without --write-docs the plot goes where git does not look (bench/results/ keeps only *.json).
  const svgPath = args.writeDocs ? SVG : join(here, 'node_modules', '.cache', 'gatehouse-bench', 'benchmarks.svg')
  write(svgPath, svg)
  if (args.writeDocs) writeDocs(summary)
  const failed = Object.entries(status).filter(([, s]) => s.error)
  console.log(`\n${names.length} scenarios in ${seconds} s; results in bench/results/, plot in ${svgPath.slice(root.length + 1)}${args.writeDocs ? '; docs/benchmarks.md updated' : ''}`)
  if (failed.length) {
    console.error(`failed: ${failed.map(([n]) => n).join(', ')}`)
    process.exitCode = 1
  }
}

function writeDocs(summary) {
  const m = summary.machine
  const parts = [
    `_Generated by \`pnpm bench --write-docs\` on ${summary.date.slice(0, 16).replace('T', ' ')} UTC in ${Math.round(summary.seconds / 60)} min (commit ${m.commit ?? 'unknown'}; gatehouse from ${m.gatehouse})._`,
    '',
    `**Machine:** ${m.nproc} × ${m.cpu} (\`nproc\` ${m.nproc}), ${m.memoryGiB} GiB RAM, Node ${m.node}, ${m.platform}. Load average at start ${m.loadAverageAtStart.join(' / ')}, at end ${m.loadAverageAtEnd.join(' / ')}.`,
    '',
    '![Throughput relative to the bare framework](benchmarks.svg)',
    '',
    markdownTable(targetsTable(summary.targets)),
  ]
  for (const [name, s] of Object.entries(summary.scenarios)) {
    if (s.skipped) parts.push('', `_${name}: skipped (${s.skipped})._`)
    else if (s.error) parts.push('', `_${name}: failed (${s.error.split('\n')[0]})._`)
    else for (const table of RENDERERS[name](summary.results[name])) parts.push('', markdownTable(table))
  }
  const generated = parts.join('\n')
  const doc = readFileSync(DOCS, 'utf8')
  const a = doc.indexOf(START)
  const b = doc.indexOf(END)
  if (a === -1 || b === -1 || b < a) fail(`docs/benchmarks.md needs the markers ${START} and ${END}`)
  write(DOCS, `${doc.slice(0, a + START.length)}\n${generated}\n${doc.slice(b)}`)
}

await main()
