import Fastify from 'fastify'
import { createAuth } from '@gatehouse/core'
import { gatehouse } from '@gatehouse/fastify'

export const auth = createAuth({
  jwt: { secret: process.env.JWT_SECRET!, issuer: 'https://id.example.com', audience: 'api' },
  public: ['GET /health'],
  rules: [{ match: '/admin/**', roles: ['admin'] }],
})

export const app = Fastify()
await app.register(gatehouse, { auth })

app.get('/health', async () => 'ok')
app.get('/me', async (request) => ({ principal: request.auth?.principal, via: request.auth?.via }))
app.post('/admin/reindex', async (_request, reply) => reply.code(202).send({ started: true }))
// A requirement that belongs to one route: every listed scope is needed.
app.get('/reports', { config: { gatehouse: { scopes: ['reports:read'] } } }, async () => [])

await app.listen({ port: Number(process.env.PORT ?? 3000) })
