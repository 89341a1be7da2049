import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

// Paths are relative to this module, which sits one level below the package both as source
// (src/page-bundle.ts) and bundled (dist/main.js), so they resolve the same in tests and in `pnpm demo`.
const APP = fileURLToPath(new URL('../src/page/app.ts', import.meta.url))
const CLIENT_SOURCE = fileURLToPath(new URL('../../../packages/client/src/index.ts', import.meta.url))

/**
 * `@gatehouse/client` is bundled from its source in this repository, so the page needs no build
 * step (the test suite runs without one) and always shows the client as it is in the tree.
 */
const clientFromSource: esbuild.Plugin = {
  name: 'gatehouse-client-source',
  setup(build) {
    build.onResolve({ filter: /^@gatehouse\/client$/ }, () => ({ path: CLIENT_SOURCE }))
  },
}

/**
 * Bundles the page script (`src/page/app.ts` and `@gatehouse/client`) in memory, once, when
 * the demo starts.
 */
export async function bundlePage(): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [APP],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    plugins: [clientFromSource],
    logLevel: 'silent',
    legalComments: 'none',
  })
  const [output] = result.outputFiles
  if (output === undefined) throw new Error('esbuild produced no output for the demo page')
  return output.text
}
