/**
 * The frameworks the security tests run against, loaded from the packages that depend on them.
 *
 * The root workspace does not list express, fastify, ws or ioredis (each adapter package does), so
 * a bare `import 'express'` from `test/` does not resolve. Loading them through the adapter's own
 * resolution also guarantees the tests use the very copy the adapter is built and typed against.
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type expressType from '../../packages/express/node_modules/@types/express/index.js'
import type fastifyType from '../../packages/fastify/node_modules/fastify/fastify.js'
import type * as ioredisModule from '../../packages/redis/node_modules/ioredis/built/index.js'
import type * as wsModule from '../../packages/ws/node_modules/@types/ws/index.js'

export type { Express, NextFunction, Request, Response } from '../../packages/express/node_modules/@types/express/index.js'
export type { FastifyInstance } from '../../packages/fastify/node_modules/fastify/fastify.js'
export type { Redis as RedisClient, RedisOptions } from '../../packages/redis/node_modules/ioredis/built/index.js'

function requireFrom(pkg: string): NodeJS.Require {
  return createRequire(fileURLToPath(new URL(`../../packages/${pkg}/package.json`, import.meta.url)))
}

/** Express 5, as `@gatehouse/express` resolves it. */
export const express = requireFrom('express')('express') as typeof expressType
/** Fastify 5, as `@gatehouse/fastify` resolves it. */
export const fastify = requireFrom('fastify')('fastify') as typeof fastifyType
const ws = requireFrom('ws')('ws') as typeof wsModule
/** The `ws` client, as `@gatehouse/ws` resolves it. */
export const WebSocket: typeof wsModule.WebSocket = ws.WebSocket
/** The `ws` server, as `@gatehouse/ws` resolves it. */
export const WebSocketServer: typeof wsModule.WebSocketServer = ws.WebSocketServer
/** ioredis, as `@gatehouse/redis` resolves it. */
export const Redis: typeof ioredisModule.Redis = (requireFrom('redis')('ioredis') as typeof ioredisModule).Redis
