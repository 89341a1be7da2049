// HS256 tokens for the HTTP and memory scenarios, minted with node:crypto so that minting costs
// little and depends on no library under test. Shaped like a typical access token (~400 bytes).
import { Buffer } from 'node:buffer'
import { createHmac } from 'node:crypto'

export const SECRET = 'bench-hs256-secret-0123456789-abcdefghijklmnop'
export const ISSUER = 'https://id.example.com'
export const AUDIENCE = 'backend'

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

/** A signed HS256 token; `i` makes `sub` and `jti` (and so the token) distinct. */
export function mint(i, { now = Math.floor(Date.now() / 1000), ttl = 3600 } = {}) {
  const claims = {
    iss: ISSUER,
    sub: `user-${i}`,
    aud: AUDIENCE,
    iat: now,
    exp: now + ttl,
    roles: ['reader', 'writer'],
    scope: 'reports:read reports:write',
    jti: `bench-${i.toString(16).padStart(12, '0')}-7f3c1a2e-9b1d-4c55-8a0e`,
  }
  const input = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`
}

/** `count` distinct tokens. */
export function mintMany(count, offset = 0) {
  const now = Math.floor(Date.now() / 1000)
  return Array.from({ length: count }, (_, i) => mint(offset + i, { now }))
}
