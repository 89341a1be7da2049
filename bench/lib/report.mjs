// Turns scenario results into tables (for the console and for docs/benchmarks.md) and checks
// them against the project's performance targets. A table is `{ title, head, rows, notes }`.

const fmt = (x, digits = 2) => (x === undefined || x === null || Number.isNaN(x) ? '–' : Number(x).toFixed(digits))
const int = (x) => (x === undefined || Number.isNaN(x) ? '–' : Math.round(x).toLocaleString('en-US'))
const range = (min, max, digits = 2) => (min === undefined || max === undefined ? '–' : `${fmt(min, digits)}–${fmt(max, digits)}`)
const times = (x, digits = 2) => (x === undefined ? '–' : `${fmt(x, digits)}×`)

function verifyTables(r) {
  const algs = Object.keys(r.algorithms)
  const names = r.algorithms[algs[0]].rows.map((row) => row.name)
  const head = ['contender', ...algs.flatMap((alg) => [`${alg} µs median (min–max)`, '× floor'])]
  const rows = names.map((name) => [
    name,
    ...algs.flatMap((alg) => {
      const row = r.algorithms[alg].rows.find((x) => x.name === name)
      return row ? [`${fmt(row.medianUs)} (${range(row.minUs, row.maxUs)})`, times(row.ratioToFloor)] : ['–', '–']
    }),
  ])
  return [{ title: `Token verification, µs per token (median of ${r.rounds} interleaved rounds)`, head, rows, notes: [`Token sizes: ${algs.map((a) => `${a} ${r.algorithms[a].tokenBytes} B`).join(', ')}. The floor splits, decodes, parses and checks the signature with node:crypto, and nothing else.`] }]
}

function pathsTables(r) {
  const tables = r.sizes.map((size) => {
    const hasRange = size.contenders.some((c) => c.minNs !== undefined)
    const hasCpu = size.contenders.some((c) => c.cpuNsPerPath !== undefined)
    const head = ['contender', 'ns/path median', ...(hasRange ? ['min–max'] : []), ...(hasCpu ? ['CPU ns/path'] : []), '× gatehouse']
    const rows = size.contenders.map((c) => [c.name, fmt(c.nsPerPath, 1), ...(hasRange ? [range(c.minNs, c.maxNs, 1)] : []), ...(hasCpu ? [fmt(c.cpuNsPerPath, 1)] : []), times(c.ratio, 1)])
    const off = Object.entries(size.disagreements ?? {}).filter(([, n]) => n > 0)
    return { title: `Path matching, ${size.patterns} patterns (${r.requests} request paths, median of ${r.rounds} rounds)`, head, rows, notes: off.length ? [`Disagreements with gatehouse: ${off.map(([n, c]) => `${n} ${c}`).join(', ')}`] : [] }
  })
  if (r.resolve) {
    const res = r.resolve
    tables.push({ title: 'Rule resolution (request-target parsing, canonical check, narrow + broad matching)', head: ['rules', 'ns/request median', 'min–max', 'CPU ns/request'], rows: [[`${res.public} public + ${res.rules} protective`, fmt(res.nsPerRequest, 1), range(res.minNs, res.maxNs, 1), fmt(res.cpuNsPerRequest, 1)]], notes: [] })
  }
  return tables
}

function sessionsTables(r) {
  const m = r.memory
  const rows = [
    ['authenticate, memory store (warm)', fmt(m.authenticate.medianNs / 1000, 3), range(m.authenticate.minNs / 1000, m.authenticate.maxNs / 1000, 3)],
    [`first sight of a cookie (${m.firstSightSessions} sessions)`, fmt(m.firstSightNsPerOp / 1000, 3), '–'],
    ['forged cookie (refused before the store)', fmt(m.forgedCookie.medianNs / 1000, 3), range(m.forgedCookie.minNs / 1000, m.forgedCookie.maxNs / 1000, 3)],
  ]
  const notes = []
  if (r.redis?.skipped) notes.push(`Redis: skipped (${r.redis.skipped}).`)
  else if (r.redis) {
    rows.push([`authenticate, Redis ${r.redis.redisVersion} (sequential)`, fmt(r.redis.authenticate.medianNs / 1000, 1), range(r.redis.authenticate.minNs / 1000, r.redis.authenticate.maxNs / 1000, 1)])
    notes.push(`Redis: ${int(r.redis.concurrent.opsPerSec)} checks/s with ${r.redis.concurrent.inFlight} in flight on one connection; ${r.redis.commandsPerCheck} Redis commands per check.`)
  }
  return [{ title: 'Session check (`sessions.authenticate`), µs per check', head: ['measure', 'µs median', 'min–max'], rows, notes }]
}

function httpTables(r, title) {
  const head = ['contender', 'req/s median', 'min–max', '× bare', 'server CPU µs/req', 'added CPU µs/req', 'server busy', 'p99 ms']
  const rows = r.rows.map((x) => [x.name, int(x.rps.median), `${int(x.rps.min)}–${int(x.rps.max)}`, times(x.ratio), fmt(x.cpuUsPerRequest.median, 1), x.name === x.baseline ? '–' : fmt(x.addedCpuUsPerRequest, 1), `${Math.round(x.serverCpuShare.median * 100)}%`, fmt(x.latencyP99Ms.median, 0)])
  const notes = [`autocannon, ${r.connections} connections, ${r.rounds} interleaved rounds × ${r.duration} s after a ${r.warmup} s warm-up each; server in a child process, load generator in the parent. "Server busy" is the server's CPU time ÷ wall time: near 100% the server is the bottleneck, well below it the load generator is.`]
  if (r.freshTokens) notes.push(`Fresh token: each request carries the next of ${int(r.freshTokens)} pre-minted tokens (${r.tokenBytes} B), more than gatehouse's default cache of 10,000, so every one is verified in full; its baseline is bare with the same rotating header.`)
  if (r.redis?.skipped) notes.push(`Redis pair skipped: ${r.redis.skipped}.`)
  else if (r.redis?.version) notes.push(`Redis ${r.redis.version} on 127.0.0.1.`)
  return [{ title, head, rows, notes }]
}

function wsTables(r) {
  const head = ['variant', 'upgrades/s median', 'min–max', '× bare', 'server CPU µs/upgrade', 'added CPU µs']
  const rows = r.results.map((x) => [x.name, int(x.medianPerSec), `${int(x.minPerSec)}–${int(x.maxPerSec)}`, times(x.ratioToBare), fmt(x.serverCpuUsPerUpgrade, 1), x.name === 'bare ws' ? '–' : fmt(x.addedServerCpuUs, 1)])
  return [{ title: `WebSocket upgrades (${r.upgradesPerRound} sequential upgrades × ${r.rounds} rounds)`, head, rows, notes: r.method ? [r.method] : [] }]
}

function memoryTables(r) {
  const head = ['configuration', 'cache entries', 'RSS before → after MB', 'heap before → after MB', 'heap growth once full MB', 'µs/verify (CPU µs)', 'bounded']
  const rows = r.rows.map((x) => [x.label, int(x.entries), `${fmt(x.before.rssMB, 1)} → ${fmt(x.after.rssMB, 1)}`, `${fmt(x.before.heapUsedMB)} → ${fmt(x.after.heapUsedMB)}`, fmt(x.heapGrowthAfterFullMB), `${fmt(x.verifyUs, 1)} (${fmt(x.verifyCpuUs, 1)})`, x.bounded ? 'yes' : 'NO'])
  const checkpoints = r.rows.map((x) => `${x.label}: ${x.samples.map((s) => `${int(s.tokens)} → ${fmt(s.rssMB, 1)} / ${fmt(s.heapUsedMB, 1)}`).join(', ')}`)
  return [{ title: `Memory after ${int(r.tokens)} distinct tokens through one verifier (child process, --expose-gc, after full GC)`, head, rows, notes: [`RSS / heap MB at checkpoints — ${checkpoints.join('; ')}.`, `"Bounded": entries ≤ cache.max and the heap grows by at most ${r.plateauMB} MB between the first checkpoint (cache already full) and the last.`] }]
}

function clientTables(r) {
  const head = ['package', 'min B', 'min+gzip B', '× @gatehouse/client']
  return [{ title: 'Browser bundle size (esbuild --minify, gzip -9)', head, rows: r.rows.map((x) => [x.name, int(x.minBytes), int(x.gzipBytes), times(x.ratio)]), notes: [`Budget for @gatehouse/client: ${int(r.budgetBytes)} B min+gzip (checked in CI by scripts/check-size.mjs).`] }]
}

export const RENDERERS = {
  verify: verifyTables,
  paths: pathsTables,
  sessions: sessionsTables,
  memory: memoryTables,
  'client-size': clientTables,
  express: (r) => httpTables(r, 'Express 5, HS256 bearer token'),
  fastify: (r) => httpTables(r, 'Fastify 5, HS256 bearer token'),
  'http-sessions': (r) => httpTables(r, 'Express 5, session cookie'),
  ws: wsTables,
}

// ------------------------------------------------------------------------------------ targets

const httpRow = (r, group, role) => r?.rows.find((x) => x.group === group && x.role === role)

function ratioTarget(scenario, label, min, pick) {
  return {
    scenario,
    label,
    target: `≥ ${min}×`,
    check(results) {
      const row = pick(results[scenario])
      if (!row) return undefined
      const base = results[scenario].rows.find((x) => x.name === row.baseline)
      return { value: row.ratio, measured: `${times(row.ratio)} (${int(row.rps.median)} vs ${int(base.rps.median)} req/s)`, met: row.ratio >= min }
    },
  }
}

/** The targets of issue 9, each checked against this run's results. */
export const TARGETS = [
  ...['HS256', 'RS256', 'ES256', 'EdDSA'].map((alg) => ({
    scenario: 'verify',
    label: `uncached verify, ${alg}`,
    target: '≤ 1.25× node:crypto floor',
    check(results) {
      const a = results.verify?.algorithms?.[alg]
      return a && { value: a.uncachedToFloor, measured: times(a.uncachedToFloor), met: a.uncachedToFloor <= 1.25 }
    },
  })),
  ...['HS256', 'RS256', 'ES256', 'EdDSA'].map((alg) => ({
    scenario: 'verify',
    label: `cached verify, ${alg}`,
    target: '≤ 0.1× fast-jwt uncached',
    check(results) {
      const a = results.verify?.algorithms?.[alg]
      return a && { value: a.cacheHitToFastJwt, measured: times(a.cacheHitToFastJwt, 3), met: a.cacheHitToFastJwt <= 0.1 }
    },
  })),
  ratioTarget('express', 'Express + gatehouse, token reused', 0.95, (r) => httpRow(r, 'token reused', 'gatehouse')),
  ratioTarget('express', 'Express + gatehouse, fresh token', 0.8, (r) => httpRow(r, 'fresh token', 'gatehouse')),
  ratioTarget('fastify', 'Fastify + gatehouse, token reused', 0.9, (r) => httpRow(r, 'token reused', 'gatehouse')),
  ratioTarget('fastify', 'Fastify + gatehouse, fresh token', 0.55, (r) => httpRow(r, 'fresh token', 'gatehouse')),
  {
    scenario: 'paths',
    label: 'path check, 30 patterns',
    target: '≤ 100 ns',
    check(results) {
      const ns = results.paths?.sizes?.find((s) => s.patterns === 30)?.contenders.find((c) => c.name === 'gatehouse')?.nsPerPath
      return ns === undefined ? undefined : { value: ns, measured: `${fmt(ns, 1)} ns`, met: ns <= 100 }
    },
  },
  {
    scenario: 'paths',
    label: 'path check, 1000 vs 30 patterns',
    target: '≤ 2×',
    check(results) {
      const at = (n) => results.paths?.sizes?.find((s) => s.patterns === n)?.contenders.find((c) => c.name === 'gatehouse')?.nsPerPath
      if (at(30) === undefined || at(1000) === undefined) return undefined
      const ratio = at(1000) / at(30)
      return { value: ratio, measured: `${times(ratio)} (${fmt(at(1000), 1)} vs ${fmt(at(30), 1)} ns)`, met: ratio <= 2 }
    },
  },
  ...[
    ['origin + token reused', 'ws upgrade + gatehouse, token reused', 0.95],
    ['origin + fresh token', 'ws upgrade + gatehouse, fresh token', 0.85],
  ].map(([variant, label, min]) => ({
    scenario: 'ws',
    label,
    target: `≥ ${min}×`,
    check(results) {
      const row = results.ws?.results?.find((x) => x.name === variant)
      const bare = results.ws?.results?.find((x) => x.name === 'bare ws')
      return row && { value: row.ratioToBare, measured: `${times(row.ratioToBare)} (${int(row.medianPerSec)} vs ${int(bare?.medianPerSec)} upgrades/s)`, met: row.ratioToBare >= min }
    },
  })),
  {
    scenario: 'client-size',
    label: '@gatehouse/client, min+gzip',
    target: '≤ 3 KB (3,072 B)',
    check(results) {
      const row = results['client-size']?.rows.find((x) => x.name === '@gatehouse/client')
      return row && { value: row.gzipBytes, measured: `${int(row.gzipBytes)} B`, met: row.gzipBytes <= 3072 }
    },
  },
  ...[
    ['memory', 'sessions over HTTP vs express-session (memory stores)'],
    ['redis', 'sessions over HTTP vs express-session + connect-redis'],
  ].map(([group, label]) => ({
    scenario: 'http-sessions',
    label,
    target: '≥ 2× throughput',
    check(results) {
      const r = results['http-sessions']
      const ours = httpRow(r, group, 'gatehouse')
      const theirs = httpRow(r, group, 'peer')
      if (!ours || !theirs) return undefined
      const ratio = ours.rps.median / theirs.rps.median
      return { value: ratio, measured: `${times(ratio)} (${int(ours.rps.median)} vs ${int(theirs.rps.median)} req/s)`, met: ratio >= 2 }
    },
  })),
  {
    scenario: 'sessions',
    label: 'session check, memory store',
    target: '≤ 2 µs',
    check(results) {
      const ns = results.sessions?.memory?.authenticate?.medianNs
      return ns === undefined ? undefined : { value: ns / 1000, measured: `${fmt(ns / 1000, 3)} µs`, met: ns <= 2000 }
    },
  },
  {
    scenario: 'memory',
    label: 'RSS under many distinct tokens',
    target: 'bounded by cache.max',
    check(results) {
      const rows = results.memory?.rows?.filter((x) => x.cache !== 'off')
      if (!rows?.length) return undefined
      return { value: rows.every((x) => x.bounded), measured: rows.map((x) => `${x.cache === '1000' ? 'max 1000' : 'default'}: ${int(x.entries)} entries, RSS ${fmt(x.after.rssMB, 0)} MB`).join('; '), met: rows.every((x) => x.bounded) }
    },
  },
]

/** Every target with its verdict: MET, NOT MET, or NOT MEASURED when its scenario did not run. */
export function evaluateTargets(results) {
  return TARGETS.map((t) => {
    let outcome
    try {
      outcome = results[t.scenario] ? t.check(results) : undefined
    } catch (error) {
      outcome = { measured: `could not evaluate: ${error.message}`, met: undefined }
    }
    return { scenario: t.scenario, label: t.label, target: t.target, measured: outcome?.measured ?? '–', value: outcome?.value, verdict: outcome === undefined || outcome.met === undefined ? 'NOT MEASURED' : outcome.met ? 'MET' : 'NOT MET' }
  })
}

export function targetsTable(evaluated) {
  return { title: 'Targets', head: ['target', 'goal', 'measured', 'verdict'], rows: evaluated.map((t) => [t.label, t.target, t.measured, t.verdict]), notes: [] }
}

// ------------------------------------------------------------------------------------ output

const cell = (value) => String(value).replace(/\|/g, '\\|')

/** Numbers align right, words left. */
const rightAligned = (table) => table.head.map((_, i) => i > 0 && table.rows.every((r) => /^[\d–-]/.test(String(r[i]))))

export function markdownTable(table) {
  const right = rightAligned(table)
  const lines = [`#### ${table.title}`, '', `| ${table.head.map(cell).join(' | ')} |`, `| ${right.map((r) => (r ? '---:' : '---')).join(' | ')} |`]
  for (const row of table.rows) lines.push(`| ${row.map(cell).join(' | ')} |`)
  for (const note of table.notes ?? []) lines.push('', note)
  return lines.join('\n')
}

export function consoleTable(table) {
  const widths = table.head.map((h, i) => Math.max(String(h).length, ...table.rows.map((r) => String(r[i]).length)))
  const right = rightAligned(table)
  const line = (cells) => cells.map((c, i) => (right[i] ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join('  ').trimEnd()
  return [table.title, line(table.head), widths.map((w) => '-'.repeat(w)).join('  '), ...table.rows.map(line), ...(table.notes ?? []).map((n) => `  ${n}`)].join('\n')
}
