// Path-normalisation attacks on protective rules, through real servers. A router that folds
// duplicate slashes but does not treat `%2e%2e` as a dot segment (Fastify with
// `ignoreDuplicateSlashes`, as @gatehouse/fastify's own tests configure it) routes
// `/api//admin/%2e%2e` to `/api/admin/:name`. gatehouse must apply the admin rule to that request,
// because one reading of the path (slashes folded, nothing decoded) lies under /api/admin. With
// `default: 'public'` the same spelling would need no credentials at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Auth, createAuth } from '@gatehouse/core'
import { request } from '@gatehouse/core/testing'
import { mayReach } from './oracles.js'
import { CLAIMS, issuer, policyOptions } from './policy.js'
import { PERMISSIVE_ROUTER, rawExchange, type Running, startExpress, startFastify } from './servers.js'

const userToken = issuer.sign(CLAIMS.user, { expiresIn: '1h' })

/** Spellings that fold onto /api/admin/<name> when slashes are merged and `%2e` is left alone. */
const SPELLINGS = ['/api//admin/%2e%2e', '//api/admin/%2e%2e', '/api//admin//%2E%2E', '//api//admin/.%2e']

let auth: Auth
beforeAll(() => {
  auth = createAuth(policyOptions())
})
afterAll(async () => {
  await auth.close()
})

describe('auth.check', () => {
  it.each(SPELLINGS)('applies the admin rule to %s for a user token', async (url) => {
    expect(mayReach(url, '/api/admin')).toBe(true)
    const d = await auth.check(request('GET', url, { authorization: `Bearer ${userToken}` }))
    expect(d.ok ? `allowed via ${d.via} as ${d.principal?.id}` : d.code).toBe('insufficient_role')
  })
})

describe.each([
  { name: 'Express', start: (a: Auth) => startExpress(a) },
  { name: 'Fastify', start: (a: Auth) => startFastify(a) },
  { name: 'Fastify (case-insensitive, duplicate slashes ignored)', start: (a: Auth) => startFastify(a, PERMISSIVE_ROUTER) },
])('$name', ({ start }) => {
  let server: Running
  beforeAll(async () => {
    server = await start(auth)
  })
  afterAll(async () => {
    await server.close()
  })

  it.each(SPELLINGS)('%s never runs the admin handler for a user token', async (url) => {
    const before = server.hits.length
    const res = await rawExchange(server.port, `GET ${url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${userToken}\r\n\r\n`)
    expect(server.hits.slice(before).map((h) => `${h.route} handler ran for '${h.id}' with roles [${h.roles.join(', ')}]`)).toEqual([])
    expect([403, 404]).toContain(res.status)
  })
})

describe("default: 'public' with a protective rule", () => {
  let open: Auth
  let server: Running
  beforeAll(async () => {
    open = createAuth({ jwt: issuer.options, default: 'public', rules: [{ match: '/api/admin/**', roles: ['admin'] }] })
    server = await startFastify(open, PERMISSIVE_ROUTER)
  })
  afterAll(async () => {
    await server.close()
    await open.close()
  })

  it.each(SPELLINGS)('%s without credentials is refused by auth.check and never runs the admin handler', async (url) => {
    const d = await open.check(request('GET', url))
    expect.soft(d.ok ? `allowed via ${d.via}` : d.code).toBe('credentials_missing')
    const before = server.hits.length
    const res = await rawExchange(server.port, `GET ${url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
    expect.soft(server.hits.slice(before).map((h) => `${h.route} handler ran for ${h.id === null ? 'an anonymous request' : `'${h.id}'`}`)).toEqual([])
    expect.soft(res.status).toBe(401)
  })
})
