import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}`, import.meta.url))

// Tests run against the sources, so the suite needs no build step.
const alias = [
  { find: /^@gatehouse\/core\/testing$/, replacement: src('core/src/testing/index.ts') },
  { find: /^@gatehouse\/core$/, replacement: src('core/src/index.ts') },
  { find: /^@gatehouse\/express$/, replacement: src('express/src/index.ts') },
  { find: /^@gatehouse\/fastify$/, replacement: src('fastify/src/index.ts') },
  { find: /^@gatehouse\/ws$/, replacement: src('ws/src/index.ts') },
  { find: /^@gatehouse\/client$/, replacement: src('client/src/index.ts') },
  { find: /^@gatehouse\/redis$/, replacement: src('redis/src/index.ts') },
]

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/*.long.test.ts', '**/node_modules/**'],
          testTimeout: 20_000,
          hookTimeout: 60_000,
          typecheck: { enabled: false },
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'long',
          include: ['**/*.long.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 600_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
