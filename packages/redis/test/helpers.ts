import { once } from 'node:events'
import { Redis, type RedisOptions } from 'ioredis'
import type { RedisServer } from '../../../test/redis-server.js'

/** The client options the README recommends: fail fast while Redis is down, never queue. */
export const RECOMMENDED: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1 }

const clients = new Set<Redis>()

/**
 * Connects an ioredis client to the test server and waits until it is ready. Connection errors
 * (expected while a test kills Redis) are collected instead of reported as unhandled.
 */
export async function connect(server: RedisServer, options: RedisOptions = {}): Promise<Redis & { errors: Error[] }> {
  const client = Object.assign(
    new Redis({
      host: '127.0.0.1',
      port: server.port,
      ...RECOMMENDED,
      // Reconnect quickly, so recovery tests do not wait on the default back-off.
      retryStrategy: () => 50,
      ...options,
    }),
    { errors: [] as Error[] },
  )
  client.on('error', (error: Error) => client.errors.push(error))
  clients.add(client)
  await once(client, 'ready')
  return client
}

/** Disconnects every client opened with {@link connect}. */
export async function disconnectAll(): Promise<void> {
  for (const client of clients) client.disconnect()
  clients.clear()
}

/** Resolves when `client` is ready again (after a Redis restart). */
export async function ready(client: Redis): Promise<void> {
  if (client.status !== 'ready') await once(client, 'ready')
}

/** The cookie value inside a `Set-Cookie` string. */
export function valueOf(setCookie: string): string {
  return (setCookie.split(';')[0] as string).split('=').slice(1).join('=')
}
