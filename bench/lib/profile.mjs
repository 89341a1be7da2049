// Reads a V8 .cpuprofile (from `node --cpu-prof`) and answers "what costs what": the functions
// with the most self time, and self time rolled up by where the code lives (gatehouse, a
// framework, a peer library, node internals, GC).
//
//   node bench/lib/profile.mjs <file.cpuprofile> [top]
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

/** Which bucket a frame's URL belongs to. */
function bucket(url, functionName) {
  if (functionName === '(garbage collector)') return 'GC'
  if (functionName === '(idle)' || functionName === '(program)' || functionName === '(root)') return functionName
  if (!url) return 'native / V8 builtins'
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`
  // Bundled sources (.cache/gatehouse-bench/<name>-…, core inlined) or built packages (packages/<name>/dist).
  const own = /gatehouse-bench\/([a-z]+)-[^/]*$/.exec(url) ?? (url.includes('node_modules/') ? null : /\/packages\/([^/]+)\/(?:dist|src)\//.exec(url))
  if (own) return `@gatehouse/${own[1]}`
  const nm = url.lastIndexOf('node_modules/')
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
  }
  return url.replace(/^file:\/\//, '')
}

/**
 * @returns {{ totalMs: number, top: Array<{ fn: string, where: string, selfMs: number, share: number }>,
 *             buckets: Array<{ bucket: string, selfMs: number, share: number }> }}
 */
export function summarizeProfile(file, top = 15) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map()
  // timeDeltas[i] is the time since the previous sample; it is charged to samples[i].
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const fns = new Map()
  const buckets = new Map()
  let busy = 0
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id)
    const b = bucket(callFrame.url, callFrame.functionName)
    if (b === '(idle)') continue
    busy += us
    buckets.set(b, (buckets.get(b) ?? 0) + us)
    const file = callFrame.url ? callFrame.url.replace(/^.*\/(node_modules|packages)\//, '').replace(/^file:\/\//, '') : ''
    const key = `${callFrame.functionName || '(anonymous)'}\u0000${file}:${callFrame.lineNumber + 1}`
    fns.set(key, (fns.get(key) ?? 0) + us)
  }
  const share = (us) => Math.round((us / busy) * 1000) / 10
  return {
    totalMs: Math.round(busy / 1000),
    top: [...fns.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, us]) => {
        const [fn, where] = key.split('\u0000')
        return { fn, where, selfMs: Math.round(us / 100) / 10, share: share(us) }
      }),
    buckets: [...buckets.entries()].sort((a, b) => b[1] - a[1]).map(([b, us]) => ({ bucket: b, selfMs: Math.round(us / 100) / 10, share: share(us) })),
  }
}

/** Text lines for a console report of {@link summarizeProfile}. */
export function profileLines(name, summary) {
  const lines = [`profile ${name}: ${summary.totalMs} ms busy (idle excluded)`]
  lines.push(`  by location: ${summary.buckets.slice(0, 10).map((b) => `${b.bucket} ${b.share}%`).join(', ')}`)
  for (const t of summary.top) lines.push(`  ${`${t.share}%`.padStart(6)}  ${t.fn}  ${t.where}`)
  return lines
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, top] = process.argv.slice(2)
  if (!file) {
    console.error('usage: node bench/lib/profile.mjs <file.cpuprofile> [top]')
    process.exit(2)
  }
  for (const line of profileLines(file, summarizeProfile(file, Number(top ?? 25)))) console.log(line)
}
