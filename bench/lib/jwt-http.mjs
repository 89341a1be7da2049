// The JWT HTTP scenario for one framework: bare vs + gatehouse vs + the usual peer plugin, each
// with one valid HS256 token reused on every request and with a fresh token on every request.
import { fixedHeaders, interleave, rotatingHeader, sizes, startServer } from './http.mjs'
import { mint, mintMany } from './tokens.mjs'

// More distinct tokens than gatehouse's default verified-token cache holds (10 000): cycling
// through them in order makes every request a cache miss under LRU, i.e. a full verification.
export const FRESH_TOKENS = 60_000

/**
 * @param {{ framework: 'express' | 'fastify', label: string, peer: { server: string, label: string },
 *           quick?: boolean, cpuProfDir?: string, log?: (line: string) => void }} options
 */
export async function runJwtScenario({ framework, label, peer, quick = false, cpuProfDir, log = () => {} }) {
  const size = sizes(quick)
  const token = mint(0)
  const fresh = mintMany(FRESH_TOKENS, 1)
  const servers = []
  try {
    const bare = await startServer(`${framework}-bare`, { cpuProfDir })
    servers.push(bare)
    const gatehouse = await startServer(`${framework}-gatehouse`, { cpuProfDir })
    servers.push(gatehouse)
    const other = await startServer(peer.server, { cpuProfDir })
    servers.push(other)
    const reused = fixedHeaders({ authorization: `Bearer ${token}` })
    const rotating = rotatingHeader('authorization', fresh, 'Bearer ')
    const probeHeaders = { authorization: `Bearer ${token}` }
    const bareReused = `${label} (bare)`
    const bareFresh = `${label} (bare, rotating header)`
    const contenders = [
      { name: bareReused, group: 'token reused', role: 'baseline', baseline: bareReused, server: bare, load: reused, probeHeaders },
      { name: `${label} + gatehouse (token reused)`, group: 'token reused', role: 'gatehouse', baseline: bareReused, server: gatehouse, load: reused, probeHeaders, guarded: true },
      { name: `${label} + ${peer.label} (token reused)`, group: 'token reused', role: 'peer', baseline: bareReused, server: other, load: reused, probeHeaders, guarded: true },
      { name: bareFresh, group: 'fresh token', role: 'baseline', baseline: bareFresh, server: bare, load: rotating, probeHeaders },
      { name: `${label} + gatehouse (fresh token)`, group: 'fresh token', role: 'gatehouse', baseline: bareFresh, server: gatehouse, load: rotating, probeHeaders, guarded: true },
      { name: `${label} + ${peer.label} (fresh token)`, group: 'fresh token', role: 'peer', baseline: bareFresh, server: other, load: rotating, probeHeaders, guarded: true },
    ]
    const rows = await interleave(contenders, { ...size, log })
    return { framework, peer: peer.label, tokenBytes: token.length, freshTokens: FRESH_TOKENS, ...size, rows }
  } finally {
    await Promise.all(servers.map((s) => s.close()))
  }
}
