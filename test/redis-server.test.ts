import { createConnection } from 'node:net'
import { describe, expect, it } from 'vitest'
import { hasRedisServer, startRedis } from './redis-server.js'

/** Sends one inline command and resolves the first `lines` lines of the reply, or 'refused'. */
function send(port: number, command: string, lines = 1): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let reply = ''
    socket.on('error', () => resolve('refused'))
    socket.on('connect', () => socket.write(`${command}\r\n`))
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      const parts = reply.split('\r\n')
      if (parts.length > lines) {
        socket.destroy()
        resolve(parts.slice(0, lines).join(' '))
      }
    })
  })
}

describe.skipIf(!hasRedisServer())('startRedis', () => {
  it('runs a server without persistence that survives kill + restart on the same port', async () => {
    const server = await startRedis()
    try {
      expect(server.url).toBe(`redis://127.0.0.1:${server.port}`)
      expect(await send(server.port, 'PING')).toBe('+PONG')
      expect(await send(server.port, 'CONFIG GET save', 5)).toBe('*2 $4 save $0 ')
      expect(await send(server.port, 'CONFIG GET appendonly', 5)).toBe('*2 $10 appendonly $2 no')
      await send(server.port, 'SET k v')
      const firstPid = server.pid
      await server.kill()
      expect(await send(server.port, 'PING')).toBe('refused')
      await server.restart()
      expect(server.pid).not.toBe(firstPid)
      expect(await send(server.port, 'PING')).toBe('+PONG')
      // Nothing was persisted across the crash.
      expect(await send(server.port, 'EXISTS k')).toBe(':0')
    } finally {
      await server.stop()
    }
    expect(await send(server.port, 'PING')).toBe('refused')
    await server.stop()
  })

  it('gives each server its own port', async () => {
    const [a, b] = await Promise.all([startRedis(), startRedis()])
    try {
      expect(a.port).not.toBe(b.port)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
