import type { AuthSocket } from '@gatehouse/client'
import type { LogEntry } from '../decision-log.js'
import { api, openChat, readToken } from '../../snippets/client.js'

/** What the server injects into the page. */
interface Config {
  secondOrigin: string
  accessTtlSeconds: number
  users: Array<{ id: string; roles: string[]; password: string }>
}

/** A log line as `/events` sends it. */
type Entry = LogEntry

/** What a result line shows. */
interface Result {
  status: number
  code?: string
  text?: string
  hint?: string
  /** Extra `data-*` attributes for tests and styling. */
  data?: Record<string, string>
}

const config = JSON.parse(document.getElementById('demo-config')?.textContent ?? 'null') as Config

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`demo page: #${id} is missing`)
  return el as T
}

/** Builds an element with text content only: hints and paths come from requests, never as HTML. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  if (text !== undefined) node.textContent = text
  if (className !== undefined) node.className = className
  return node
}

function statusBadge(status: number): HTMLElement {
  return el('span', String(status), `status s${String(status)[0]}`)
}

/** Shows a result in `<output id="result-<name>">`, with its status and code also as attributes. */
function show(name: string, result: Result): void {
  const out = byId<HTMLOutputElement>(`result-${name}`)
  out.replaceChildren(statusBadge(result.status))
  if (result.code) out.append(el('code', result.code), ' ')
  if (result.text) out.append(el('span', result.text))
  if (result.hint) out.append(el('span', `hint: ${result.hint}`, 'hint'))
  out.dataset.status = String(result.status)
  out.dataset.code = result.code ?? ''
  for (const [key, value] of Object.entries(result.data ?? {})) out.dataset[key] = value
}

function showError(name: string, error: unknown): void {
  const out = byId<HTMLOutputElement>(`result-${name}`)
  out.replaceChildren(el('span', `failed: ${error instanceof Error ? error.message : String(error)}`, 'hint'))
  out.dataset.status = 'error'
}

/** Reads a response into a {@link Result}: a gatehouse deny body is `{ error, message, hint }`. */
async function describe(res: Response, ok: (body: Record<string, unknown>) => string): Promise<Result> {
  let body: Record<string, unknown> = {}
  if (res.headers.get('content-type')?.includes('json')) body = ((await res.json()) as Record<string, unknown>) ?? {}
  if (res.ok) return { status: res.status, text: ok(body) }
  return {
    status: res.status,
    code: typeof body.error === 'string' ? body.error : undefined,
    text: typeof body.message === 'string' ? body.message : res.statusText,
    hint: typeof body.hint === 'string' ? body.hint : undefined,
  }
}

// --- status line ----------------------------------------------------------------------------

async function refreshWhoami(): Promise<void> {
  const badge = byId('whoami')
  try {
    const who = (await (await api('/api/whoami')).json()) as { signedIn: boolean; id?: string; roles?: string[]; via?: string; code?: string; expiresAt?: number }
    if (who.signedIn) {
      const left = who.expiresAt ? Math.max(0, Math.round((who.expiresAt - Date.now()) / 1000)) : undefined
      const expiry = who.via === 'bearer' && left !== undefined ? `, token expires in ${left} s` : ''
      badge.textContent = `Signed in as ${who.id} (${who.roles?.join(', ')}) via ${who.via}${expiry}`
      badge.dataset.state = 'in'
      badge.dataset.user = who.id ?? ''
      badge.dataset.via = who.via ?? ''
    } else {
      badge.textContent = who.code === 'token_expired' ? 'Access token expired: the next call refreshes it' : 'Not signed in'
      badge.dataset.state = who.code === 'token_expired' ? 'expired' : 'out'
      badge.dataset.user = ''
      badge.dataset.via = ''
    }
  } catch {
    badge.textContent = 'Demo server unreachable'
    badge.dataset.state = 'out'
  }
}

// --- sign in --------------------------------------------------------------------------------

const usersTable = byId<HTMLTableSectionElement>('users')
const form = byId<HTMLFormElement>('login-form')
for (const user of config.users) {
  const row = el('tr')
  row.dataset.user = user.id
  row.append(el('td', user.id), el('td', user.password), el('td', user.roles.join(', ')))
  row.addEventListener('click', () => {
    ;(form.elements.namedItem('username') as HTMLInputElement).value = user.id
    ;(form.elements.namedItem('password') as HTMLInputElement).value = user.password
  })
  usersTable.append(row)
}

form.addEventListener('submit', async (event) => {
  event.preventDefault()
  const mode = (event.submitter as HTMLButtonElement | null)?.value ?? 'session'
  const data = new FormData(form)
  try {
    // Public endpoints go through the same function, with `auth: false`: no token, no refresh.
    const res = await api('/auth/login', {
      method: 'POST',
      auth: false,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: data.get('username'), password: data.get('password'), mode }),
    })
    show('login', await describe(res, (b) => `logged in as ${String(b.id)} with ${mode === 'session' ? 'a session cookie' : 'tokens'}`))
  } catch (error) {
    showError('login', error)
  }
  disconnectChat()
  await refreshWhoami()
})

byId('logout').addEventListener('click', async () => {
  try {
    const res = await api('/auth/logout', { method: 'POST', auth: false })
    show('login', await describe(res, () => 'logged out: session destroyed, token cookies cleared'))
  } catch (error) {
    showError('login', error)
  }
  disconnectChat()
  await refreshWhoami()
})

// --- requests -------------------------------------------------------------------------------

const me = (b: Record<string, unknown>) => `${String(b.id)} via ${String(b.via)} (roles ${(b.roles as string[] | undefined)?.join(', ')})`

const scenarios: Record<string, () => Promise<void>> = {
  async public() {
    show('public', await describe(await api('/api/public'), (b) => String(b.message)))
  },
  async protected() {
    show('protected', await describe(await api('/api/me'), me))
  },
  async raw() {
    // The bug, on purpose: a plain fetch sends the cookies but no Authorization header.
    show('raw', await describe(await fetch('/api/me'), me))
  },
  async admin() {
    const res = await api('/api/admin/notes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hello from the demo' }) })
    show('admin', await describe(res, (b) => `note #${String(b.id)} written by ${String(b.by)}`))
  },
  async second() {
    const res = await api(`${config.secondOrigin}/hello`)
    const body = (await res.json()) as { sawAuthorization: boolean; cookies: string[] }
    show('second', {
      status: res.status,
      text: body.sawAuthorization ? 'the second origin RECEIVED an Authorization header' : `the second origin received no Authorization header (cookies: ${body.cookies.length ? body.cookies.join(', ') : 'none'})`,
      data: { authorization: body.sawAuthorization ? 'present' : 'absent' },
    })
  },
  async expire() {
    const expired = await api('/auth/expire', { method: 'POST' })
    if (!expired.ok) {
      show('expire', { ...(await describe(expired, () => '')), data: { refreshed: 'no' } })
      return
    }
    const before = readToken()
    const res = await api('/api/me')
    const refreshed = readToken() !== before
    const result = await describe(res, (b) => `${me(b)}${refreshed ? ': the expired token got 401 token_expired, one refresh, one retry' : ''}`)
    show('expire', { ...result, data: { refreshed: refreshed ? 'yes' : 'no' } })
  },
}

for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-scenario]')) {
  const name = button.dataset.scenario as string
  button.addEventListener('click', async () => {
    button.disabled = true
    try {
      await scenarios[name]?.()
    } catch (error) {
      showError(name, error)
    } finally {
      button.disabled = false
      void refreshWhoami()
    }
  })
}

// --- chat -----------------------------------------------------------------------------------

let chat: AuthSocket | undefined
const chatStatus = byId<HTMLOutputElement>('chat-status')
const chatMessages = byId<HTMLOListElement>('chat-messages')

function setChat(state: string, text: string, code?: number, reason?: string): void {
  chatStatus.textContent = text
  chatStatus.dataset.state = state
  chatStatus.dataset.code = code === undefined ? '' : String(code)
  chatStatus.dataset.reason = reason ?? ''
}

function addMessage(message: { type: string; from?: string; text: string }): void {
  const item = el('li', undefined, message.type === 'system' ? 'system' : undefined)
  if (message.from) item.append(el('b', message.from))
  item.append(message.text)
  chatMessages.append(item)
  chatMessages.scrollTop = chatMessages.scrollHeight
}

function disconnectChat(): void {
  const current = chat
  chat = undefined
  current?.close(1000, 'bye')
}

byId('chat-connect').addEventListener('click', () => {
  disconnectChat()
  const socket = openChat()
  chat = socket
  setChat('connecting', 'connecting…')
  socket.on('open', () => chat === socket && setChat('open', 'open'))
  socket.on('reconnect', ({ attempt }) => chat === socket && setChat('reconnecting', `token refused (4401): refreshed, reconnecting (attempt ${attempt})`))
  socket.on('message', (event) => {
    try {
      addMessage(JSON.parse(String(event.data)) as { type: string; from?: string; text: string })
    } catch {
      addMessage({ type: 'system', text: String(event.data) })
    }
  })
  socket.on('close', (event) => {
    if (chat !== socket) return
    setChat('closed', `closed ${event.code}${event.reason ? ` ${event.reason}` : ''}`, event.code, event.reason)
  })
})
byId('chat-disconnect').addEventListener('click', () => {
  disconnectChat()
  setChat('closed', 'disconnected', 1000)
})
byId<HTMLFormElement>('chat-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const input = byId<HTMLInputElement>('chat-input')
  if (chat?.socket?.readyState !== WebSocket.OPEN || input.value.trim() === '') return
  chat.send(JSON.stringify({ text: input.value }))
  input.value = ''
})

// --- the chat from another origin -----------------------------------------------------------

byId('ws-foreign').addEventListener('click', () => {
  const frame = el('iframe')
  frame.title = 'a page on the second origin'
  frame.src = `${config.secondOrigin}/foreign`
  byId('foreign-frame').replaceChildren(frame)
  const out = byId<HTMLOutputElement>('result-ws-foreign')
  out.replaceChildren(el('span', 'waiting for the second origin…', 'hint'))
  out.dataset.code = ''
})

window.addEventListener('message', (event: MessageEvent) => {
  const data = event.data as { type?: unknown; results?: Array<{ url: string; opened: boolean; code: number; reason: string }> }
  if (event.origin !== config.secondOrigin || data?.type !== 'foreign-ws' || !Array.isArray(data.results)) return
  const out = byId<HTMLOutputElement>('result-ws-foreign')
  out.replaceChildren()
  for (const r of data.results) {
    const http = r.url.endsWith('/ws/chat-http')
    const line = el('div')
    line.append(el('code', http ? "reject: 'http'" : "reject: 'close'"), ` ${new URL(r.url).pathname}: closed `, el('b', String(r.code)), ` ${r.reason || '(no reason)'}`)
    if (http && r.code === 1006) line.append(el('span', 'the browser hides the 403 answered before the upgrade; use reject: \'close\' to let the page read why', 'hint'))
    if (!http) {
      out.dataset.code = String(r.code)
      out.dataset.reason = r.reason
    } else {
      out.dataset.httpCode = String(r.code)
    }
    out.append(line)
  }
})

// --- decision log ---------------------------------------------------------------------------

const logBody = byId<HTMLTableSectionElement>('log')
const MAX_ROWS = 100

function emptyLog(): void {
  const cell = el('td', 'No decisions yet: press a button.', 'empty')
  cell.colSpan = 6
  const row = el('tr')
  row.append(cell)
  logBody.replaceChildren(row)
}

function addRow(entry: Entry): void {
  logBody.querySelector('td.empty')?.parentElement?.remove()
  const row = el('tr')
  row.dataset.testid = 'log-row'
  row.dataset.id = String(entry.id)
  row.dataset.method = entry.method
  row.dataset.path = entry.path
  row.dataset.outcome = entry.outcome
  row.dataset.status = String(entry.status)
  row.dataset.code = entry.code ?? ''
  row.title = 'Click for the full trace (auth.explain)'
  const decision = entry.outcome === 'allow' ? `allow (${entry.via}${entry.user ? ` ${entry.user}` : ''})` : 'deny'
  row.append(
    el('td', new Date(entry.time).toLocaleTimeString()),
    el('td', `${entry.upgrade ? 'WS ' : ''}${entry.method} ${entry.path}`),
    el('td', decision, 'outcome'),
    el('td', String(entry.status)),
    el('td', entry.code ?? ''),
    el('td', entry.hint ?? ''),
  )
  row.addEventListener('click', () => void toggleTrace(row, entry.id))
  logBody.prepend(row)
  const rows = logBody.querySelectorAll('tr[data-testid="log-row"]')
  for (let i = rows.length - 1; i >= MAX_ROWS; i--) {
    const old = rows[i] as HTMLTableRowElement
    if (old.nextElementSibling?.classList.contains('trace')) old.nextElementSibling.remove()
    old.remove()
  }
}

interface Explained {
  request: { method: string; url: string; headers: Record<string, string | string[]> }
  upgrade: boolean
  decision: { ok: boolean; status?: number; code?: string; hint?: string; via?: string; user?: string | null }
  steps: Array<{ step: string; outcome: string; detail: string }>
}

async function toggleTrace(row: HTMLTableRowElement, id: number): Promise<void> {
  const next = row.nextElementSibling
  if (next?.classList.contains('trace')) {
    next.remove()
    return
  }
  const cell = el('td')
  cell.colSpan = 6
  const traceRow = el('tr', undefined, 'trace')
  traceRow.dataset.testid = 'log-trace'
  traceRow.append(cell)
  row.after(traceRow)
  const res = await fetch(`/api/explain?id=${id}`)
  if (!res.ok) {
    cell.textContent = 'This request is no longer kept (only the last 100 are).'
    return
  }
  const x = (await res.json()) as Explained
  const steps = el('ol')
  for (const s of x.steps) {
    const item = el('li', undefined, s.outcome)
    item.append(el('b', s.step), ` ${s.detail}`)
    steps.append(item)
  }
  const headers = Object.entries(x.request.headers)
    .map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : value}`)
    .join('\n')
  cell.append(
    el('div', `${x.upgrade ? 'WebSocket upgrade ' : ''}${x.request.method} ${x.request.url}, judged again now:`),
    steps,
    el('pre', `request headers (credential values redacted)\n${headers}`),
  )
}

emptyLog()
const events = new EventSource('/events')
events.addEventListener('snapshot', (event) => {
  emptyLog()
  for (const entry of JSON.parse((event as MessageEvent<string>).data) as Entry[]) addRow(entry)
  logBody.dataset.live = 'true'
})
events.addEventListener('entry', (event) => addRow(JSON.parse((event as MessageEvent<string>).data) as Entry))

void refreshWhoami()
setInterval(() => void refreshWhoami(), 5000)
