import { stat } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type Auth, createAuth } from '../create-auth.js'
import type { AuthOptions } from '../options.js'

/** The options module could not be read or exports nothing usable. Exit code 2. */
export class ConfigLoadError extends Error {
  override readonly name = 'ConfigLoadError'
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return typeof error
  const first = error.message.split('\n', 1)[0] ?? ''
  return `${error.name}: ${first.slice(0, 500)}`
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The options a module exports, in order of preference: `export const options` (also
 * `exports.options` and `module.exports = { options }` in CommonJS), else the default export
 * (`module.exports` in CommonJS, unwrapping a transpiled `exports.default`).
 */
function exported(ns: Record<string, unknown>): unknown {
  if (ns.options !== undefined) return ns.options
  let value = ns.default
  if (isRecord(value) && value.__esModule === true && 'default' in value) value = value.default
  // AuthOptions has no `options` key, so an object holding one is a CommonJS module wrapping them.
  if (isRecord(value) && value.options !== undefined) return value.options
  return value
}

async function importModule(path: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw new ConfigLoadError(`cannot import ${path}: Node cannot load '${extname(path)}' files directly; compile it to JavaScript or write the options as .mjs, .cjs or .js`)
    }
    throw new ConfigLoadError(`the config module ${path} failed to load: ${describe(error)}`)
  }
}

/**
 * Loads the operator's options module. The path is resolved against `cwd` and imported by file
 * URL, so ESM and CommonJS both work. A default export may be the options object or a function
 * (possibly async) returning it.
 */
export async function loadOptions(file: string, cwd: string): Promise<AuthOptions> {
  const path = resolve(cwd, file)
  const info = await stat(path).catch(() => undefined)
  if (info === undefined) throw new ConfigLoadError(`config file not found: ${path} (--config is resolved against the current directory)`)
  if (!info.isFile()) throw new ConfigLoadError(`--config must name a file; ${path} is not one`)
  const ns = await importModule(path)
  let value = exported(ns)
  if (typeof value === 'function') {
    try {
      value = await (value as () => unknown)()
    } catch (error) {
      throw new ConfigLoadError(`the function exported by ${path} threw: ${describe(error)}`)
    }
  }
  if (isRecord(value) && typeof value.check === 'function' && typeof value.explain === 'function') {
    throw new ConfigLoadError(`${path} exports a createAuth() instance; export the options object instead (export const options = { … }), so the CLI can build its own`)
  }
  if (!isRecord(value)) {
    const found = value === undefined ? 'nothing' : value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`
    throw new ConfigLoadError(`${path} exports ${found}; export the gatehouse options as the default export (an object, or a function returning one) or as 'export const options'`)
  }
  return value as AuthOptions
}

/** Loads the options module and builds the auth engine; `createAuth` throws GatehouseConfigError on bad options. */
export async function openAuth(file: string, cwd: string): Promise<{ auth: Auth; options: AuthOptions }> {
  const options = await loadOptions(file, cwd)
  return { auth: createAuth(options), options }
}
