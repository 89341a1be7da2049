// Gates the tarballs users install, not the sources: packs every published package with pnpm
// (which rewrites workspace: ranges) and runs publint --strict and attw on each tarball.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const out = join(root, '.artifacts', 'packs')
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const pnpm = ['-y', 'pnpm@12.21.0']
const run = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, stdio: 'inherit' })

let failed = 0
for (const dir of readdirSync(join(root, 'packages'))) {
  const before = new Set(readdirSync(out))
  run('npx', [...pnpm, 'pack', '--pack-destination', out], join(root, 'packages', dir))
  const tgz = readdirSync(out).find((f) => !before.has(f) && f.endsWith('.tgz'))
  if (!tgz) throw new Error(`pnpm pack produced no tarball for packages/${dir}`)
  const file = join(out, tgz)
  for (const [cmd, args] of [
    ['npx', ['publint', 'run', '--strict', file]],
    ['npx', ['attw', '--profile', 'node16', file]],
  ]) {
    try {
      run(cmd, args)
    } catch {
      failed++
      console.error(`✗ ${args[0]} failed for ${tgz}`)
    }
  }
}
if (failed) {
  console.error(`${failed} packaging check(s) failed`)
  process.exit(1)
}
console.log('packaging checks passed for every package')
