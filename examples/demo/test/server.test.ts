import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { createDecisionLog, credentialValues, redactRequest, scrub } from '../src/decision-log'
import { type Demo, formatEntry, startDemo } from '../src/server'
import { verifyPassword } from '../src/users'

/** The parts of a response the tests read. */
interface Answer {
  status: number
  body: Record<string, unknown>
  headers: Headers
  cookies: string[]
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000), ...init })
  const text = await res.text()
  let body: Record<string, unknown> = {}
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {}
  } catch {
    body = { text }
  }
  return { status: res.status, body, headers: res.headers, cookies: res.headers.getSetCookie() }
}

/** `name=value` of a Set-Cookie, for sending it back. */
function cookiePair(setCookies: string[], name: string): string {
  const found = setCookies.find((c) => c.startsWith(`${name}=`))
  if (found === undefined) throw new Error(`no Set-Cookie for ${name} in ${setCookies.map((c) => c.split('=')[0]).join(', ')}`)
  return found.split(';')[0] as string
}

const valueOf = (pair: string) => pair.slice(pair.indexOf('=') + 1)

describe('the demo server', () => {
  let demo: Demo
  const json = { 'content-type': 'application/json' }
  let own: Record<string, string>

  async function tokenLogin(username: string, password: string) {
    const res = await call(`${demo.url}/auth/login`, { method: 'POST', headers: { ...json, ...own }, body: JSON.stringify({ username, password, mode: 'token' }) })
    expect(res.status).toBe(200)
    const access = cookiePair(res.cookies, 'client_token')
    return { res, access, token: valueOf(access), refresh: cookiePair(res.cookies, 'demo_refresh') }
  }

  async function sessionLogin(username: string, password: string) {
    const res = await call(`${demo.url}/auth/login`, { method: 'POST', headers: { ...json, ...own }, body: JSON.stringify({ username, password, mode: 'session' }) })
    expect(res.status).toBe(200)
    const name = res.cookies.map((c) => c.split('=')[0] as string).find((n) => n.includes('gatehouse.sid'))
    if (name === undefined) throw new Error('no session cookie')
    return cookiePair(res.cookies.filter((c) => !c.includes('Max-Age=0')), name)
  }

  beforeAll(async () => {
    demo = await startDemo({ port: 0 })
    own = { origin: demo.url }
  })
  afterAll(async () => {
    await demo?.close()
  })

  it('serves the page with its config and the page script bundled from the sources', async () => {
    const page = await call(`${demo.url}/`)
    expect(page.status).toBe(200)
    expect(String(page.body.text)).toContain(`"secondOrigin":"${demo.secondOrigin}"`)
    expect(String(page.body.text)).not.toContain('/*CONFIG*/')
    const script = await fetch(`${demo.url}/app.js`)
    expect(script.headers.get('content-type')).toContain('javascript')
    const text = await script.text()
    expect(text).toContain('gatehouse.bearer.')
    expect(text).not.toMatch(/^import .* from ['"]@gatehouse/m)
  })

  it('answers a protected route without credentials with 401 credentials_missing, not 403', async () => {
    const res = await call(`${demo.url}/api/me`)
    expect(res.status).toBe(401)
    expect(res.body.error).toBe('credentials_missing')
    expect(res.body.hint).toContain('no credentials')
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="/)
    expect((await call(`${demo.url}/api/public`)).status).toBe(200)
  })

  it('refuses wrong passwords and unknown login modes', async () => {
    const bad = await call(`${demo.url}/auth/login`, { method: 'POST', headers: { ...json, ...own }, body: JSON.stringify({ username: 'alice', password: 'nope', mode: 'token' }) })
    expect(bad.status).toBe(401)
    expect(bad.cookies).toEqual([])
    const mode = await call(`${demo.url}/auth/login`, { method: 'POST', headers: { ...json, ...own }, body: JSON.stringify({ username: 'alice', password: 'alice-demo', mode: 'magic' }) })
    expect(mode.status).toBe(400)
    const broken = await call(`${demo.url}/auth/login`, { method: 'POST', headers: { ...json, ...own }, body: '{not json' })
    expect(broken.status).toBe(400)
    expect(broken.body.error).toBe('bad_request')
  })

  it('token login: a readable access cookie, an HttpOnly refresh cookie scoped to /auth', async () => {
    const { res, token } = await tokenLogin('alice', 'alice-demo')
    const access = res.cookies.find((c) => c.startsWith('client_token='))
    const refresh = res.cookies.find((c) => c.startsWith('demo_refresh='))
    expect(access).not.toMatch(/HttpOnly/i)
    expect(refresh).toMatch(/HttpOnly/i)
    expect(refresh).toMatch(/Path=\/auth/)
    const me = await call(`${demo.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })
    expect(me.body).toEqual({ id: 'alice', roles: ['user'], via: 'bearer' })
  })

  it('shows the motivating bug: the token cookie without the header is 401 credentials_missing, and the hint names the cookie', async () => {
    const { access } = await tokenLogin('alice', 'alice-demo')
    const res = await call(`${demo.url}/api/me`, { headers: { cookie: access } })
    expect(res.status).toBe(401)
    expect(res.body.error).toBe('credentials_missing')
    expect(res.body.hint).toContain("'client_token' looks like a token")
    expect(JSON.stringify(res.body)).not.toContain(valueOf(access))
  })

  it('admin-only write: 403 insufficient_role for alice, 201 for admin', async () => {
    const alice = await tokenLogin('alice', 'alice-demo')
    const denied = await call(`${demo.url}/api/admin/notes`, { method: 'POST', headers: { ...json, authorization: `Bearer ${alice.token}` }, body: '{"text":"x"}' })
    expect(denied.status).toBe(403)
    expect(denied.body.error).toBe('insufficient_role')
    expect(denied.body.hint).toContain("'admin'")
    const admin = await tokenLogin('admin', 'admin-demo')
    const allowed = await call(`${demo.url}/api/admin/notes`, { method: 'POST', headers: { ...json, authorization: `Bearer ${admin.token}` }, body: '{"text":"x"}' })
    expect(allowed.status).toBe(201)
    expect(allowed.body.by).toBe('admin')
  })

  it('session login: the cookie authenticates, and a write from a foreign origin is 403 csrf_rejected', async () => {
    const session = await sessionLogin('admin', 'admin-demo')
    const me = await call(`${demo.url}/api/me`, { headers: { cookie: session } })
    expect(me.body).toEqual({ id: 'admin', roles: ['admin', 'user'], via: 'session' })
    const forged = await call(`${demo.url}/api/admin/notes`, { method: 'POST', headers: { ...json, cookie: session, origin: demo.secondOrigin }, body: '{}' })
    expect(forged.status).toBe(403)
    expect(forged.body.error).toBe('csrf_rejected')
    const sameOrigin = await call(`${demo.url}/api/admin/notes`, { method: 'POST', headers: { ...json, cookie: session, ...own }, body: '{}' })
    expect(sameOrigin.status).toBe(201)
  })

  it('logout destroys the session: the old cookie is refused afterwards', async () => {
    const session = await sessionLogin('alice', 'alice-demo')
    const out = await call(`${demo.url}/auth/logout`, { method: 'POST', headers: { cookie: session, ...own } })
    expect(out.status).toBe(204)
    expect(out.cookies.some((c) => c.startsWith('client_token=;'))).toBe(true)
    const after = await call(`${demo.url}/api/me`, { headers: { cookie: session } })
    expect(after.status).toBe(401)
    expect(after.body.error).toBe('session_invalid')
  })

  it('refresh rotates the refresh token: a new access token, and the spent refresh token is refused', async () => {
    const { refresh } = await tokenLogin('alice', 'alice-demo')
    const first = await call(`${demo.url}/auth/refresh`, { method: 'POST', headers: { cookie: refresh, ...own } })
    expect(first.status).toBe(200)
    const token = String(first.body.token)
    expect(valueOf(cookiePair(first.cookies, 'client_token'))).toBe(token)
    expect((await call(`${demo.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
    const replay = await call(`${demo.url}/auth/refresh`, { method: 'POST', headers: { cookie: refresh, ...own } })
    expect(replay.status).toBe(401)
    expect(replay.body.error).toBe('refresh_rejected')
    const next = cookiePair(first.cookies, 'demo_refresh')
    expect((await call(`${demo.url}/auth/refresh`, { method: 'POST', headers: { cookie: next, ...own } })).status).toBe(200)
  })

  it('refuses a refresh requested by another origin (same site, other port) and a doubled refresh cookie', async () => {
    const { refresh } = await tokenLogin('alice', 'alice-demo')
    const foreign = await call(`${demo.url}/auth/refresh`, { method: 'POST', headers: { cookie: refresh, origin: demo.secondOrigin } })
    expect(foreign.status).toBe(403)
    expect(foreign.body.error).toBe('csrf_rejected')
    const doubled = await call(`${demo.url}/auth/refresh`, { method: 'POST', headers: { cookie: `${refresh}; ${refresh}`, ...own } })
    expect(doubled.status).toBe(401)
  })

  it('the expire button mints an expired but validly signed token: 401 token_expired', async () => {
    const { token } = await tokenLogin('alice', 'alice-demo')
    const res = await call(`${demo.url}/auth/expire`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    const expired = valueOf(cookiePair(res.cookies, 'client_token'))
    const me = await call(`${demo.url}/api/me`, { headers: { authorization: `Bearer ${expired}` } })
    expect(me.status).toBe(401)
    expect(me.body.error).toBe('token_expired')
    const session = await sessionLogin('alice', 'alice-demo')
    expect((await call(`${demo.url}/auth/expire`, { method: 'POST', headers: { cookie: session, ...own } })).status).toBe(409)
  })

  it('whoami reports what /api/me would decide, without adding to the log', async () => {
    const before = (await call(`${demo.url}/api/log`)).body as unknown as unknown[]
    const { token } = await tokenLogin('alice', 'alice-demo')
    const who = await call(`${demo.url}/api/whoami`, { headers: { authorization: `Bearer ${token}` } })
    expect(who.body).toMatchObject({ signedIn: true, id: 'alice', via: 'bearer' })
    expect(Number(who.body.expiresAt)).toBeGreaterThan(Date.now())
    expect((await call(`${demo.url}/api/whoami`)).body).toEqual({ signedIn: false, code: 'credentials_missing' })
    const after = (await call(`${demo.url}/api/log`)).body as unknown as Array<{ path: string }>
    expect(after.length).toBe(before.length + 1)
    expect(after.at(-1)?.path).toBe('/auth/login')
  })

  it('whoami passes on the cookie of a session it rolled, so the browser keeps the session as long as the store', async () => {
    const session = await sessionLogin('alice', 'alice-demo')
    // Two minutes later: past touchAfter (60 s by default), so the check refreshes the session.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 120_000 })
    try {
      const who = await call(`${demo.url}/api/whoami`, { headers: { cookie: session } })
      expect(who.body).toMatchObject({ signedIn: true, id: 'alice', via: 'session' })
      const rolled = who.cookies.find((c) => c.startsWith(session.split('=')[0] as string))
      expect(rolled).toMatch(/Max-Age=\d+/)
      expect(rolled?.split(';')[0]).toBe(session)
    } finally {
      vi.useRealTimers()
    }
  })

  it('logs every decision with the status the route answered, and leaves its own plumbing out', async () => {
    await call(`${demo.url}/auth/refresh`, { method: 'POST', headers: own })
    await call(`${demo.url}/api/nope`)
    await call(`${demo.url}/api/log`)
    await call(`${demo.url}/api/explain?id=1`)
    const entries = (await call(`${demo.url}/api/log`)).body as unknown as Array<{ path: string; outcome: string; status: number; code?: string }>
    expect(entries.every((e) => !['/api/log', '/api/explain', '/events', '/api/whoami'].includes(e.path))).toBe(true)
    const refresh = entries.filter((e) => e.path === '/auth/refresh').at(-1)
    expect(refresh).toMatchObject({ outcome: 'allow', status: 401 })
    expect(entries.at(-1)).toMatchObject({ path: '/api/nope', outcome: 'deny', status: 401, code: 'credentials_missing' })
  })

  it('explains a logged request with its trace, and never shows a credential value', async () => {
    const { token, access, refresh } = await tokenLogin('alice', 'alice-demo')
    await call(`${demo.url}/api/admin/notes?access_token=${token}`, { method: 'POST', headers: { ...json, authorization: `Bearer ${token}`, cookie: `${access}; ${refresh}` }, body: '{}' })
    const entries = (await call(`${demo.url}/api/log`)).body as unknown as Array<{ id: number; path: string; code?: string }>
    const entry = entries.filter((e) => e.path === '/api/admin/notes').at(-1)
    expect(entry?.code).toBe('insufficient_role')
    const res = await fetch(`${demo.url}/api/explain?id=${entry?.id}`)
    const text = await res.text()
    const x = JSON.parse(text) as { decision: { code: string }; steps: Array<{ step: string; outcome: string }>; request: { headers: Record<string, string>; url: string } }
    expect(x.decision.code).toBe('insufficient_role')
    expect(x.steps.some((s) => s.step === 'rule')).toBe(true)
    expect(x.steps.at(-1)).toMatchObject({ step: 'decision', outcome: 'fail' })
    expect(x.request.headers.authorization).toMatch(/^Bearer eyJ\w{3}…\(\d+ chars\)$/)
    expect(x.request.headers.cookie).toMatch(/^client_token=…\(\d+ chars\); demo_refresh=…\(\d+ chars\)$/)
    expect(x.request.url).toMatch(/\?access_token=…\(\d+ chars\)$/)
    for (const secret of [token, token.split('.')[2] as string, valueOf(refresh)]) expect(text).not.toContain(secret)
    expect((await call(`${demo.url}/api/explain?id=999999`)).status).toBe(404)
    expect((await call(`${demo.url}/api/explain?id=abc`)).status).toBe(404)
  })

  it('keeps only the last 100 entries and requests', async () => {
    for (let i = 0; i < 110; i++) await call(`${demo.url}/api/public?i=${i}`)
    const entries = (await call(`${demo.url}/api/log`)).body as unknown as Array<{ id: number }>
    expect(entries).toHaveLength(100)
    const oldest = (entries[0] as { id: number }).id
    expect((await call(`${demo.url}/api/explain?id=${oldest - 1}`)).status).toBe(404)
    expect((await call(`${demo.url}/api/explain?id=${oldest}`)).status).toBe(200)
  })

  it('streams the log over server-sent events: a snapshot, then each new entry', async () => {
    const controller = new AbortController()
    const res = await fetch(`${demo.url}/events`, { signal: controller.signal })
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let text = ''
    const until = async (pattern: RegExp) => {
      const deadline = Date.now() + 5000
      while (!pattern.test(text) && Date.now() < deadline) {
        const { value, done } = await reader.read()
        if (done) break
        text += decoder.decode(value)
      }
      expect(text).toMatch(pattern)
    }
    await until(/^event: snapshot\ndata: \[/)
    await call(`${demo.url}/api/public?sse=1`)
    await until(/event: entry\ndata: \{[^\n]*"path":"\/api\/public"/)
    controller.abort()
  })

  describe('the chat WebSocket', () => {
    function open(path: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}) {
      const ws = new WebSocket(`${demo.url.replace('http', 'ws')}${path}`, options.protocols ?? [], { headers: { origin: demo.url, ...options.headers } })
      ws.on('error', () => {})
      return ws
    }
    const closed = async (ws: WebSocket) => {
      const [code, reason] = (await once(ws, 'close', { signal: AbortSignal.timeout(5000) })) as [number, Buffer]
      return { code, reason: reason.toString() }
    }

    it('admits a token carried in the subprotocol, never echoes it, and broadcasts messages', async () => {
      const { token } = await tokenLogin('alice', 'alice-demo')
      const ws = open('/ws/chat', { protocols: ['gatehouse', `gatehouse.bearer.${token}`] })
      const [welcome] = (await once(ws, 'message', { signal: AbortSignal.timeout(5000) })) as [Buffer]
      expect(JSON.parse(welcome.toString())).toMatchObject({ type: 'system', text: expect.stringContaining('alice') })
      expect(ws.protocol).toBe('gatehouse')
      ws.send(JSON.stringify({ text: 'hi' }))
      const [echo] = (await once(ws, 'message', { signal: AbortSignal.timeout(5000) })) as [Buffer]
      expect(JSON.parse(echo.toString())).toMatchObject({ type: 'message', from: 'alice', text: 'hi' })
      ws.close()
    })

    it('admits a session cookie', async () => {
      const session = await sessionLogin('admin', 'admin-demo')
      const ws = open('/ws/chat', { headers: { cookie: session } })
      const [welcome] = (await once(ws, 'message', { signal: AbortSignal.timeout(5000) })) as [Buffer]
      expect(welcome.toString()).toContain('admin (authenticated via session)')
      ws.close()
    })

    it('closes an unauthenticated socket with 4401 credentials_missing', async () => {
      expect(await closed(open('/ws/chat'))).toEqual({ code: 4401, reason: 'credentials_missing' })
    })

    it('refuses another origin even with a valid session: 4403 origin_rejected, or a real 403 on /ws/chat-http', async () => {
      const session = await sessionLogin('alice', 'alice-demo')
      const ws = open('/ws/chat', { headers: { cookie: session, origin: demo.secondOrigin } })
      expect(await closed(ws)).toEqual({ code: 4403, reason: 'origin_rejected' })
      const http = open('/ws/chat-http', { headers: { cookie: session, origin: demo.secondOrigin } })
      const [, res] = (await once(http, 'unexpected-response', { signal: AbortSignal.timeout(5000) })) as [unknown, { statusCode: number }]
      expect(res.statusCode).toBe(403)
      http.terminate()
      const entries = (await call(`${demo.url}/api/log`)).body as unknown as Array<{ upgrade: boolean; code?: string; status: number }>
      expect(entries.filter((e) => e.upgrade && e.code === 'origin_rejected').length).toBeGreaterThanOrEqual(2)
    })

    it('answers an upgrade to another path with 404', async () => {
      const ws = open('/ws/elsewhere')
      const [, res] = (await once(ws, 'unexpected-response', { signal: AbortSignal.timeout(5000) })) as [unknown, { statusCode: number }]
      expect(res.statusCode).toBe(404)
      ws.terminate()
    })
  })

  it('the second origin records what it received, and never stores a header value', async () => {
    await call(`${demo.secondOrigin}/hello`, { headers: { authorization: 'Bearer leaked-token-value' } })
    const seen = demo.secondOriginRequests().at(-1)
    expect(seen?.authorization).toMatch(/^Bearer…\(\d+ chars\)$|^Bearer …/)
    expect(JSON.stringify(demo.secondOriginRequests())).not.toContain('leaked-token-value')
    const recorded = (await call(`${demo.secondOrigin}/recorded`)).body as unknown as unknown[]
    expect(recorded).toEqual(demo.secondOriginRequests())
  })

  it('starts twice on different ports with different generated keys', async () => {
    const other = await startDemo({ port: 0 })
    try {
      expect(other.url).not.toBe(demo.url)
      expect(other.fingerprints.jwt).toMatch(/^sha256:[0-9a-f]{12}$/)
      expect(other.fingerprints.jwt).not.toBe(demo.fingerprints.jwt)
      expect(other.fingerprints.session).not.toBe(demo.fingerprints.session)
      // A token of one demo means nothing to the other: 401 token_signature_invalid.
      const { token } = await tokenLogin('alice', 'alice-demo')
      const res = await call(`${other.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })
      expect(res.body.error).toBe('token_signature_invalid')
      expect(res.body.hint).toContain(other.fingerprints.jwt)
    } finally {
      await other.close()
      await other.close()
    }
    await expect(fetch(`${other.url}/api/public`)).rejects.toThrow()
  })
})

describe('decision log helpers', () => {
  const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ'
  const request = {
    method: 'GET',
    url: `/ws/chat?access_token=${token}&x`,
    headers: {
      authorization: `Bearer ${token}`,
      cookie: 'theme=dark; client_token=abcdefghijklmnop',
      'sec-websocket-protocol': `gatehouse, gatehouse.bearer.${token}`,
      host: '127.0.0.1:3000',
    },
  }

  it('redacts every credential value in a request and keeps the rest', () => {
    const shown = JSON.stringify(redactRequest(request))
    expect(shown).not.toContain(token)
    expect(shown).not.toContain('abcdefghijklmnop')
    expect(redactRequest(request).headers).toMatchObject({ cookie: 'theme=…(4 chars); client_token=…(16 chars)', host: '127.0.0.1:3000', 'sec-websocket-protocol': expect.stringMatching(/^gatehouse, gatehouse\.bearer\.eyJhbG…/) })
    expect(redactRequest(request).url).toBe(`/ws/chat?access_token=…(${token.length} chars)&x`)
  })

  it('scrubs credential values from any text, longest first', () => {
    const values = credentialValues(request)
    expect(values).toContain(token)
    expect(values).toContain('abcdefghijklmnop')
    expect(values).not.toContain('dark')
    const text = scrub(`a hint that quoted ${token} and abcdefghijklmnop by mistake`, values)
    expect(text).not.toContain(token)
    expect(text).not.toContain('abcdefghijklmnop')
    expect(text).toContain('eyJhbG…')
  })

  it('bounds the requests it keeps even for entries never published', () => {
    const log = createDecisionLog(3)
    const event = { decision: { ok: true as const, via: 'public' as const, principal: null, headers: {} }, method: 'GET', path: '/x', upgrade: false, time: 0, durationMs: 0 }
    const ids = Array.from({ length: 5 }, () => log.add(event, request).id)
    expect(log.request(ids[0] as number)).toBeUndefined()
    expect(log.request(ids[4] as number)).toBeDefined()
    expect(log.entries()).toEqual([])
  })

  it('formats an entry as one line', () => {
    const line = formatEntry({ id: 1, time: Date.UTC(2025, 0, 1, 12, 0, 1, 250), method: 'GET', path: '/api/me', upgrade: false, outcome: 'deny', status: 401, code: 'credentials_missing', hint: 'no credentials', durationMs: 0.1 })
    expect(line).toBe('12:00:01.250 GET /api/me deny 401 credentials_missing: no credentials')
  })
})

describe('demo users', () => {
  it('checks passwords', () => {
    expect(verifyPassword('alice', 'alice-demo')?.id).toBe('alice')
    expect(verifyPassword('alice', 'admin-demo')).toBeUndefined()
    expect(verifyPassword('mallory', 'alice-demo')).toBeUndefined()
    expect(verifyPassword('alice', undefined)).toBeUndefined()
  })
})
