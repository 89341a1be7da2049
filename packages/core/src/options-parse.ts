import type { z } from 'zod'
import { type ConfigProblem, GatehouseConfigError } from './config-error.js'

/** Turns zod issues into option-path problems (`rules[2].match`, `jwt.secret`). */
export function toProblems(issues: readonly z.core.$ZodIssue[], prefix = ''): ConfigProblem[] {
  return issues.map((issue) => {
    let path = prefix
    for (const key of issue.path) {
      path += typeof key === 'number' ? `[${key}]` : path ? `.${String(key)}` : String(key)
    }
    let message = issue.message
    if (issue.code === 'unrecognized_keys') message = `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}: check the spelling against the documented options`
    return { path, message }
  })
}

/**
 * Validates options with a zod schema once, at creation. Throws {@link GatehouseConfigError}
 * listing every problem when they are invalid.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, scope: string, prefix = ''): z.output<S> {
  const result = schema.safeParse(input)
  if (!result.success) throw new GatehouseConfigError(toProblems(result.error.issues, prefix), scope)
  return result.data
}
