import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Duration } from '@gatehouse/core'
import { createTestIssuer } from '@gatehouse/core/testing'

// The real bin, run as a subprocess: bundled from the sources once, then `node cli.mjs …`.
const here = fileURLToPath(new URL('.', import.meta.url))
const FIXTURES = join(here, 'fixtures', 'cli')
const ISSUER = 'https://id.example.test'
let dir: string
let cli: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'))
  cli = join(dir, 'cli.mjs')
  await build({ entryPoints: [join(here, '..', 'src', 'cli', 'main.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: cli, logLevel: 'silent' })
})

afterAll(() => rm(dir, { recursive: true, force: true }))

const backend = createTestIssuer({ alg: 'HS256', issuer: ISSUER, audience: 'backend' })
const authService = createTestIssuer({ alg: 'HS256', issuer: ISSUER, audience: 'auth-service' })
const other = createTestIssuer({ alg: 'HS256', issuer: ISSUER, audience: 'backend' })

function secretOf(issuer: typeof backend): string {
  const secret = issuer.options.secret
  const value = Array.isArray(secret) ? secret[0] : secret
  if (typeof value !== 'string') throw new Error('the HS256 test issuer should expose its secret as a string')
  return value
}
const SECRET = secretOf(backend)
const OTHER_SECRET = secretOf(other)
const fingerprint = (secret: string) => `sha256:${createHash('sha256').update(secret).digest('hex').slice(0, 12)}`

/** Every token a test minted: no output of any run may contain one, or its signature segment. */
const minted = new Set<string>()
function mint(issuer: typeof backend, claims: Record<string, unknown>, expiresIn: Duration = '15m'): string {
  const token = issuer.sign(claims, { expiresIn })
  minted.add(token)
  return token
}

interface Result {
  code: number
  stdout: string
  stderr: string
}

function run(args: string[], opts: { env?: Record<string, string>; input?: string; cwd?: string } = {}): Promise<Result> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', GH_TEST_SECRET: SECRET, ...opts.env }
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [cli, ...args], { cwd: opts.cwd ?? FIXTURES, env, timeout: 15_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error)
      const result = { code: error ? (error.code as number) : 0, stdout, stderr }
      const all = stdout + stderr
      for (const token of minted) {
        expect(all, 'a full token was printed').not.toContain(token)
        expect(all, "a token's signature segment was printed").not.toContain(token.split('.')[2])
      }
      expect(all, 'ANSI colour codes in piped output').not.toContain('\x1b[')
      resolve(result)
    })
    child.stdin?.end(opts.input ?? '')
  })
}

describe('gatehouse explain', () => {
  it('allows a good token: exit 0, the steps, the decoded token and the principal', async () => {
    const token = mint(backend, { sub: 'alice', roles: ['admin'] })
    const r = await run(['explain', '--config', 'hs256.mjs', '--token', token, '--url', '/admin/users'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('ALLOW via bearer')
    expect(r.stdout).toMatch(/principal\s+'alice' roles \[admin\]/)
    expect(r.stdout).toContain(`authorization: Bearer ${token.slice(0, 6)}…(${token.length} chars)`)
    expect(r.stdout).toContain('UNVERIFIED')
    expect(r.stdout).toMatch(/exp\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(expires in 1[45]m/)
    expect(r.stdout).toMatch(/✓ signature/)
    expect(r.stderr).toBe('')
  })

  it('denies an expired token: exit 1, token_expired, and how long ago', async () => {
    const token = mint(backend, { sub: 'alice' }, -192)
    const r = await run(['explain', '-c', 'hs256.mjs', '-t', token, '--url', '/api/reports'])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('DENY 401 token_expired')
    expect(r.stdout).toMatch(/exp\s+\S+ \(expired 3m 1[0-9]s ago\)/)
    expect(r.stdout).toMatch(/hint\s+.*expired/)
  })

  it('names both audiences when a token was minted for another service', async () => {
    const token = mint(authService, { sub: 'alice' })
    const r = await run(['explain', '-c', 'hs256.mjs', '-t', token, '--url', '/api/reports'], { env: { GH_TEST_SECRET: secretOf(authService) } })
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('DENY 401 token_audience_mismatch')
    const hint = /hint\s+(.*)/.exec(r.stdout)?.[1] ?? ''
    expect(hint).toContain("'auth-service'")
    expect(hint).toContain("'backend'")
  })

  it('shows key fingerprints when two services drift apart on the secret', async () => {
    const token = mint(other, { sub: 'alice' })
    const r = await run(['explain', '-c', 'hs256.mjs', '-t', token])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('DENY 401 token_signature_invalid')
    expect(r.stdout).toContain('Configured keys')
    expect(r.stdout).toContain(fingerprint(SECRET))
    expect(r.stdout).not.toContain(fingerprint(OTHER_SECRET))
    expect(r.stdout).not.toContain(SECRET)
  })

  it('says the user is missing when the principal hook returns null (export const options)', async () => {
    const ghost = await run(['explain', '-c', 'principal-null.mjs', '-t', mint(backend, { sub: 'ghost' })])
    expect(ghost.code).toBe(1)
    expect(ghost.stdout).toContain('DENY 401 principal_rejected')
    expect(ghost.stdout).toMatch(/✗ principal\s+principal hook returned null for 'ghost'/)
    const alice = await run(['explain', '-c', 'principal-null.mjs', '-t', mint(backend, { sub: 'alice' })])
    expect(alice.code).toBe(0)
  })

  it('refuses a WebSocket upgrade from an origin that is not allowed (CommonJS async config)', async () => {
    const token = mint(backend, { sub: 'alice' })
    const evil = await run(['explain', '-c', 'origins.cjs', '-t', token, '--url', '/ws', '--origin', 'https://evil.example', '--upgrade'])
    expect(evil.code).toBe(1)
    expect(evil.stdout).toContain('gatehouse explain: WebSocket upgrade')
    expect(evil.stdout).toContain('DENY 403 origin_rejected')
    expect(evil.stdout).toMatch(/✗ origin\s+.*evil\.example/)
    const app = await run(['explain', '-c', 'origins.cjs', '-t', token, '--url', '/ws', '--origin', 'https://app.example.com', '--upgrade'])
    expect(app.code).toBe(0)
    // Without --upgrade the same GET is an ordinary request: the origin policy is not what judges it.
    const plain = await run(['explain', '-c', 'origins.cjs', '-t', token, '--url', '/ws', '--origin', 'https://evil.example'])
    expect(plain.code).toBe(0)
  })

  it('does not treat a non-canonical path as public', async () => {
    const docs = await run(['explain', '-c', 'hs256.mjs', '--url', '/docs/intro'])
    expect(docs.code).toBe(0)
    expect(docs.stdout).toContain('ALLOW via public')
    const sneaky = await run(['explain', '-c', 'hs256.mjs', '--url', '/docs/../admin'])
    expect(sneaky.code).toBe(1)
    expect(sneaky.stdout).toContain('GET /docs/../admin')
    expect(sneaky.stdout).toContain('DENY 401 credentials_missing')
    expect(sneaky.stdout).toMatch(/· path\s+the request path contains a '\.\.' segment, so no public rule can match it/)
  })

  it('reads the token from stdin with --token -', async () => {
    const token = mint(backend, { sub: 'alice' })
    const r = await run(['explain', '-c', 'hs256.mjs', '--token', '-'], { input: `${token}\n` })
    expect(r.code).toBe(0)
  })

  it('redacts tokens carried by a cookie, the query and the subprotocol', async () => {
    const token = mint(backend, { sub: 'alice' })
    const r = await run([
      'explain', '-c', 'origins.cjs', '--upgrade', '--origin', 'https://app.example.com',
      '--url', `/ws?access_token=${token}`,
      '--cookie', `client_token=${token}; theme=dark`,
      '-H', `Sec-WebSocket-Protocol: gatehouse, gatehouse.bearer.${token}`,
    ])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`cookie: client_token=${token.slice(0, 6)}…(${token.length} chars); theme=…(4 chars)`)
    expect(r.stdout).toContain(`sec-websocket-protocol: gatehouse, gatehouse.bearer.${token.slice(0, 6)}…`)
    expect(r.stdout).toContain(`/ws?access_token=${token.slice(0, 6)}…`)
    expect(r.stdout).toContain('Token from protocol')
  })

  it('prints parseable JSON with the decision, every step, the token and the keys', async () => {
    const token = mint(backend, { sub: 'alice' }, -60)
    const r = await run(['explain', '-c', 'hs256.mjs', '-t', token, '--json'])
    expect(r.code).toBe(1)
    const json = JSON.parse(r.stdout) as {
      decision: { ok: boolean; code: string; status: number }
      steps: Array<{ step: string; outcome: string; detail: string }>
      token: { header: Record<string, unknown>; claims: Record<string, unknown> }
      keys: Array<{ fingerprint: string }>
    }
    expect(json.decision).toMatchObject({ ok: false, status: 401, code: 'token_expired' })
    expect(json.steps.map((s) => s.step)).toEqual(expect.arrayContaining(['request', 'credentials', 'decision']))
    expect(json.steps.at(-1)).toMatchObject({ step: 'decision', outcome: 'fail' })
    expect(json.token.header.alg).toBe('HS256')
    expect(json.token.claims.sub).toBe('alice')
    expect(json.keys.map((k) => k.fingerprint)).toEqual([fingerprint(SECRET)])
  })

  it('judges an unreadable bearer value and says it is not a JWT', async () => {
    const r = await run(['explain', '-c', 'hs256.mjs', '-H', 'Authorization: Bearer not-a-jwt-at-all-but-long'])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/DENY 401 (credentials_malformed|token_\w+)/)
    expect(r.stdout).toContain('not a JWT')
    expect(r.stdout).not.toContain('not-a-jwt-at-all-but-long')
  })
})

describe('gatehouse decode', () => {
  it('prints header and claims labelled UNVERIFIED, with humanised times', async () => {
    const token = mint(backend, { sub: 'alice', roles: ['admin'], iat: Math.floor(Date.now() / 1000) - 3720 }, -192)
    const r = await run(['decode', token])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^UNVERIFIED/)
    expect(r.stdout).toMatch(/alg\s+"HS256"/)
    expect(r.stdout).toMatch(/sub\s+"alice"/)
    expect(r.stdout).toMatch(/exp\s+\S+Z \(expired 3m 1\ds ago\)/)
    expect(r.stdout).toMatch(/iat\s+\S+Z \(issued 1h 2m ago\)/)
    expect(r.stdout).toMatch(/signature\s+\d+ chars \(never shown\)/)
  })

  it('reads stdin and prints JSON', async () => {
    const token = mint(backend, { sub: 'bob' })
    const r = await run(['decode', '-', '--json'], { input: token })
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ unverified: true, header: { alg: 'HS256' }, claims: { sub: 'bob', iss: ISSUER } })
  })

  it('refuses a malformed token with a clear message and exit 2', async () => {
    const r = await run(['decode', 'eyJhbGciOiJIUzI1NiJ9.not base64!'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('not a JWT: it has 2 segments; a JWT has 3')
    expect(r.stdout).toBe('')
  })
})

describe('gatehouse fingerprint', () => {
  it('prints one line per key: fingerprint, kind, algorithms, kid, source', async () => {
    const r = await run(['fingerprint', '--config', 'hs256.mjs'])
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^${fingerprint(SECRET)} kind=secret alg=HS256\\S* kid=- source=jwt\\.secret`))
    expect(r.stdout).not.toContain(SECRET)
  })

  it('gives two services with the same secret the same fingerprint, and different ones for drift', async () => {
    const a = await run(['fingerprint', '-c', 'hs256.mjs'])
    const b = await run(['fingerprint', '-c', 'principal-null.mjs'])
    const drifted = await run(['fingerprint', '-c', 'hs256.mjs'], { env: { GH_TEST_SECRET: OTHER_SECRET } })
    const first = (r: Result) => r.stdout.split(' ')[0]
    expect(first(a)).toBe(first(b))
    expect(first(drifted)).not.toBe(first(a))
  })

  it('prints JSON for tooling', async () => {
    const r = await run(['fingerprint', '-c', 'hs256.mjs', '--json'])
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ fingerprint: fingerprint(SECRET), kind: 'secret' })])
  })
})

describe('keys behind a JWKS URL', () => {
  const rs256 = createTestIssuer({ alg: 'RS256', issuer: ISSUER, audience: 'backend', kid: 'rs-1' })
  let server: Server
  let url: string

  beforeAll(async () => {
    server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rs256.jwks)))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`
  })

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('explain fetches them, lists their fingerprints and exits promptly', async () => {
    const token = mint(rs256, { sub: 'alice' })
    const started = Date.now()
    const r = await run(['explain', '-c', 'jwks.mjs', '-t', token], { env: { GH_TEST_JWKS_URL: url } })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/sha256:[0-9a-f]{12} kind=jwks alg=RS256 kid=rs-1 source=jwt\.jwksUrl/)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('fingerprint says that remote keys are fetched on first use', async () => {
    const r = await run(['fingerprint', '-c', 'jwks.mjs'], { env: { GH_TEST_JWKS_URL: url } })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('keys behind jwt.jwksUrl are fetched on first use')
  })
})

describe('bad config and bad usage exit 2', () => {
  it('lists every problem of an invalid config', async () => {
    const r = await run(['explain', '-c', 'invalid.mjs'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/the config is invalid \(\d+ problems\)/)
    expect(r.stderr).toMatch(/- jwt\.algorithms/)
    expect(r.stderr).toMatch(/- public/)
    expect(r.stderr).toMatch(/- \(root\): unknown option 'publik'/)
  })

  it('says what a config module that exports nothing must do', async () => {
    const r = await run(['fingerprint', '-c', 'no-export.mjs'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('exports nothing; export the gatehouse options as the default export')
  })

  it('names a config file that does not exist, resolved against the working directory', async () => {
    const r = await run(['explain', '-c', './nope.mjs'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`config file not found: ${join(FIXTURES, 'nope.mjs')}`)
  })

  it('says how to load a TypeScript config, and reports a syntax error, under plain Node', async () => {
    await writeFile(join(dir, 'auth.config.ts'), "export default { default: 'public' } as const\n")
    await writeFile(join(dir, 'broken.mjs'), 'export default {\n')
    const ts = await run(['explain', '-c', join(dir, 'auth.config.ts')])
    expect(ts.code).toBe(2)
    if (Number(process.versions.node.split('.')[0]) < 22) expect(ts.stderr).toContain("Node cannot load '.ts' files directly; compile it to JavaScript or write the options as .mjs, .cjs or .js")
    const broken = await run(['explain', '-c', join(dir, 'broken.mjs')])
    expect(broken.code).toBe(2)
    expect(broken.stderr).toMatch(/broken\.mjs failed to load: SyntaxError/)
  })

  it('refuses an unknown flag with the usage', async () => {
    const r = await run(['explain', '-c', 'hs256.mjs', '--frobnicate'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('gatehouse explain: unknown option --frobnicate')
    expect(r.stderr).toContain('Usage: gatehouse explain')
  })

  it('refuses a missing command, an unknown command and a missing --config', async () => {
    expect((await run([])).code).toBe(2)
    const unknown = await run(['explian'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("unknown command 'explian'")
    const noConfig = await run(['fingerprint'])
    expect(noConfig.code).toBe(2)
    expect(noConfig.stderr).toContain('--config <file> is required')
  })

  it('does not echo a token pasted as a stray argument', async () => {
    const token = mint(backend, { sub: 'alice' })
    const r = await run(['explain', '-c', 'hs256.mjs', token])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`unexpected argument of ${token.length} characters`)
  })

  it('prints help for every command with exit 0', async () => {
    for (const args of [['--help'], ['help', 'decode'], ['explain', '--help'], ['decode', '-h'], ['fingerprint', '--help']]) {
      const r = await run(args)
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^Usage: gatehouse/)
    }
  })
})

describe('the built entry', () => {
  it('starts with the node shebang', async () => {
    expect((await readFile(join(here, '..', 'src', 'cli', 'main.ts'), 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true)
    expect((await readFile(cli, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true)
  })
})
