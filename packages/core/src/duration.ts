import { GatehouseConfigError } from './config-error.js'

/** A duration: a number of seconds, or a string such as `'30s'`, `'15m'`, `'8h'`, `'7d'`. */
export type Duration = number | `${number}${'s' | 'm' | 'h' | 'd'}`

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }

/**
 * Parses a {@link Duration} into seconds, or returns a message saying what is wrong.
 * Used by option schemas so that every bad duration is reported with its option path.
 */
export function durationProblem(value: unknown): string | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? undefined : 'must be a finite number of seconds, 0 or more'
  }
  if (typeof value === 'string') {
    return /^\d+(\.\d+)?[smhd]$/.test(value) ? undefined : `"${value}" is not a duration: use seconds (a number) or a string such as '30s', '15m', '8h', '7d'`
  }
  return 'must be a number of seconds or a string such as \'30s\', \'15m\', \'8h\', \'7d\''
}

/** Converts a {@link Duration} to seconds; throws {@link GatehouseConfigError} when it is not one. */
export function toSeconds(value: Duration, path = 'duration'): number {
  const problem = durationProblem(value)
  if (problem) throw new GatehouseConfigError([{ path, message: problem }])
  if (typeof value === 'number') return value
  return Number.parseFloat(value.slice(0, -1)) * (UNIT_SECONDS[value.slice(-1)] ?? 1)
}
