// Small statistics shared by the scenarios and the harness. Every scenario reports the median of
// several interleaved rounds with the min–max beside it: the median resists one noisy round, the
// range shows how noisy the machine was.

/** The median of a non-empty list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** `{ median, min, max }` of a non-empty list, rounded to `digits` decimals. */
export function summarize(values, digits = 1) {
  return { median: round(median(values), digits), min: round(Math.min(...values), digits), max: round(Math.max(...values), digits) }
}

export function round(value, digits = 1) {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

/**
 * The order in which round `r` visits `n` contenders: a rotation, so that no contender always
 * runs first (after the idle gap) or always follows the same neighbour.
 */
export function rotation(n, r) {
  return Array.from({ length: n }, (_, i) => (i + r) % n)
}
