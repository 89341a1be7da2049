import type { SessionStore, StoredSession } from '@gatehouse/core'
import type { Redis } from 'ioredis'

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * Prefix of every key the store writes: sessions are `<prefix><hash of the id>`, per-user
   * indexes `<prefix>user:<userId>`. Default `'gatehouse:sess:'`. Give each application sharing
   * a Redis its own prefix.
   */
  prefix?: string
}

// Scripts run atomically inside Redis, which is what keeps a logout from being lost to a race.
// KEYS carry the keys the caller knows; keys derived inside a script (another user's index, the
// sessions of a user) are built from ARGV prefixes, which is why the store needs a single Redis
// primary rather than a Cluster.

/** Stores a session and adds it to its user's index; the index lives at least as long as the session. */
const SET_SCRIPT = `
local previous = redis.call('GET', KEYS[1])
if previous then
  local ok, old = pcall(cjson.decode, previous)
  if ok and type(old) == 'table' and type(old.userId) == 'string' and ARGV[4] .. old.userId ~= KEYS[2] then
    redis.call('SREM', ARGV[4] .. old.userId, ARGV[3])
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for _, member in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[5] .. member) == 0 then redis.call('SREM', KEYS[2], member) end
end
redis.call('SADD', KEYS[2], ARGV[3])
local ttl = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`

/** Rewrites a session only if it still exists (SET XX), keeping the user index alive as long. */
const TOUCH_SCRIPT = `
if not redis.call('SET', KEYS[1], ARGV[1], 'XX', 'PX', ARGV[2]) then return 0 end
redis.call('SADD', KEYS[2], ARGV[3])
local ttl = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`

/** Deletes a session and removes it from its user's index. */
const DESTROY_SCRIPT = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
redis.call('DEL', KEYS[1])
local ok, s = pcall(cjson.decode, raw)
if ok and type(s) == 'table' and type(s.userId) == 'string' then redis.call('SREM', ARGV[1] .. s.userId, ARGV[2]) end
return 1
`

/** Deletes every session in a user's index and the index itself; returns how many existed. */
const DESTROY_BY_USER_SCRIPT = `
local removed = 0
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  removed = removed + redis.call('DEL', ARGV[1] .. member)
end
redis.call('DEL', KEYS[1])
return removed
`

const COMMANDS = {
  gatehouseSessionSet: { lua: SET_SCRIPT, numberOfKeys: 2 },
  gatehouseSessionTouch: { lua: TOUCH_SCRIPT, numberOfKeys: 2 },
  gatehouseSessionDestroy: { lua: DESTROY_SCRIPT, numberOfKeys: 1 },
  gatehouseSessionDestroyByUser: { lua: DESTROY_BY_USER_SCRIPT, numberOfKeys: 1 },
} as const

type ScriptCommand = (...args: Array<string | number>) => Promise<unknown>

function milliseconds(ttlSeconds: number): number {
  return Math.max(1, Math.ceil(ttlSeconds * 1000))
}

/**
 * A gatehouse session store in Redis, for several server instances sharing sessions: a session
 * created, destroyed or revoked on one instance is seen by every other one at once.
 *
 * - `get` is one `GET`: the request path costs one round trip (plus a write at most once per
 *   `touchAfter` per session).
 * - Sessions expire in Redis (`PX`) and gatehouse also checks their expiry on every read.
 * - Writes run as Lua scripts (defined on the client with `defineCommand`, so they survive a
 *   Redis restart): a rolling refresh only writes a session that still exists (`SET … XX`), so
 *   it can never bring back a session destroyed by a concurrent logout; `destroyByUser` removes
 *   all of a user's sessions (kept in a set per user) in one atomic call.
 * - Keys hold a SHA-256 of the session id, never the id.
 *
 * The client stays yours: the store does not close it. Recommended client options, so that an
 * outage answers 503 `auth_unavailable` quickly instead of queueing requests:
 * `new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })`, with an `'error'`
 * listener on the client; the manager's `storeTimeout` bounds a Redis that hangs. With
 * `enableOfflineQueue: false`, wait for the client's `'ready'` event before serving.
 * Works with a client `keyPrefix`. Redis Cluster is not supported (the scripts touch keys
 * derived at run time); use one primary, with replicas or Sentinel for failover.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * import { redisStore } from '@gatehouse/redis'
 *
 * const redis = new Redis(process.env.REDIS_URL!, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
 * redis.on('error', (err) => log.warn({ err }, 'redis'))
 * const auth = createAuth({ session: { secret, store: redisStore(redis) }, ... })
 * ```
 */
export function redisStore(client: Redis, options: RedisStoreOptions = {}): SessionStore {
  if (typeof client !== 'object' || client === null || typeof client.defineCommand !== 'function' || typeof client.get !== 'function') {
    throw new TypeError('redisStore: expected an ioredis client (new Redis(url, options))')
  }
  const prefix = options.prefix ?? 'gatehouse:sess:'
  if (typeof prefix !== 'string') throw new TypeError('redisStore: prefix must be a string')
  const userPrefix = `${prefix}user:`
  // ioredis adds its keyPrefix to KEYS but cannot know the keys a script builds from ARGV.
  const clientPrefix = client.options?.keyPrefix ?? ''

  const commands = client as unknown as Record<keyof typeof COMMANDS, ScriptCommand | undefined>
  for (const [name, definition] of Object.entries(COMMANDS) as Array<[keyof typeof COMMANDS, { lua: string; numberOfKeys: number }]>) {
    // Defined once per client; the scripts are the same for every prefix.
    if (typeof commands[name] !== 'function') client.defineCommand(name, definition)
  }
  const run = (name: keyof typeof COMMANDS, ...args: Array<string | number>) => (commands[name] as ScriptCommand).apply(client, args)

  return {
    async get(key) {
      const raw = await client.get(prefix + key)
      if (raw === null) return undefined
      try {
        return JSON.parse(raw) as StoredSession
      } catch {
        // Not written by gatehouse: treat as no session (gatehouse refuses it as unknown).
        return undefined
      }
    },
    async set(key, session, ttlSeconds) {
      await run('gatehouseSessionSet', prefix + key, userPrefix + session.userId, JSON.stringify(session), milliseconds(ttlSeconds), key, clientPrefix + userPrefix, clientPrefix + prefix)
    },
    async touch(key, session, ttlSeconds) {
      return (await run('gatehouseSessionTouch', prefix + key, userPrefix + session.userId, JSON.stringify(session), milliseconds(ttlSeconds), key)) === 1
    },
    async destroy(key) {
      await run('gatehouseSessionDestroy', prefix + key, clientPrefix + userPrefix, key)
    },
    async destroyByUser(userId) {
      return Number(await run('gatehouseSessionDestroyByUser', userPrefix + userId, clientPrefix + prefix))
    },
  }
}
