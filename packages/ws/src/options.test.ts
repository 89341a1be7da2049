import { createAuth, GatehouseConfigError } from '@gatehouse/core'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { createUpgradeHandler } from './upgrade-handler.js'
import { handleProtocols } from './index.js'
import type { UpgradeHandlerOptions } from './options.js'

const auth = createAuth({ default: 'public', origins: { allow: ['http://localhost:*'] } })
const servers: WebSocketServer[] = []
const wss = (options: ConstructorParameters<typeof WebSocketServer>[0]) => {
  const s = new WebSocketServer(options)
  servers.push(s)
  return s
}
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve))
})

function problems(options: unknown): Array<{ path: string; message: string }> {
  try {
    createUpgradeHandler(options as UpgradeHandlerOptions)
  } catch (error) {
    expect(error).toBeInstanceOf(GatehouseConfigError)
    return [...(error as GatehouseConfigError).problems]
  }
  throw new Error('expected a GatehouseConfigError')
}

describe('createUpgradeHandler options', () => {
  it('accepts the documented setup', () => {
    const handler = createUpgradeHandler({ auth, wss: wss({ noServer: true, handleProtocols }), reject: 'close', enforceExpiry: false, revalidateEvery: '1m', onError: () => {} })
    expect(typeof handler).toBe('function')
    expect(typeof handler.close).toBe('function')
    handler.close()
  })

  it('lists every problem at once, each with its option path', () => {
    const found = problems({ auth: {}, wss: {}, reject: 'deny', enforceExpiry: 'yes', revalidateEvery: '5 minutes', onError: 'log', rejct: 'http' })
    expect(found.map((p) => p.path).sort()).toEqual(['auth', 'enforceExpiry', 'onError', 'rejct', 'reject', 'revalidateEvery', 'wss'])
    expect(found.find((p) => p.path === 'rejct')?.message).toBe("unknown option 'rejct': check the spelling against the documented options")
    expect(found.find((p) => p.path === 'reject')?.message).toContain("'http'")
    expect(found.find((p) => p.path === 'revalidateEvery')?.message).toContain("'15m'")
  })

  it('names the package in the error message', () => {
    expect(() => createUpgradeHandler({} as UpgradeHandlerOptions)).toThrow(/^Invalid @gatehouse\/ws options \(2 problems\)/)
    expect(() => createUpgradeHandler(undefined as unknown as UpgradeHandlerOptions)).toThrow(GatehouseConfigError)
  })

  it('refuses a WebSocketServer that answers upgrades itself', () => {
    const found = problems({ auth, wss: wss({ port: 0, host: '127.0.0.1', handleProtocols }) })
    expect(found).toEqual([{ path: 'wss', message: expect.stringContaining('noServer: true') }])
  })

  it('refuses a WebSocketServer without handleProtocols, which would echo the token', () => {
    const found = problems({ auth, wss: wss({ noServer: true }) })
    expect(found).toEqual([{ path: 'wss', message: expect.stringContaining('gatehouse.bearer.<token>') }])
  })

  it('refuses a zero re-validation interval, which would spin', () => {
    expect(problems({ auth, wss: wss({ noServer: true, handleProtocols }), revalidateEvery: 0 })).toEqual([
      { path: 'revalidateEvery', message: "must be more than 0, e.g. '1m'; leave it unset to turn re-validation off" },
    ])
  })
})
