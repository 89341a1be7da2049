import express from 'express'
import { createAuth } from '@gatehouse/core'
import { gatehouse, login, logout, requireRoles } from '@gatehouse/express'

export const auth = createAuth({
  // Tokens from your identity provider: the secret (or publicKey / jwksUrl), issuer and audience it uses.
  jwt: { secret: process.env.JWT_SECRET!, issuer: 'https://id.example.com', audience: 'api' },
  // Server-side sessions for browser logins, in memory by default (@gatehouse/redis for several instances).
  session: { secret: process.env.SESSION_SECRET! },
  public: ['GET /health', 'POST /login'],
  rules: [{ match: '/admin/**', roles: ['admin'] }],
  // Your front-end: cookie-authenticated writes must come from here.
  origins: { allow: ['http://localhost:5173'] },
})

// Stands in for your user store and password hashing.
async function checkPassword(username: unknown, password: unknown) {
  return username === 'alice' && password === 'wonderland' ? { id: 'alice', roles: ['user'] } : null
}

const app = express()
app.use(gatehouse(auth))

app.get('/health', (_req, res) => {
  res.send('ok')
})
app.get('/me', (req, res) => {
  res.json({ principal: req.auth?.principal, via: req.auth?.via })
})
app.post('/admin/reindex', (_req, res) => {
  res.status(202).json({ started: true })
})
app.delete('/posts/:id', requireRoles('editor', 'admin'), (_req, res) => {
  res.status(204).end()
})

app.post('/login', express.json(), async (req, res) => {
  const user = await checkPassword(req.body?.username, req.body?.password)
  if (!user) {
    res.status(401).json({ error: 'bad_credentials' })
    return
  }
  await login(res, auth, { userId: user.id, roles: user.roles })
  res.status(204).end()
})
app.post('/logout', async (req, res) => {
  await logout(req, res, auth)
  res.status(204).end()
})

export const server = app.listen(Number(process.env.PORT ?? 3000))
