/** Thrown by {@link withTimeout} when a hook did not settle in time. */
export class HookTimeout extends Error {
  override readonly name = 'HookTimeout'
  readonly ms: number
  constructor(ms: number) {
    super(`did not answer within ${ms} ms (hookTimeout)`)
    this.ms = ms
  }
}

/**
 * Races an application hook's promise against `ms`. A hook that never settles would otherwise
 * hold the request forever; gatehouse fails closed instead. The timer is unref'd and cleared as
 * soon as the hook answers, so nothing is left behind.
 */
export function withTimeout<T>(pending: PromiseLike<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HookTimeout(ms)), ms)
    timer.unref?.()
  })
  return Promise.race([pending, timeout]).finally(() => clearTimeout(timer))
}

/** Whether a hook's return value is a promise (or any thenable) to wait for. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}
