import { readFileSync } from 'node:fs'
import { defineConfig, type Options } from 'tsup'

/** Every published package, built the same way: ESM + CJS with types for each condition. */
const packages: Array<{ dir: string; entry: Record<string, string>; platform?: Options['platform'] }> = [
  { dir: 'core', entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', cli: 'src/cli/main.ts' } },
  { dir: 'express', entry: { index: 'src/index.ts' } },
  { dir: 'fastify', entry: { index: 'src/index.ts' } },
  { dir: 'ws', entry: { index: 'src/index.ts' } },
  { dir: 'client', entry: { index: 'src/index.ts' }, platform: 'neutral' },
  { dir: 'redis', entry: { index: 'src/index.ts' } },
]

function externals(dir: string): Array<string | RegExp> {
  const pkg = JSON.parse(readFileSync(`packages/${dir}/package.json`, 'utf8')) as Record<string, Record<string, string> | undefined>
  const names = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]
  return [/^@gatehouse\//, /^node:/, ...names.map((n) => new RegExp(`^${n.replace(/[/.]/g, '\\$&')}(/|$)`))]
}

export default defineConfig(
  packages.map(({ dir, entry, platform }) => ({
    name: dir,
    entry: Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, `packages/${dir}/${v}`])),
    outDir: `packages/${dir}/dist`,
    format: ['esm', 'cjs'],
    target: 'node20',
    platform: platform ?? 'node',
    // tsup sets baseUrl for the declaration build, which TypeScript 6 deprecates.
    dts: { compilerOptions: { composite: false, ignoreDeprecations: '6.0' } },
    tsconfig: 'tsconfig.build.json',
    external: externals(dir),
    sourcemap: false,
    clean: true,
    splitting: false,
    treeshake: true,
    shims: false,
  })),
)
