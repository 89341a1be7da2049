import Fastify, { type FastifyRequest } from 'fastify'
import { describe, expectTypeOf, it } from 'vitest'
import type { Allow, Auth } from '@gatehouse/core'
import { gatehouse, type GatehouseRouteConfig } from '@gatehouse/fastify'

// Checked by `tsc` (the test folder is in the project); at run time these assertions are no-ops.
describe('public types', () => {
  it('types request.auth, app.gatehouse and route config by declaration merging', () => {
    expectTypeOf<FastifyRequest['auth']>().toEqualTypeOf<Allow | null>()
    const app = Fastify()
    expectTypeOf(app.gatehouse).toEqualTypeOf<Auth>()
    app.get('/a', { config: { gatehouse: 'public' } }, async (request) => request.auth)
    app.get('/b', { config: { gatehouse: { roles: ['admin'], scopes: ['x'] } } }, async (request) => request.auth?.principal?.id)
    // Fastify infers each route's config type from the literal given, so a misspelt value is not a
    // type error there; the plugin refuses it when the route is registered (see fastify.test.ts).
    const config: GatehouseRouteConfig = { roles: ['admin'] }
    app.get('/c', { config: { gatehouse: config } }, async () => 'c')
  })

  it('accepts an engine or options, not neither', () => {
    const app = Fastify()
    const auth = {} as Auth
    void app.register(gatehouse, { auth })
    void app.register(gatehouse, { options: { jwt: { secret: 'x'.repeat(32) } }, onDeny: 'error' })
    // @ts-expect-error one of auth or options is required
    void app.register(gatehouse, { onDeny: 'reply' })
  })
})
