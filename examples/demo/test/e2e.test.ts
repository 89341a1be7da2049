import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasChromium, launchChromium } from '../../../test/browser/chromium'
import { type Demo, startDemo } from '../src/server'

const SCREENSHOT = fileURLToPath(new URL('../../../.artifacts/demo.png', import.meta.url))

/** A result line as the page shows it. */
interface Shown {
  status: string | null
  code: string | null
  text: string
}

describe.skipIf(!hasChromium())('the demo page in Chromium', () => {
  let demo: Demo
  let browser: Browser
  let context: BrowserContext
  let page: Page
  const pageErrors: string[] = []

  beforeAll(async () => {
    demo = await startDemo({ port: 0 })
    browser = await launchChromium()
    context = await browser.newContext({ viewport: { width: 1360, height: 900 } })
    page = await context.newPage()
    page.setDefaultTimeout(10_000)
    page.on('pageerror', (error) => pageErrors.push(error.message))
    await page.goto(demo.url)
    // The log is live (server-sent events) once the stream delivered its snapshot.
    await page.locator('[data-testid="log"][data-live="true"]').waitFor()
  })

  afterAll(async () => {
    await browser?.close()
    await demo?.close()
  })

  /** Clicks a button and waits for its result element to show a new result. */
  async function press(button: string, result: string): Promise<Shown> {
    const out = page.getByTestId(`result-${result}`)
    await out.evaluate((node) => {
      delete (node as HTMLElement).dataset.status
    })
    await page.getByTestId(button).click()
    await page.locator(`[data-testid="result-${result}"][data-status]`).waitFor()
    return { status: await out.getAttribute('data-status'), code: await out.getAttribute('data-code'), text: (await out.textContent()) ?? '' }
  }

  /** The decision log as shown on the page, newest first. */
  async function logRows(): Promise<Array<{ method: string; path: string; outcome: string; status: string; code: string; text: string }>> {
    return page.getByTestId('log-row').evaluateAll((rows) =>
      rows.map((r) => {
        const d = (r as HTMLElement).dataset
        return { method: d.method ?? '', path: d.path ?? '', outcome: d.outcome ?? '', status: d.status ?? '', code: d.code ?? '', text: r.textContent ?? '' }
      }),
    )
  }

  async function login(user: string, password: string, mode: 'session' | 'token'): Promise<void> {
    await page.getByTestId('username').fill(user)
    await page.getByTestId('password').fill(password)
    const shown = await press(`login-${mode}`, 'login')
    expect(shown.status).toBe('200')
    await page.locator(`[data-testid="whoami"][data-user="${user}"]`).waitFor()
  }

  it('logged out: the public route answers 200, the protected one 401 credentials_missing (not 403)', async () => {
    expect(await press('btn-public', 'public')).toMatchObject({ status: '200', code: '' })
    const shown = await press('btn-protected', 'protected')
    expect(shown).toMatchObject({ status: '401', code: 'credentials_missing' })
    expect(shown.text).toContain('hint: no credentials')
    expect(await page.getByTestId('whoami').getAttribute('data-state')).toBe('out')
    await expect.poll(async () => (await logRows()).find((r) => r.path === '/api/me'), { timeout: 5000 }).toMatchObject({ method: 'GET', outcome: 'deny', status: '401', code: 'credentials_missing' })
    expect((await logRows()).find((r) => r.path === '/api/public')).toMatchObject({ outcome: 'allow', status: '200' })
  })

  it('token login: the wrapped fetch works; the raw fetch beside it gets 401 credentials_missing with a hint naming client_token', async () => {
    await login('alice', 'alice-demo', 'token')
    expect((await page.getByTestId('whoami').textContent()) ?? '').toContain('alice (user) via bearer')
    const wrapped = await press('btn-protected', 'protected')
    expect(wrapped).toMatchObject({ status: '200', code: '' })
    expect(wrapped.text).toContain('alice via bearer')
    const raw = await press('btn-raw', 'raw')
    expect(raw).toMatchObject({ status: '401', code: 'credentials_missing' })
    expect(raw.text).toContain("'client_token' looks like a token")
    await expect.poll(async () => (await logRows())[0], { timeout: 5000 }).toMatchObject({ method: 'GET', path: '/api/me', outcome: 'deny', status: '401', code: 'credentials_missing' })
    expect((await logRows())[0]?.text).toContain('the request carries cookies [client_token]')
  })

  it('admin-only write as alice: 403 insufficient_role, the hint names the roles', async () => {
    const shown = await press('btn-admin', 'admin')
    expect(shown).toMatchObject({ status: '403', code: 'insufficient_role' })
    expect(shown.text).toMatch(/needs one of roles \['admin'\]; principal 'alice' has \['user'\]/)
    await expect.poll(async () => (await logRows())[0], { timeout: 5000 }).toMatchObject({ method: 'POST', path: '/api/admin/notes', outcome: 'deny', status: '403', code: 'insufficient_role' })
  })

  it('the second origin answers, and never receives the Authorization header', async () => {
    const shown = await press('btn-second', 'second')
    expect(shown.status).toBe('200')
    expect(await page.getByTestId('result-second').getAttribute('data-authorization')).toBe('absent')
    const seen = demo.secondOriginRequests()
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every((r) => r.authorization === null)).toBe(true)
    expect(seen.at(-1)?.origin).toBe(demo.url)
    // The same answer from the recorder over HTTP, as the page could ask it.
    const recorded = (await (await fetch(`${demo.secondOrigin}/recorded`, { signal: AbortSignal.timeout(5000) })).json()) as Array<{ authorization: string | null }>
    expect(recorded.every((r) => r.authorization === null)).toBe(true)
  })

  it('an expired access token: 401 token_expired, one refresh through the HttpOnly cookie, one retry', async () => {
    const before = (await logRows()).length
    const shown = await press('btn-expire', 'expire')
    expect(shown.status).toBe('200')
    expect(await page.getByTestId('result-expire').getAttribute('data-refreshed')).toBe('yes')
    await expect.poll(async () => (await logRows()).length, { timeout: 5000 }).toBeGreaterThanOrEqual(before + 4)
    const recent = (await logRows()).slice(0, (await logRows()).length - before).reverse()
    const steps = recent.map((r) => `${r.method} ${r.path} ${r.outcome} ${r.status} ${r.code}`.trim())
    expect(steps).toEqual(['POST /auth/expire allow 200', 'GET /api/me deny 401 token_expired', 'POST /auth/refresh allow 200', 'GET /api/me allow 200'])
  })

  it('the chat opens with the token in the subprotocol, and messages come back', async () => {
    await page.getByTestId('chat-connect').click()
    await page.locator('[data-testid="chat-status"][data-state="open"]').waitFor()
    await page.getByTestId('chat-messages').getByText('Welcome, alice (authenticated via bearer).').waitFor()
    await page.getByTestId('chat-input').fill('hello over a gatehouse socket')
    await page.getByTestId('chat-send').click()
    await page.getByTestId('chat-messages').getByText('hello over a gatehouse socket').waitFor()
    const upgrade = (await logRows()).find((r) => r.path === '/ws/chat')
    expect(upgrade).toMatchObject({ outcome: 'allow', status: '101' })
    expect(upgrade?.text).toContain('bearer alice')
  })

  it('the chat opened from the second origin is refused: 4403 origin_rejected (and a bare 1006 with reject: http)', async () => {
    await page.getByTestId('ws-foreign').click()
    const out = page.locator('[data-testid="result-ws-foreign"][data-code][data-http-code]')
    await out.waitFor()
    expect(await out.getAttribute('data-code')).toBe('4403')
    expect(await out.getAttribute('data-reason')).toBe('origin_rejected')
    expect(await out.getAttribute('data-http-code')).toBe('1006')
    await expect.poll(async () => (await logRows()).filter((r) => r.code === 'origin_rejected').length, { timeout: 5000 }).toBe(2)
    // The refused page never joined the chat.
    expect(await page.getByTestId('chat-messages').textContent()).not.toContain('Welcome, anonymous')
  })

  it('the page looks right with every result shown', async () => {
    mkdirSync(fileURLToPath(new URL('.', `file://${SCREENSHOT}`)), { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    expect(pageErrors).toEqual([])
  })

  it('the decision log explains a line with its trace, shows no credential and leaves its own requests out', async () => {
    const rows = await logRows()
    expect(rows.some((r) => ['/api/log', '/events', '/api/explain', '/api/whoami'].includes(r.path))).toBe(false)
    await page.locator('[data-testid="log-row"][data-code="insufficient_role"]').first().click()
    const trace = page.getByTestId('log-trace')
    await trace.getByText('judged again now').waitFor()
    const text = (await trace.textContent()) ?? ''
    expect(text).toContain("rule 0 (/api/admin/**)")
    expect(text).toContain('deny 403 insufficient_role')
    expect(text).toMatch(/authorization: Bearer eyJ\w{3}…\(\d+ chars\)/)
    const token = (await context.cookies()).find((c) => c.name === 'client_token')?.value
    expect(token).toBeTruthy()
    expect(text).not.toContain(token as string)
    await page.locator('[data-testid="log-row"][data-code="insufficient_role"]').first().click()
    await expect.poll(() => page.getByTestId('log-trace').count()).toBe(0)
  })

  it('session login as admin: the admin write is allowed, and a raw fetch works because the cookie rides along', async () => {
    await page.getByTestId('chat-disconnect').click()
    await login('admin', 'admin-demo', 'session')
    expect((await context.cookies()).some((c) => c.name === 'client_token')).toBe(false)
    expect(await press('btn-admin', 'admin')).toMatchObject({ status: '201', code: '' })
    const raw = await press('btn-raw', 'raw')
    expect(raw.status).toBe('200')
    expect(raw.text).toContain('admin via session')
    await page.getByTestId('chat-connect').click()
    await page.getByTestId('chat-messages').getByText('Welcome, admin (authenticated via session).').waitFor()
  })

  it('log out: the session is gone, the protected route is 401 again and the chat is refused with 4401', async () => {
    await press('logout', 'login')
    await page.locator('[data-testid="whoami"][data-state="out"]').waitFor()
    expect(await press('btn-protected', 'protected')).toMatchObject({ status: '401', code: 'credentials_missing' })
    await page.getByTestId('chat-connect').click()
    const status = page.locator('[data-testid="chat-status"][data-state="closed"]')
    await status.waitFor()
    expect(await status.getAttribute('data-code')).toBe('4401')
    expect(await status.getAttribute('data-reason')).toBe('credentials_missing')
    expect(pageErrors).toEqual([])
  })
})
