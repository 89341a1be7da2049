import http from 'node:http'
import { createAuth } from '@gatehouse/core'
import { createUpgradeHandler, handleProtocols } from '@gatehouse/ws'
import { WebSocketServer } from 'ws'

export const auth = createAuth({
  jwt: { secret: process.env.JWT_SECRET!, issuer: 'https://id.example.com', audience: 'api' },
  // CORS never runs on an upgrade: this list is what stops another site's page from connecting.
  origins: { allow: ['http://localhost:5173'] },
})

export const server = http.createServer((_req, res) => {
  res.writeHead(404).end()
})
// noServer: gatehouse judges the upgrade first; handleProtocols: the token is never echoed back.
const wss = new WebSocketServer({ noServer: true, handleProtocols })
// reject: 'close' lets a browser read why (4401/4403 and the deny code); the default answers an HTTP status.
server.on('upgrade', createUpgradeHandler({ auth, wss, reject: 'close' }))

wss.on('connection', (ws, req) => {
  ws.send(`hello ${req.auth?.principal?.id}`)
  ws.on('message', (data) => ws.send(`echo: ${String(data)}`))
})

server.listen(Number(process.env.PORT ?? 3000))
