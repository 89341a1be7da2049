/**
 * Records unhandled promise rejections and uncaught exceptions while a test file runs, so the
 * file can assert that none happened (a crashed request handler or a forgotten promise).
 */
export interface Watch {
  /** What was reported so far. */
  readonly events: string[]
  /** Stops listening. */
  stop(): void
}

export function watchProcess(): Watch {
  const events: string[] = []
  const rejection = (reason: unknown) => events.push(`unhandledRejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`)
  const exception = (error: Error) => events.push(`uncaughtException: ${error.stack ?? error.message}`)
  process.on('unhandledRejection', rejection)
  process.on('uncaughtExceptionMonitor', exception)
  return {
    events,
    stop() {
      process.off('unhandledRejection', rejection)
      process.off('uncaughtExceptionMonitor', exception)
    },
  }
}
