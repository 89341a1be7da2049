/** A concurrent request loop for fault-injection tests, recording every outcome with its timing. */
import { codeOf, keepAliveClient } from './servers.js'

/** One request of a loop. */
export interface Shot {
  /** Which kind of request this was (the test's label, e.g. `good`, `forged`). */
  kind: string
  status: number
  code: string
  /** `performance.now()` when the request was sent and when its answer was read. */
  sent: number
  answered: number
}

/** What a loop worker sends next: a label, a path and headers. */
export type Next = (i: number) => { kind: string; method?: string; path: string; headers?: Record<string, string> }

/** A running loop; `stop()` resolves every shot once the workers have finished their last request. */
export interface Loop {
  readonly shots: Shot[]
  stop(): Promise<Shot[]>
}

/** Runs `workers` concurrent request loops against `url` until stopped. */
export function runLoop(url: string, workers: number, next: Next): Loop {
  const client = keepAliveClient(url, workers)
  const shots: Shot[] = []
  let running = true
  let counter = 0
  const worker = async () => {
    while (running) {
      const { kind, method, path, headers } = next(counter++)
      const sent = performance.now()
      const res = await client.send(method ?? 'GET', path, headers)
      shots.push({ kind, status: res.status, code: codeOf(res.body), sent, answered: performance.now() })
    }
  }
  const done = Promise.all(Array.from({ length: workers }, worker))
  return {
    shots,
    async stop() {
      running = false
      await done
      client.close()
      return shots
    },
  }
}

/** Counts of `status code` per kind, e.g. `{ good: { '200': 10, '503 auth_unavailable': 2 } }`. */
export function summary(shots: readonly Shot[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {}
  for (const s of shots) {
    const key = s.code ? `${s.status} ${s.code}` : String(s.status)
    const byKind = (out[s.kind] ??= {})
    byKind[key] = (byKind[key] ?? 0) + 1
  }
  return out
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Polls `probe` until it returns true or `timeoutMs` passes; resolves whether it did. */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 5000, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await probe()) return true
    await sleep(everyMs)
  }
  return false
}
