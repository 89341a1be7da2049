// Loads a gatehouse package for benchmarking. Uses the built package when `dist/` exists (what
// users run); otherwise bundles the TypeScript sources with esbuild into
// bench/node_modules/.cache/gatehouse-bench.
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/**
 * @param {string} pkg  package folder name: core, express, fastify, ws, client, redis
 * @param {string} [entry] entry below src/ (default index.ts), e.g. 'testing/index.ts'
 */
export async function loadGatehouse(pkg, entry = 'index.ts') {
  const distName = entry === 'index.ts' ? 'index.js' : `${entry.replace(/\/index\.ts$/, '').replace(/\.ts$/, '')}.js`
  const dist = join(root, 'packages', pkg, 'dist', distName)
  // An adapter's dist imports core's dist: both must be there (a build may be half done).
  const built = existsSync(dist) && (pkg === 'core' || pkg === 'client' || existsSync(join(root, 'packages', 'core', 'dist', 'index.js')))
  if (built && !process.env.GATEHOUSE_BENCH_SOURCE) return import(pathToFileURL(dist).href)
  // Under node_modules/.cache, where generated bundles stay out of git and out of the linter's way.
  const outdir = join(root, 'bench', 'node_modules', '.cache', 'gatehouse-bench')
  mkdirSync(outdir, { recursive: true })
  const outfile = join(outdir, `${pkg}-${entry.replace(/[/.]/g, '_')}.mjs`)
  await build({
    entryPoints: [join(root, 'packages', pkg, 'src', entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Frameworks stay external so the bench and the adapter share one instance of each.
    external: ['express', 'fastify', 'ws', 'ioredis', '@fastify/websocket'],
    alias: {
      '@gatehouse/core/testing': join(root, 'packages/core/src/testing/index.ts'),
      '@gatehouse/core': join(root, 'packages/core/src/index.ts'),
    },
    logLevel: 'error',
  })
  return import(pathToFileURL(outfile).href)
}
