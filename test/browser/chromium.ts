import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

/** The system Chromium (Debian's `chromium` package); override with CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Flags for a quiet, deterministic headless run in containers: no sandbox (no user namespaces
 * in CI containers), no GPU, no QUIC, and none of the background traffic (updates, sync, field
 * trials) that makes network assertions flaky.
 */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * Whether browser tests can run. Without Chromium they are skipped with a message, except under
 * CI (`process.env.CI` set), where a missing browser is a broken setup and throws, so the suite
 * fails instead of passing by skipping.
 *
 * @example
 * ```ts
 * describe.skipIf(!hasChromium())('in Chromium', () => { ... })
 * ```
 */
export function hasChromium(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true
  const message = `Chromium not found at ${CHROMIUM_PATH} (install the "chromium" package or set CHROMIUM_PATH)`
  if (process.env.CI) throw new Error(`${message}; browser tests are required when CI is set`)
  console.warn(`Skipping browser tests: ${message}. With CI set they fail instead.`)
  return false
}

/**
 * Launches the system Chromium headless. Playwright gives every launch a fresh temporary
 * profile, so no state (cookies, storage, locks) leaks between test files. Close the browser in
 * `afterAll`.
 */
export async function launchChromium(): Promise<Browser> {
  if (!hasChromium()) throw new Error(`Chromium not found at ${CHROMIUM_PATH}`)
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, timeout: 30_000 })
}
