/** One step of a decision, as `auth.explain` reports it. */
export interface TraceStep {
  /** What was checked, e.g. `path`, `credentials`, `signature`, `exp`, `principal`, `rule`. */
  step: string
  outcome: 'pass' | 'fail' | 'info' | 'skip'
  /** A sentence for people; never a token, cookie value or secret. */
  detail: string
  /** Machine-readable detail for tooling (`--json`). */
  data?: Record<string, unknown>
}

/**
 * Receives trace steps while a decision is made. `undefined` on the hot path, so modules only
 * build step objects when someone is listening: `trace?.({ … })`.
 */
export type TraceSink = ((step: TraceStep) => void) | undefined
