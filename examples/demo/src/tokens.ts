import { createHash, randomBytes } from 'node:crypto'
import type { JwtOptions } from '@gatehouse/core'
import { createTestIssuer } from '@gatehouse/core/testing'
import type { DemoUser } from './users.js'

/** The readable cookie that carries the access token to the page (`fromCookie('client_token')`). */
export const ACCESS_COOKIE = 'client_token'
/** The HttpOnly cookie that carries the refresh token, sent only to `/auth/*`. */
export const REFRESH_COOKIE = 'demo_refresh'
/** Access tokens are short-lived, so the page refreshes them while you watch. */
export const ACCESS_TTL_SECONDS = 60
/** How long a refresh token (and the token login) lasts. */
export const REFRESH_TTL_SECONDS = 8 * 60 * 60
/** Refresh tokens kept at most; the oldest is forgotten first. */
const MAX_REFRESH_TOKENS = 1000

const ISSUER = 'gatehouse-demo'
const AUDIENCE = 'gatehouse-demo'

/** Mints access tokens and keeps the refresh tokens of the token login. */
export interface TokenService {
  /** The `jwt` options under which the access tokens verify. */
  readonly jwt: JwtOptions
  /** A signed access token for the user, valid for {@link ACCESS_TTL_SECONDS}. */
  mintAccess(user: DemoUser): string
  /** A correctly signed access token that expired two minutes ago (for the "expire now" button). */
  mintExpired(user: DemoUser): string
  /** A new opaque refresh token for the user. */
  issueRefresh(userId: string): string
  /**
   * Uses a refresh token: it is spent (rotation), and a new one comes back with the user id.
   * `undefined` when the token is unknown, spent or expired.
   */
  rotateRefresh(value: string | undefined): { userId: string; refresh: string } | undefined
  /** Forgets a refresh token (logout). */
  revokeRefresh(value: string | undefined): void
}

const key = (value: string) => createHash('sha256').update(value).digest('base64url')

/**
 * Creates the token service around a signing secret. Access tokens are HS256 JWTs; refresh
 * tokens are random and opaque, stored by their hash so that the table never holds a usable
 * token.
 */
export function createTokenService(secret: string): TokenService {
  const issuer = createTestIssuer({ alg: 'HS256', secret, issuer: ISSUER, audience: AUDIENCE, kid: 'demo' })
  const refreshTokens = new Map<string, { userId: string; expiresAt: number }>()

  function issueRefresh(userId: string): string {
    const value = randomBytes(32).toString('base64url')
    if (refreshTokens.size >= MAX_REFRESH_TOKENS) refreshTokens.delete(refreshTokens.keys().next().value as string)
    refreshTokens.set(key(value), { userId, expiresAt: Date.now() + REFRESH_TTL_SECONDS * 1000 })
    return value
  }

  return {
    jwt: issuer.options,
    mintAccess: (user) => issuer.sign({ sub: user.id, roles: user.roles }, { expiresIn: ACCESS_TTL_SECONDS }),
    mintExpired: (user) => issuer.sign({ sub: user.id, roles: user.roles, iat: Math.floor(Date.now() / 1000) - 180 }, { expiresIn: -120 }),
    issueRefresh,
    rotateRefresh(value) {
      if (typeof value !== 'string' || value === '') return undefined
      const k = key(value)
      const entry = refreshTokens.get(k)
      refreshTokens.delete(k)
      if (entry === undefined || entry.expiresAt <= Date.now()) return undefined
      return { userId: entry.userId, refresh: issueRefresh(entry.userId) }
    },
    revokeRefresh(value) {
      if (typeof value === 'string' && value !== '') refreshTokens.delete(key(value))
    },
  }
}

/** `Set-Cookie` for the readable access-token cookie; it outlives the token so an expired one is seen (and refreshed). */
export function accessCookie(token: string): string {
  return `${ACCESS_COOKIE}=${token}; Path=/; Max-Age=${REFRESH_TTL_SECONDS}; Secure; SameSite=Strict`
}

/** `Set-Cookie` for the HttpOnly refresh cookie, scoped to `/auth` so no API request carries it. */
export function refreshCookie(token: string): string {
  return `${REFRESH_COOKIE}=${token}; Path=/auth; Max-Age=${REFRESH_TTL_SECONDS}; HttpOnly; Secure; SameSite=Strict`
}

/** `Set-Cookie` values that remove both token cookies. */
export function clearTokenCookies(): string[] {
  return [
    `${ACCESS_COOKIE}=; Path=/; Max-Age=0; Secure; SameSite=Strict`,
    `${REFRESH_COOKIE}=; Path=/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict`,
  ]
}
