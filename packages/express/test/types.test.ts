import express, { type RequestHandler } from 'express'
import { describe, expectTypeOf, it } from 'vitest'
import type { Allow, Auth, DenyCode, SessionRecord } from '@gatehouse/core'
import { gatehouse, GatehouseError, type GatehouseMiddleware, login, requireRoles, requireScopes } from '@gatehouse/express'

// Checked by `tsc` (the test folder is in the project); at run time these assertions are no-ops.
describe('public types', () => {
  it('types req.auth on every Express request by declaration merging', () => {
    const app = express()
    app.get('/me', (req, res) => {
      expectTypeOf(req.auth).toEqualTypeOf<Allow | undefined>()
      res.json(req.auth?.principal?.id)
    })
    express.Router().get('/x', (req) => {
      expectTypeOf(req.auth).toEqualTypeOf<Allow | undefined>()
    })
  })

  it('types the middleware, the guards and the error', () => {
    expectTypeOf(gatehouse).parameter(1).toEqualTypeOf<{ onDeny?: 'respond' | 'next' } | undefined>()
    expectTypeOf<GatehouseMiddleware>().toExtend<RequestHandler>()
    expectTypeOf<GatehouseMiddleware['auth']>().toEqualTypeOf<Auth>()
    expectTypeOf(requireRoles).returns.toEqualTypeOf<RequestHandler>()
    expectTypeOf(requireScopes).parameters.toEqualTypeOf<string[]>()
    expectTypeOf<GatehouseError['code']>().toEqualTypeOf<DenyCode>()
    expectTypeOf<GatehouseError['status']>().toEqualTypeOf<401 | 403 | 503>()
    expectTypeOf(login).returns.toEqualTypeOf<Promise<SessionRecord>>()
  })
})
