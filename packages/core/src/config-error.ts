/** One problem found in the options given to a gatehouse factory. */
export interface ConfigProblem {
  /** Where the problem is, as an option path such as `jwt.secret` or `rules[2].match`. */
  path: string
  /** What is wrong and what to change. */
  message: string
}

/**
 * Thrown at start-up (never per request) when options are invalid. Its message lists every
 * problem at once, each with its option path and a fix, so one restart is enough to correct them.
 */
export class GatehouseConfigError extends Error {
  override readonly name = 'GatehouseConfigError'
  readonly problems: readonly ConfigProblem[]

  constructor(problems: readonly ConfigProblem[], scope = 'gatehouse') {
    const lines = problems.map((p) => `  - ${p.path || '(root)'}: ${p.message}`)
    super(`Invalid ${scope} options (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`)
    this.problems = problems
  }
}
