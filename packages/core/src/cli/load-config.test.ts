import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigLoadError, loadOptions } from './load-config.js'

let dir: string
const OPTIONS = { default: 'public', realm: 'cfg-test' }

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-load-config-'))
  await mkdir(join(dir, 'sub'))
  const files: Record<string, string> = {
    'default-object.mjs': `export default ${JSON.stringify(OPTIONS)}`,
    'default-fn.mjs': `export default () => (${JSON.stringify(OPTIONS)})`,
    'default-async.mjs': `export default async () => { await new Promise((r) => setTimeout(r, 5)); return ${JSON.stringify(OPTIONS)} }`,
    'named.mjs': `export const options = ${JSON.stringify(OPTIONS)}\nexport default { check() {}, explain() {} }`,
    'cjs-exports.cjs': `module.exports = ${JSON.stringify(OPTIONS)}`,
    'cjs-fn.cjs': `module.exports = async () => (${JSON.stringify(OPTIONS)})`,
    'cjs-named.cjs': `exports.options = ${JSON.stringify(OPTIONS)}`,
    'cjs-wrapped.cjs': `module.exports = { options: ${JSON.stringify(OPTIONS)} }`,
    'cjs-transpiled.cjs': `Object.defineProperty(exports, '__esModule', { value: true }); exports.default = ${JSON.stringify(OPTIONS)}`,
    'sub/relative.mjs': `export default ${JSON.stringify(OPTIONS)}`,
    'instance.mjs': 'export default { check() {}, explain() {}, close() {} }',
    'nothing.mjs': 'const x = 1; void x',
    'number.mjs': 'export default 42',
    'throws.mjs': "throw new Error('DATABASE_URL is not set')",
    'fn-throws.mjs': "export default () => { throw new TypeError('boom') }",
    'syntax.mjs': 'export default {',
  }
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
})

afterAll(() => rm(dir, { recursive: true, force: true }))

async function loadError(file: string): Promise<string> {
  const error = await loadOptions(file, dir).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ConfigLoadError)
  return (error as Error).message
}

describe('loadOptions', () => {
  it.each(['default-object.mjs', 'default-fn.mjs', 'default-async.mjs', 'named.mjs', 'cjs-exports.cjs', 'cjs-fn.cjs', 'cjs-named.cjs', 'cjs-wrapped.cjs', 'cjs-transpiled.cjs'])('reads the options from %s', async (file) => {
    expect(await loadOptions(file, dir)).toEqual(OPTIONS)
  })

  it('resolves the path against the given working directory', async () => {
    expect(await loadOptions('./relative.mjs', join(dir, 'sub'))).toEqual(OPTIONS)
    expect(await loadOptions(join(dir, 'default-object.mjs'), '/')).toEqual(OPTIONS)
  })

  it('names a missing file with its resolved path', async () => {
    expect(await loadError('missing.mjs')).toBe(`config file not found: ${join(dir, 'missing.mjs')} (--config is resolved against the current directory)`)
  })

  it('refuses a directory', async () => {
    expect(await loadError('sub')).toContain('is not one')
  })

  it('explains that a createAuth() instance is not options', async () => {
    expect(await loadError('instance.mjs')).toContain('exports a createAuth() instance; export the options object instead')
  })

  it.each([
    ['nothing.mjs', 'exports nothing; export the gatehouse options'],
    ['number.mjs', 'exports a number'],
    ['throws.mjs', 'failed to load: Error: DATABASE_URL is not set'],
    ['fn-throws.mjs', 'threw: TypeError: boom'],
    ['syntax.mjs', 'syntax.mjs failed to load: '],
  ])('reports %s clearly', async (file, message) => {
    expect(await loadError(file)).toContain(message)
  })
})
