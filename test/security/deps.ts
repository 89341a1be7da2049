/** The frameworks the security tests run against, as one place to import them from. */
import express from 'express'
import fastify from 'fastify'
import { Redis } from 'ioredis'
import { WebSocket, WebSocketServer } from 'ws'

export type { Express, NextFunction, Request, Response } from 'express'
export type { FastifyInstance } from 'fastify'
export type { Redis as RedisClient, RedisOptions } from 'ioredis'
export { express, fastify, Redis, WebSocket, WebSocketServer }
