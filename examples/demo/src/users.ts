import { createHash, timingSafeEqual } from 'node:crypto'

/** A user of the demo's in-memory "database". */
export interface DemoUser {
  id: string
  roles: string[]
  /** Shown on the page: these are demo accounts, not secrets. */
  password: string
}

/** The demo's accounts: a normal user and an administrator. */
export const USERS: readonly DemoUser[] = Object.freeze([
  { id: 'alice', roles: ['user'], password: 'alice-demo' },
  { id: 'admin', roles: ['admin', 'user'], password: 'admin-demo' },
])

const byId = new Map(USERS.map((u) => [u.id, u]))

/** Looks a user up by id, as a `principal` hook would query a database. */
export function findUser(id: unknown): DemoUser | undefined {
  return typeof id === 'string' ? byId.get(id) : undefined
}

const digest = (value: string) => createHash('sha256').update(value).digest()

/**
 * Checks a username and password. Compares digests in constant time, so the answer's timing
 * says nothing about how much of a guess was right (a habit worth copying even in a demo).
 */
export function verifyPassword(username: unknown, password: unknown): DemoUser | undefined {
  if (typeof username !== 'string' || typeof password !== 'string') return undefined
  const user = byId.get(username)
  const ok = timingSafeEqual(digest(password), digest(user?.password ?? '\0no such user'))
  return ok && user ? user : undefined
}
