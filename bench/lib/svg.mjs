// docs/benchmarks.svg: a grouped bar chart, written by hand (no plotting dependency), of
// throughput relative to the bare framework for every HTTP / WebSocket scenario: one group per
// framework and case, a bar for gatehouse and one for the peer, the target as a dashed tick.

const COLORS = { gatehouse: '#2563eb', peer: '#9ca3af' }
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** The groups to plot, from the harness's results. */
export function plotGroups(results) {
  const groups = []
  const http = (scenario, framework, cases, targets = {}) => {
    const r = results[scenario]
    if (!r?.rows) return
    for (const [group, label] of cases) {
      const pick = (role) => r.rows.find((x) => x.group === group && x.role === role)
      const ours = pick('gatehouse')
      if (!ours) continue
      const peer = pick('peer')
      groups.push({
        framework,
        label,
        bars: [
          { kind: 'gatehouse', name: 'gatehouse', value: ours.ratio },
          ...(peer ? [{ kind: 'peer', name: peer.name.replace(/^.*\+ /, '').replace(/ \(.*\)$/, ''), value: peer.ratio }] : []),
        ],
        target: targets[group],
      })
    }
  }
  http('express', 'Express', [['token reused', 'token reused'], ['fresh token', 'fresh token']], { 'token reused': 0.95, 'fresh token': 0.8 })
  http('fastify', 'Fastify', [['token reused', 'token reused'], ['fresh token', 'fresh token']], { 'token reused': 0.9, 'fresh token': 0.55 })
  http('http-sessions', 'Express sessions', [['memory', 'memory store'], ['redis', 'Redis']])
  const ws = results.ws?.results
  if (ws) {
    for (const [variant, label, target] of [['origin + token reused', 'token reused', 0.95], ['origin + fresh token', 'fresh token', 0.85]]) {
      const row = ws.find((x) => x.name === variant)
      if (row) groups.push({ framework: 'ws upgrades', label, bars: [{ kind: 'gatehouse', name: 'gatehouse', value: row.ratioToBare }], target })
    }
  }
  return groups
}

/** The SVG document for {@link plotGroups}' groups. */
export function renderSvg(groups, { subtitle = '' } = {}) {
  const width = 960
  const height = 440
  const m = { top: 78, right: 76, bottom: 92, left: 56 }
  const plotW = width - m.left - m.right
  const plotH = height - m.top - m.bottom
  const maxValue = Math.max(1.1, ...groups.flatMap((g) => g.bars.map((b) => b.value ?? 0))) * 1.08
  const yMax = Math.ceil(maxValue * 4) / 4
  const y = (v) => m.top + plotH - (v / yMax) * plotH
  const out = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`)
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(`<text x="${m.left}" y="24" font-size="16" font-weight="600" fill="#111827">Throughput relative to the bare framework (median req/s ÷ bare, higher is better)</text>`)
  if (subtitle) out.push(`<text x="${m.left}" y="44" fill="#4b5563">${esc(subtitle)}</text>`)
  // Legend.
  const legend = [['gatehouse', COLORS.gatehouse], ['peer library', COLORS.peer]]
  legend.forEach(([name, color], i) => {
    const lx = m.left + i * 130
    out.push(`<rect x="${lx}" y="54" width="12" height="12" fill="${color}"/><text x="${lx + 18}" y="64" fill="#111827">${name}</text>`)
  })
  out.push(`<line x1="${m.left + 270}" y1="60" x2="${m.left + 300}" y2="60" stroke="#dc2626" stroke-width="2" stroke-dasharray="5 3"/><text x="${m.left + 306}" y="64" fill="#111827">gatehouse target</text>`)
  // Grid and axis.
  for (let v = 0; v <= yMax + 1e-9; v += 0.25) {
    const gy = y(v).toFixed(1)
    const major = Math.abs(v - 1) < 1e-9
    out.push(`<line x1="${m.left}" y1="${gy}" x2="${width - m.right}" y2="${gy}" stroke="${major ? '#111827' : '#e5e7eb'}" stroke-width="${major ? 1.2 : 1}"/>`)
    out.push(`<text x="${m.left - 8}" y="${(+gy + 4).toFixed(1)}" text-anchor="end" fill="#4b5563">${v.toFixed(2)}</text>`)
  }
  out.push(`<text x="${width - m.right + 6}" y="${(y(1) + 4).toFixed(1)}" fill="#111827">bare</text>`)
  const groupW = plotW / Math.max(1, groups.length)
  const barW = Math.min(34, (groupW - 24) / 2)
  groups.forEach((g, gi) => {
    const gx = m.left + gi * groupW
    const barsW = g.bars.length * barW + (g.bars.length - 1) * 4
    const x0 = gx + (groupW - barsW) / 2
    g.bars.forEach((b, bi) => {
      if (b.value === undefined) return
      const bx = x0 + bi * (barW + 4)
      const by = y(b.value)
      // A label just under the target tick would be crossed by it: lift it above the tick.
      const near = bi === 0 && g.target !== undefined && Math.abs(y(g.target) - by) < 14
      const ly = near ? Math.min(by, y(g.target)) - 3 : by
      out.push(`<rect x="${bx.toFixed(1)}" y="${by.toFixed(1)}" width="${barW.toFixed(1)}" height="${(y(0) - by).toFixed(1)}" fill="${COLORS[b.kind]}"><title>${esc(`${g.framework}, ${g.label}: ${b.name} ${b.value.toFixed(2)}× bare`)}</title></rect>`)
      out.push(`<text x="${(bx + barW / 2).toFixed(1)}" y="${(ly - 4).toFixed(1)}" text-anchor="middle" font-size="11" fill="#111827" stroke="#ffffff" stroke-width="3" paint-order="stroke">${b.value.toFixed(2)}</text>`)
    })
    if (g.target !== undefined && g.bars[0]?.value !== undefined) {
      const ty = y(g.target).toFixed(1)
      out.push(`<line x1="${(x0 - 4).toFixed(1)}" y1="${ty}" x2="${(x0 + barW + 4).toFixed(1)}" y2="${ty}" stroke="#dc2626" stroke-width="2" stroke-dasharray="5 3"><title>target ≥ ${g.target}×</title></line>`)
    }
    const cx = (gx + groupW / 2).toFixed(1)
    out.push(`<text x="${cx}" y="${(y(0) + 18).toFixed(1)}" text-anchor="middle" fill="#111827" font-weight="600">${esc(g.framework)}</text>`)
    out.push(`<text x="${cx}" y="${(y(0) + 34).toFixed(1)}" text-anchor="middle" fill="#4b5563">${esc(g.label)}</text>`)
    const peer = g.bars.find((b) => b.kind === 'peer')
    if (peer) out.push(`<text x="${cx}" y="${(y(0) + 50).toFixed(1)}" text-anchor="middle" fill="#6b7280" font-size="11">vs ${esc(peer.name)}</text>`)
  })
  out.push(`<line x1="${m.left}" y1="${y(0).toFixed(1)}" x2="${width - m.right}" y2="${y(0).toFixed(1)}" stroke="#111827"/>`)
  out.push(`<text x="${m.left}" y="${height - 12}" fill="#6b7280" font-size="11">ws: upgrades/s through @gatehouse/ws (origin policy + token) ÷ bare ws. Sessions: bare Express sends the same cookie and checks nothing.</text>`)
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
