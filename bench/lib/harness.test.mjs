// Tests of the harness's pure parts (statistics, targets, tables, plot, profile reading).
// Run with: node --test bench/lib/
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { summarizeProfile } from './profile.mjs'
import { consoleTable, evaluateTargets, markdownTable } from './report.mjs'
import { median, rotation, summarize } from './stats.mjs'
import { plotGroups, renderSvg } from './svg.mjs'

test('median and summarize', () => {
  assert.equal(median([3, 1, 2]), 2)
  assert.equal(median([4, 1, 3, 2]), 2.5)
  assert.deepEqual(summarize([1.26, 1.24, 9.9], 1), { median: 1.3, min: 1.2, max: 9.9 })
})

test('rotation visits every contender once per round and changes who goes first', () => {
  for (let r = 0; r < 5; r++) assert.deepEqual([...rotation(4, r)].sort(), [0, 1, 2, 3])
  assert.deepEqual(
    [0, 1, 2, 3].map((r) => rotation(4, r)[0]),
    [0, 1, 2, 3],
  )
})

const row = (name, group, role, baseline, rps, ratio) => ({ name, group, role, baseline, rps: { median: rps, min: rps, max: rps }, ratio, cpuUsPerRequest: { median: 10 }, serverCpuShare: { median: 1 }, latencyP99Ms: { median: 1 } })
const express = {
  rows: [
    row('bare', 'token reused', 'baseline', 'bare', 1000, 1),
    row('gh', 'token reused', 'gatehouse', 'bare', 960, 0.96),
    row('bare r', 'fresh token', 'baseline', 'bare r', 1000, 1),
    row('gh r', 'fresh token', 'gatehouse', 'bare r', 790, 0.79),
  ],
}

test('targets: MET, NOT MET at the boundary, NOT MEASURED without the scenario', () => {
  const verdicts = Object.fromEntries(evaluateTargets({ express }).map((t) => [t.label, t.verdict]))
  assert.equal(verdicts['Express + gatehouse, token reused'], 'MET')
  assert.equal(verdicts['Express + gatehouse, fresh token'], 'NOT MET')
  assert.equal(verdicts['Fastify + gatehouse, token reused'], 'NOT MEASURED')
  const size = evaluateTargets({ 'client-size': { rows: [{ name: '@gatehouse/client', gzipBytes: 3073 }] } }).find((t) => t.scenario === 'client-size')
  assert.equal(size.verdict, 'NOT MET')
})

test('targets: a result of an unexpected shape is reported, not thrown', () => {
  const t = evaluateTargets({ paths: { sizes: 'garbage' } }).find((x) => x.scenario === 'paths')
  assert.equal(t.verdict, 'NOT MEASURED')
})

test('tables escape pipes in markdown and align in the console', () => {
  const table = { title: 'T', head: ['name', 'n'], rows: [['a|b', '12'], ['c', '3']], notes: ['note'] }
  const md = markdownTable(table)
  assert.match(md, /\| a\\\|b \| 12 \|/)
  assert.match(md, /\| --- \| ---: \|/)
  const text = consoleTable(table).split('\n')
  assert.equal(text[3], 'a|b   12')
  assert.equal(text[4], 'c      3')
})

test('the plot has a bar per value, a target tick per group and escapes text', () => {
  const groups = plotGroups({ express })
  assert.equal(groups.length, 2)
  const svg = renderSvg(groups, { subtitle: 'a < b & c' })
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
  assert.match(svg, /a &lt; b &amp; c/)
  assert.equal((svg.match(/<rect [^>]*fill="#2563eb"><title>/g) ?? []).length, 2)
  assert.equal((svg.match(/stroke-dasharray="5 3"><title>target/g) ?? []).length, 2)
  assert.ok(svg.trim().endsWith('</svg>'))
})

test('profile summary charges each sample to its frame and groups by location', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'))
  const file = join(dir, 'x.cpuprofile')
  const frame = (id, functionName, url) => ({ id, callFrame: { functionName, url, lineNumber: 9, columnNumber: 0, scriptId: '1' } })
  writeFileSync(
    file,
    JSON.stringify({
      nodes: [frame(1, '(root)', ''), frame(2, 'verify', 'file:///w/packages/core/dist/index.js'), frame(3, 'handle', 'file:///w/node_modules/.pnpm/router@2/node_modules/router/index.js'), frame(4, '(idle)', '')],
      samples: [2, 2, 3, 4],
      timeDeltas: [300, 300, 400, 5000],
    }),
  )
  const s = summarizeProfile(file, 5)
  assert.equal(s.totalMs, 1)
  assert.deepEqual(s.buckets.map((b) => [b.bucket, b.share]), [['@gatehouse/core', 60], ['router', 40]])
  assert.equal(s.top[0].fn, 'verify')
  assert.equal(s.top[0].where, 'core/dist/index.js:10')
})
