// Bundles the demo's CLI entry for Node 20, which cannot run TypeScript. Dependencies stay
// external, so @gatehouse/* resolve to the packages built by `pnpm build`. They are named
// explicitly because esbuild honours the root tsconfig's `paths`, which map them to sources.
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

await esbuild.build({
  entryPoints: [fileURLToPath(new URL('./src/main.ts', import.meta.url))],
  outfile: fileURLToPath(new URL('./dist/main.js', import.meta.url)),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  external: ['@gatehouse/*'],
  logLevel: 'warning',
})
