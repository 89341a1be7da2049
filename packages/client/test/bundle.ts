import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/** The part of esbuild's API these tests use (esbuild is tsup's dependency, not ours). */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ outputFiles: Array<{ text: string }> }>
}

const root = fileURLToPath(new URL('../../../', import.meta.url))

function loadEsbuild(): Esbuild {
  const require = createRequire(`${root}package.json`)
  try {
    return require('esbuild') as Esbuild
  } catch {
    return createRequire(require.resolve('tsup'))('esbuild') as Esbuild
  }
}

/** Bundles `@gatehouse/client` from source into one ES module, as an app's bundler would. */
export async function bundleClient(options: { minify?: boolean } = {}): Promise<string> {
  const result = await loadEsbuild().build({
    entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: options.minify ?? false,
    write: false,
    logLevel: 'silent',
  })
  const [output] = result.outputFiles
  if (!output) throw new Error('esbuild produced no output')
  return output.text
}
