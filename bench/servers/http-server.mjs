// One HTTP server for the autocannon scenarios, run in its own process by bench/lib/http.mjs:
//
//   node bench/servers/http-server.mjs <server> [redis-port]
//
// It listens on 127.0.0.1 port 0 and sends `{ type: 'ready', port, cookie? }` over IPC. Then
// `{ type: 'start' }` / `{ type: 'stop' }` bracket one measured round: the reply to `stop`
// carries the process's CPU time (process.cpuUsage) and the requests served in between, so the
// parent can report CPU per request next to throughput. `{ type: 'exit' }` ends the process
// normally (which lets --cpu-prof write its profile); losing the parent ends it too.
//
// Every server answers `GET /api/items` with the same small JSON body. The auth servers refuse
// it without a credential (the parent checks both before measuring), so a misconfigured
// contender cannot pass for a fast one.
import { Buffer } from 'node:buffer'
import { loadGatehouse } from '../lib/load.mjs'
import { AUDIENCE, ISSUER, SECRET } from '../lib/tokens.mjs'

const SESSION_SECRET = 'bench-session-secret-0123456789-abcdefghijkl'
const BODY = { ok: true, items: [1, 2, 3] }
const USER = 'bench-user'

const [name, redisPort] = process.argv.slice(2)

/** gatehouse's engine for JWTs: the same checks the peers are configured for. */
async function jwtAuth(extra = {}) {
  const { createAuth } = await loadGatehouse('core')
  return createAuth({ jwt: { secret: SECRET, algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, ...extra } })
}

async function sessionAuth(store) {
  const { createAuth } = await loadGatehouse('core')
  return createAuth({ session: { secret: SESSION_SECRET, ...(store ? { store } : {}) }, public: ['/login'] })
}

async function expressApp() {
  const { default: express } = await import('express')
  const app = express()
  return { app, express }
}

function routes(app) {
  app.get('/api/items', (_req, res) => {
    res.json(BODY)
  })
}

/** express-session, with the options its README recommends for a store that supports touch. */
async function expressSessionApp(store) {
  const { default: session } = await import('express-session')
  const { app } = await expressApp()
  app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false, cookie: { httpOnly: true, sameSite: 'lax', maxAge: 30 * 60 * 1000 }, ...(store ? { store } : {}) }))
  app.post('/login', (req, res, next) => {
    req.session.userId = USER
    req.session.save((err) => (err ? next(err) : res.status(204).end()))
  })
  app.use('/api', (req, res, next) => {
    if (req.session.userId === undefined) res.status(401).json({ error: 'unauthenticated' })
    else next()
  })
  routes(app)
  return app
}

async function gatehouseSessionApp(auth) {
  const { gatehouse, login } = await loadGatehouse('express')
  const { app } = await expressApp()
  app.use(gatehouse(auth))
  app.post('/login', async (_req, res, next) => {
    try {
      await login(res, auth, { userId: USER })
      res.status(204).end()
    } catch (error) {
      next(error)
    }
  })
  routes(app)
  return app
}

function redisAddress() {
  if (!redisPort) throw new Error(`${name} needs the redis port as its second argument`)
  return { host: '127.0.0.1', port: Number(redisPort) }
}

const servers = {
  async 'express-bare'() {
    const { app } = await expressApp()
    routes(app)
    return { app }
  },
  async 'express-gatehouse'() {
    const { gatehouse } = await loadGatehouse('express')
    const { app } = await expressApp()
    app.use(gatehouse(await jwtAuth()))
    routes(app)
    return { app }
  },
  async 'express-jwt'() {
    const { expressjwt } = await import('express-jwt')
    const { app } = await expressApp()
    app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE }))
    routes(app)
    app.use((err, _req, res, _next) => res.status(err.status ?? 500).json({ error: err.code ?? 'error' }))
    return { app }
  },
  // Not in the scenario: express-jwt handed a KeyObject, which spares jsonwebtoken its attempt to
  // parse the secret as a public key on every request (see docs/benchmarks.md).
  async 'express-jwt-keyobject'() {
    const [{ expressjwt }, { createSecretKey }] = await Promise.all([import('express-jwt'), import('node:crypto')])
    const { app } = await expressApp()
    app.use(expressjwt({ secret: createSecretKey(Buffer.from(SECRET)), algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE }))
    routes(app)
    app.use((err, _req, res, _next) => res.status(err.status ?? 500).json({ error: err.code ?? 'error' }))
    return { app }
  },
  async 'fastify-bare'() {
    const { default: Fastify } = await import('fastify')
    const app = Fastify({ logger: false })
    app.get('/api/items', async () => BODY)
    return { fastify: app }
  },
  async 'fastify-gatehouse'() {
    const { default: Fastify } = await import('fastify')
    const { gatehouse } = await loadGatehouse('fastify')
    const app = Fastify({ logger: false })
    await app.register(gatehouse, { auth: await jwtAuth() })
    app.get('/api/items', async () => BODY)
    return { fastify: app }
  },
  // Not in the scenario: for profiling what the verified-token cache costs when every token is new.
  async 'fastify-gatehouse-cache-off'() {
    const { default: Fastify } = await import('fastify')
    const { gatehouse } = await loadGatehouse('fastify')
    const app = Fastify({ logger: false })
    await app.register(gatehouse, { auth: await jwtAuth({ cache: false }) })
    app.get('/api/items', async () => BODY)
    return { fastify: app }
  },
  async 'fastify-jwt'() {
    const { default: Fastify } = await import('fastify')
    const { default: fastifyJwt } = await import('@fastify/jwt')
    const app = Fastify({ logger: false })
    await app.register(fastifyJwt, { secret: SECRET, verify: { algorithms: ['HS256'], allowedIss: ISSUER, allowedAud: AUDIENCE } })
    app.addHook('onRequest', async (request) => {
      await request.jwtVerify()
    })
    app.get('/api/items', async () => BODY)
    return { fastify: app }
  },
  async 'express-session-bare'() {
    return servers['express-bare']()
  },
  async 'express-gatehouse-session'() {
    return { app: await gatehouseSessionApp(await sessionAuth()) }
  },
  async 'express-session'() {
    return { app: await expressSessionApp() }
  },
  async 'express-gatehouse-session-redis'() {
    const [{ redisStore }, { Redis }] = await Promise.all([loadGatehouse('redis'), import('ioredis')])
    const client = new Redis({ ...redisAddress(), enableOfflineQueue: true, maxRetriesPerRequest: 1 })
    await new Promise((resolve, reject) => client.once('ready', resolve).once('error', reject))
    return { app: await gatehouseSessionApp(await sessionAuth(redisStore(client))), close: () => client.disconnect() }
  },
  async 'express-session-redis'() {
    const [{ RedisStore }, { createClient }] = await Promise.all([import('connect-redis'), import('redis')])
    const { host, port } = redisAddress()
    const client = createClient({ url: `redis://${host}:${port}` })
    await client.connect()
    return { app: await expressSessionApp(new RedisStore({ client, prefix: 'sess:' })), close: () => client.destroy() }
  },
}

function listen(built) {
  if (built.fastify) {
    return built.fastify.listen({ host: '127.0.0.1', port: 0 }).then(() => built.fastify.server)
  }
  return new Promise((resolve, reject) => {
    const server = built.app.listen(0, '127.0.0.1', (err) => (err ? reject(err) : resolve(server)))
  })
}

const build = servers[name]
if (!build) {
  console.error(`unknown server '${name}'; one of: ${Object.keys(servers).join(', ')}`)
  process.exit(2)
}

const built = await build()
const server = await listen(built)
let served = 0
server.on('request', () => {
  served++
})
let cpuAtStart = process.cpuUsage()
let servedAtStart = 0
let wallAtStart = process.hrtime.bigint()

process.on('message', async (message) => {
  if (message?.type === 'start') {
    cpuAtStart = process.cpuUsage()
    servedAtStart = served
    wallAtStart = process.hrtime.bigint()
    process.send({ type: 'started' })
  } else if (message?.type === 'stop') {
    const cpu = process.cpuUsage(cpuAtStart)
    process.send({ type: 'stats', userUs: cpu.user, systemUs: cpu.system, requests: served - servedAtStart, wallUs: Number(process.hrtime.bigint() - wallAtStart) / 1000 })
  } else if (message?.type === 'exit') {
    server.closeAllConnections?.()
    await Promise.race([new Promise((resolve) => server.close(resolve)), new Promise((resolve) => setTimeout(resolve, 1000))])
    await built.close?.()
    process.exit(0)
  }
})
process.on('disconnect', () => process.exit(0))
process.send({ type: 'ready', port: server.address().port, pid: process.pid })
