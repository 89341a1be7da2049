import { once } from 'node:events'
import net from 'node:net'
import { type Auth, type AuthRequest, createAuth, type Decision } from '@gatehouse/core'
import { createTestIssuer } from '@gatehouse/core/testing'
import { getAuth, type UpgradeAuth } from '@gatehouse/ws'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { connect, hangUp, type Outcome, rawExchange, sleep, startServer, type TestServer, upgradeHead } from './helpers.js'

const issuer = createTestIssuer({ alg: 'HS256' })
const token = issuer.sign({ sub: 'alice' }, { expiresIn: '1h' })
const origins = { allow: ['https://app.example.com'], allowMissing: true }
const bearer = { Authorization: `Bearer ${token}` }

const servers: TestServer[] = []
const outcomes: Outcome[] = []
async function serve(auth: UpgradeAuth, handler: Parameters<typeof startServer>[1] = {}) {
  const s = await startServer(auth, handler)
  servers.push(s)
  return s
}
async function attempt(s: TestServer, path: string, options: Parameters<typeof connect>[1] = {}) {
  const outcome = await connect(`${s.url}${path}`, options)
  outcomes.push(outcome)
  return outcome
}
afterEach(async () => {
  for (const o of outcomes.splice(0)) await hangUp(o)
  for (const s of servers.splice(0)) await s.close()
  vi.restoreAllMocks()
})

const jwtAuth = () => createAuth({ jwt: issuer.options, origins }) as Auth
const publicAuth = () => createAuth({ default: 'public', origins }) as Auth

/** Wraps an auth so each check waits until the test releases it. */
function gated(auth: UpgradeAuth) {
  const arrived: Array<() => void> = []
  let onArrive: () => void = () => {}
  const wrapped: UpgradeAuth = {
    realm: auth.realm,
    respond: (d) => auth.respond(d),
    checkUpgrade: async (req: AuthRequest): Promise<Decision> => {
      await new Promise<void>((resolve) => {
        arrived.push(resolve)
        onArrive()
      })
      return auth.checkUpgrade(req)
    },
    decide: (req: AuthRequest) => wrapped.checkUpgrade(req),
  }
  const nextArrival = () => new Promise<void>((resolve) => (onArrive = resolve))
  return { wrapped, arrived, nextArrival }
}

/** Proves the server still answers upgrades normally. */
async function stillServing(s: TestServer, headers: Record<string, string> = bearer) {
  expect(await attempt(s, '/live', { headers })).toMatchObject({ kind: 'open' })
}

describe('malformed upgrade input', () => {
  it('lets ws answer 400 to an allowed upgrade without Sec-WebSocket-Key', async () => {
    const s = await serve(publicAuth())
    const head = ['GET /live HTTP/1.1', 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13', '', ''].join('\r\n')
    expect((await rawExchange(s.port, head)).status).toBe(400)
    expect(s.connections).toHaveLength(0)
    await stillServing(s)
  })

  it('judges the credentials before ws judges the handshake', async () => {
    const s = await serve(jwtAuth())
    const head = ['GET /live HTTP/1.1', 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: short', '', ''].join('\r\n')
    expect((await rawExchange(s.port, head)).status).toBe(401)
  })

  it('survives non-GET upgrades, odd Upgrade values and broken protocol lists', async () => {
    const s = await serve(publicAuth())
    const post = upgradeHead('/live').replace('GET', 'POST')
    expect((await rawExchange(s.port, post)).status).toBe(405)
    expect((await rawExchange(s.port, upgradeHead('/live').replace('Upgrade: websocket', 'Upgrade: h2c'))).status).toBe(400)
    expect((await rawExchange(s.port, upgradeHead('/live', ['Sec-WebSocket-Protocol: a b, , "c"']))).status).toBe(400)
    expect((await rawExchange(s.port, upgradeHead('/live', ['Sec-WebSocket-Version: 99']))).status).toBe(400)
    await stillServing(s)
  })

  it('judges non-canonical and badly encoded paths without crashing', async () => {
    const s = await serve(jwtAuth())
    for (const path of ['/%zz%', '/a/../../etc/passwd', '/%2e%2e/admin', '//double', '/\u00e9', `/${'a/'.repeat(3000)}`]) {
      const res = await rawExchange(s.port, upgradeHead(encodeURI(path).replace(/%25/g, '%')))
      expect([400, 401]).toContain(res.status)
    }
    await stillServing(s)
  })

  it('lets Node refuse headers over its limit, and judges large ones under it', async () => {
    const s = await serve(jwtAuth())
    const huge = await rawExchange(s.port, upgradeHead('/live', [`Cookie: a=${'x'.repeat(20_000)}`]))
    expect(huge.status).toBe(431)
    const large = await rawExchange(s.port, upgradeHead('/live', [`Cookie: ${Array.from({ length: 400 }, (_, i) => `c${i}=${'v'.repeat(20)}`).join('; ')}`]))
    expect(large.status).toBe(401)
    await stillServing(s)
  })

  it('survives a garbage request line and a handshake cut short', async () => {
    const s = await serve(jwtAuth())
    expect((await rawExchange(s.port, 'NOT HTTP AT ALL\r\n\r\n')).status).toBe(400)
    const half = net.connect(s.port, '127.0.0.1')
    half.write(upgradeHead('/live').slice(0, 40))
    await sleep(20)
    half.destroy()
    await stillServing(s)
  })
})

describe('sockets that go away while the check runs', () => {
  it('does nothing when the client destroys its socket before the decision', async () => {
    const onError = vi.fn()
    const { wrapped, arrived, nextArrival } = gated(jwtAuth())
    const s = await serve(wrapped, { onError })
    const raw = net.connect(s.port, '127.0.0.1')
    const arrival = nextArrival()
    raw.write(upgradeHead('/live', [`Authorization: Bearer ${token}`]))
    await arrival
    raw.destroy()
    await sleep(50)
    arrived.shift()?.()
    await sleep(50)
    expect(s.connections).toHaveLength(0)
    expect(onError).not.toHaveBeenCalled()
    const next = nextArrival()
    const pending = attempt(s, '/live', { headers: bearer })
    await next
    arrived.shift()?.()
    expect(await pending).toMatchObject({ kind: 'open' })
  })

  it('survives a reset (ECONNRESET) mid-handshake, for a denied and an allowed decision', async () => {
    const onError = vi.fn()
    const { wrapped, arrived, nextArrival } = gated(jwtAuth())
    for (const reject of ['http', 'close'] as const) {
      const s = await serve(wrapped, { onError, reject })
      for (const headers of [[], [`Authorization: Bearer ${token}`]]) {
        const raw = net.connect(s.port, '127.0.0.1')
        raw.on('error', () => {})
        await once(raw, 'connect')
        const arrival = nextArrival()
        raw.write(upgradeHead('/live', headers))
        await arrival
        raw.resetAndDestroy()
        await sleep(50)
        arrived.shift()?.()
        await sleep(50)
      }
      expect(s.connections).toHaveLength(0)
    }
    expect(onError).not.toHaveBeenCalled()
  })

  it('destroys a socket that half-closed while the check ran instead of upgrading it', async () => {
    const { wrapped, arrived, nextArrival } = gated(jwtAuth())
    const s = await serve(wrapped)
    const raw = net.connect({ port: s.port, host: '127.0.0.1', allowHalfOpen: true })
    const arrival = nextArrival()
    raw.write(upgradeHead('/live', [`Authorization: Bearer ${token}`]))
    await arrival
    raw.end()
    await sleep(50)
    arrived.shift()?.()
    await once(raw, 'close')
    expect(s.connections).toHaveLength(0)
  })
})

describe('failures inside the server', () => {
  const broken = (how: 'reject' | 'throw'): UpgradeAuth => {
    const real = jwtAuth()
    return {
      realm: real.realm,
      respond: (d) => real.respond(d),
      checkUpgrade: fail as UpgradeAuth['checkUpgrade'],
      decide: fail as UpgradeAuth['decide'],
    }
    function fail(): Promise<Decision> {
      if (how === 'throw') throw new Error('sync boom')
      return Promise.reject(new Error('async boom'))
    }
  }

  it.each(['reject', 'throw'] as const)('answers 503 auth_unavailable when checkUpgrade fails (%s), and reports it', async (how) => {
    const onError = vi.fn()
    const s = await serve(broken(how), { onError })
    const outcome = await attempt(s, '/live', { headers: bearer })
    expect(outcome).toMatchObject({ kind: 'http', status: 503 })
    if (outcome.kind === 'http') expect(JSON.parse(outcome.body)).toEqual({ error: 'auth_unavailable', message: expect.any(String) })
    expect(onError).toHaveBeenCalledTimes(1)
    expect(onError.mock.calls[0]?.[0]).toBeInstanceOf(Error)
    expect(onError.mock.calls[0]?.[1]).toMatchObject({ url: '/live' })
  })

  it('closes with 1011 when checkUpgrade fails in close mode', async () => {
    const s = await serve(broken('reject'), { reject: 'close', onError: () => {} })
    expect(await attempt(s, '/live')).toMatchObject({ kind: 'closed', code: 1011, reason: 'auth_unavailable' })
  })

  it('logs with console.error by default, and survives an onError that throws', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    const s1 = await serve(broken('reject'))
    expect(await attempt(s1, '/live')).toMatchObject({ kind: 'http', status: 503 })
    expect(logged).toHaveBeenCalledWith('@gatehouse/ws: error while handling a WebSocket upgrade', expect.any(Error))
    const s2 = await serve(broken('reject'), {
      onError: () => {
        throw new Error('logger down')
      },
    })
    expect(await attempt(s2, '/live')).toMatchObject({ kind: 'http', status: 503 })
    expect(logged).toHaveBeenCalledWith('@gatehouse/ws: onError threw', expect.any(Error))
  })

  it('reports a connection listener that throws and drops that socket, without crashing', async () => {
    const onError = vi.fn()
    const s = await serve(jwtAuth(), { onError })
    let first = true
    s.wss.prependListener('connection', () => {
      if (!first) return
      first = false
      throw new Error('handler bug')
    })
    const outcome = await attempt(s, '/live', { headers: bearer })
    expect(outcome).toMatchObject({ kind: 'closed', code: 1006 })
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'handler bug' }), expect.anything())
    await stillServing(s)
  })
})

describe('the decision handed to the application', () => {
  it('sets req.auth and getAuth(ws) to the same Allow, and nothing for foreign sockets', async () => {
    const s = await serve(jwtAuth())
    const outcome = await attempt(s, '/live', { headers: bearer })
    const conn = s.connections[0]
    expect(conn?.req.auth).toMatchObject({ ok: true, via: 'bearer', principal: { id: 'alice' } })
    expect(conn && getAuth(conn.ws)).toBe(conn?.req.auth)
    // The client end of the same connection never went through the handler.
    expect(outcome.kind === 'open' && getAuth(outcome.ws)).toBeUndefined()
  })

  it("writes the decision's headers (a rolled session's Set-Cookie) into the 101, dropping unsafe ones", async () => {
    const real = jwtAuth()
    const auth: UpgradeAuth = {
      realm: real.realm,
      respond: (d) => real.respond(d),
      checkUpgrade: async (req) => {
        const d = await real.checkUpgrade(req)
        return d.ok ? { ...d, headers: { 'set-cookie': 'sid=rolled; Path=/; HttpOnly', 'x-evil': 'a\r\nX-Injected: 1' } } : d
      },
      decide: (req) => auth.checkUpgrade(req),
    }
    const s = await serve(auth)
    const outcome = await attempt(s, '/live', { headers: bearer })
    expect(outcome.kind).toBe('open')
    if (outcome.kind !== 'open') return
    expect(outcome.upgradeHeaders['set-cookie']).toEqual(['sid=rolled; Path=/; HttpOnly'])
    expect(outcome.upgradeHeaders['x-injected']).toBeUndefined()
    expect(outcome.upgradeHeaders['x-evil']).toBeUndefined()
  })
})

describe('handler.close()', () => {
  it('refuses later upgrades, and decisions still in flight, with 503', async () => {
    const { wrapped, arrived, nextArrival } = gated(jwtAuth())
    const s = await serve(wrapped)
    const arrival = nextArrival()
    const inFlight = attempt(s, '/live', { headers: bearer })
    await arrival
    s.handler.close()
    s.handler.close()
    arrived.shift()?.()
    expect(await inFlight).toMatchObject({ kind: 'http', status: 503 })
    const later = attempt(s, '/live', { headers: bearer })
    await sleep(10)
    arrived.shift()?.()
    expect(await later).toMatchObject({ kind: 'http', status: 503 })
    expect(s.connections).toHaveLength(0)
  })
})

