import { describe, expect, it } from 'vitest'
import type { Decision } from '../decision.js'
import type { ExplainArgs } from './args.js'
import { UsageError } from './args.js'
import { buildRequest, judgedToken, redactDecision } from './explain.js'

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const SIGNATURE = 'c2lnbmF0dXJlLXNlZ21lbnQtdGhhdC1tdXN0LW5ldmVyLWxlYWs'
const TOKEN = `${b64({ alg: 'HS256' })}.${b64({ sub: 'alice' })}.${SIGNATURE}`

const args = (over: Partial<ExplainArgs> = {}): ExplainArgs => ({ config: 'x.mjs', headers: [], method: 'GET', url: '/', cookies: [], upgrade: false, json: false, ...over })

describe('buildRequest', () => {
  it('turns --token into the Authorization header an adapter would pass', () => {
    const { req, presented, secrets } = buildRequest(args({ url: '/api/x?y=1' }), TOKEN)
    expect(req).toEqual({ method: 'GET', url: '/api/x?y=1', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(presented).toEqual([{ source: 'header', token: TOKEN }])
    expect(secrets).toContain(TOKEN)
    expect(secrets).toContain(SIGNATURE)
  })

  it('does not double a Bearer prefix pasted into --token', () => {
    expect(buildRequest(args(), `Bearer ${TOKEN}`).req.headers.authorization).toBe(`Bearer ${TOKEN}`)
  })

  it('keeps two Authorization headers apart so core can refuse the ambiguity', () => {
    const { req } = buildRequest(args({ headers: ['Authorization: Basic dXNlcjpwYXNz'] }), TOKEN)
    expect(req.headers.authorization).toEqual(['Basic dXNlcjpwYXNz', `Bearer ${TOKEN}`])
  })

  it('lower-cases names, joins cookies with ; and other repeats with ,', () => {
    const { req } = buildRequest(args({ headers: ['X-Trace: a', 'x-trace: b', 'Cookie: a=1'], cookies: ['b=2; c=3'], origin: 'https://o.test' }), undefined)
    expect(req.headers).toEqual({ 'x-trace': 'a, b', cookie: 'a=1; b=2; c=3', origin: 'https://o.test' })
  })

  it('keeps the request target raw: dot segments and escapes reach core unresolved', () => {
    expect(buildRequest(args({ url: '/docs/../admin' }), undefined).req.url).toBe('/docs/../admin')
    expect(buildRequest(args({ url: '/docs/%2e%2e/admin' }), undefined).req.url).toBe('/docs/%2e%2e/admin')
    expect(buildRequest(args({ url: '/a//b' }), undefined).req.url).toBe('/a//b')
  })

  it('splits an absolute URL into Host and the raw target, without resolving it', () => {
    expect(buildRequest(args({ url: 'https://api.example.com/docs/../admin?x=1#frag' }), undefined).req).toEqual({ method: 'GET', url: '/docs/../admin?x=1', headers: { host: 'api.example.com' } })
    expect(buildRequest(args({ url: 'wss://api.example.com' }), undefined).req.url).toBe('/')
    expect(buildRequest(args({ url: 'https://api.example.com?q=1' }), undefined).req.url).toBe('/?q=1')
    expect(buildRequest(args({ url: 'https://a.example/', headers: ['Host: b.example'] }), undefined).req.headers.host).toBe('b.example')
  })

  it('adds the handshake headers of a browser upgrade unless given', () => {
    const { req } = buildRequest(args({ upgrade: true, headers: ['Sec-WebSocket-Version: 8'] }), undefined)
    expect(req.headers).toEqual({ 'sec-websocket-version': '8', connection: 'Upgrade', upgrade: 'websocket' })
  })

  it('finds tokens in cookies, the query and the subprotocol, and marks them secret', () => {
    const { presented, secrets } = buildRequest(
      args({ url: `/ws?access_token=${TOKEN}&code=abcdefgh12`, cookies: [`client_token=${TOKEN}; theme=dark`], headers: [`Sec-WebSocket-Protocol: gatehouse, gatehouse.bearer.${TOKEN}`] }),
      undefined,
    )
    expect(presented).toEqual([
      { source: 'cookie', name: 'client_token', token: TOKEN },
      { source: 'query', name: 'access_token', token: TOKEN },
      { source: 'protocol', token: TOKEN },
    ])
    expect(secrets).toEqual(expect.arrayContaining([TOKEN, SIGNATURE, 'abcdefgh12']))
  })

  it.each([
    [{ headers: ['no colon'] }, "--header must be 'Name: value'"],
    [{ headers: [': v'] }, 'with an empty name'],
    [{ headers: ['Bad Name: v'] }, 'is not a valid HTTP header name'],
    [{ url: 'api/x' }, "--url must be a request target starting with '/'"],
  ])('refuses %j', (over, message) => {
    expect(() => buildRequest(args(over), undefined)).toThrow(UsageError)
    expect(() => buildRequest(args(over), undefined)).toThrow(message)
  })
})

describe('judgedToken', () => {
  const presented = [
    { source: 'header' as const, token: 'h' },
    { source: 'cookie' as const, name: 'client_token', token: 'c' },
  ]

  it('follows the credentials step of the trace', () => {
    expect(judgedToken(presented, [{ step: 'credentials', outcome: 'pass', detail: "token from cookie 'client_token'" }])?.token).toBe('c')
    expect(judgedToken(presented, [{ step: 'credentials', outcome: 'pass', detail: 'token from header' }])?.token).toBe('h')
  })

  it('falls back to the Authorization header, else nothing', () => {
    expect(judgedToken(presented, [])?.token).toBe('h')
    expect(judgedToken(presented.slice(1), [])).toBeUndefined()
  })
})

describe('redactDecision', () => {
  it('redacts the session id and the Set-Cookie value of an allow', () => {
    const id = 'sess_0123456789abcdefghijklmnopqrstuvwxyz'
    const decision: Decision = {
      ok: true,
      via: 'session',
      principal: { id: 'u1', roles: [], scopes: [] },
      session: { id, userId: 'u1', roles: [], data: {}, createdAt: 0, expiresAt: 1, absoluteExpiresAt: 2 },
      headers: { 'set-cookie': `sid=${id}.signaturepart; Path=/; HttpOnly` },
    }
    const text = JSON.stringify(redactDecision(decision))
    expect(text).not.toContain(id)
    expect(text).toContain('"set-cookie":"sid=sess_0…(55 chars); Path=/; HttpOnly"')
  })

  it('leaves a deny as it is', () => {
    const deny: Decision = { ok: false, status: 401, code: 'credentials_missing', message: 'm', hint: 'h', headers: { 'www-authenticate': 'Bearer realm="gatehouse"' } }
    expect(redactDecision(deny)).toEqual(deny)
  })
})
