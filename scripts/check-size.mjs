// Size budget for @gatehouse/client: the whole package, bundled and minified as an app's bundler
// would, then gzipped at level 9. `--peers` also prints the same measure for peer HTTP clients
// (devDependencies of bench/) so the docs can compare like with like.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const BUDGET = 3072
const root = fileURLToPath(new URL('..', import.meta.url))

// esbuild is not a root dependency; tsup (which is) always brings one.
function loadEsbuild() {
  const require = createRequire(`${root}package.json`)
  try {
    return require('esbuild')
  } catch {
    return createRequire(require.resolve('tsup'))('esbuild')
  }
}

const esbuild = loadEsbuild()

/** min+gzip bytes of everything reachable from `contents` (an ES module source). */
async function measure(contents, resolveDir) {
  const result = await esbuild.build({
    stdin: { contents, resolveDir, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  const code = result.outputFiles[0].contents
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length }
}

const client = await measure(`export * from './packages/client/src/index.ts'`, root)
console.log(`@gatehouse/client  ${client.min} B min  ${client.gzip} B min+gzip  (budget ${BUDGET} B)`)

if (process.argv.includes('--peers')) {
  const bench = `${root}bench`
  const peers = [
    ['ky', `export { default } from 'ky'`],
    ['ofetch', `export { ofetch } from 'ofetch'`],
    ['wretch', `export { default } from 'wretch'`],
    ['axios', `export { default } from 'axios'`],
  ]
  for (const [name, contents] of peers) {
    try {
      const size = await measure(contents, bench)
      console.log(`${name.padEnd(18)} ${size.min} B min  ${size.gzip} B min+gzip`)
    } catch (error) {
      console.log(`${name.padEnd(18)} not measured: ${error.message.split('\n')[0]}`)
    }
  }
}

if (client.gzip > BUDGET) {
  console.error(`@gatehouse/client is ${client.gzip - BUDGET} B over its budget`)
  process.exit(1)
}
