import { describe, expect, it } from 'vitest'
import { parseDecode, parseExplain, parseFingerprint, readTokenArg, UsageError } from './args.js'

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2VjcmV0LXNpZ25hdHVyZS1zZWdtZW50'

function usageError(fn: () => unknown): UsageError {
  try {
    fn()
  } catch (error) {
    if (error instanceof UsageError) return error
    throw error
  }
  throw new Error('expected a UsageError')
}

describe('parseExplain', () => {
  it('fills in the defaults an adapter would see', () => {
    expect(parseExplain(['--config', 'a.mjs'])).toEqual({ config: 'a.mjs', headers: [], method: 'GET', url: '/', cookies: [], upgrade: false, json: false })
  })

  it('reads every option, repeatable headers and cookies in order', () => {
    const args = parseExplain(['-c', 'a.mjs', '-t', TOKEN, '-H', 'X-A: 1', '--header', 'X-B: 2', '-X', 'post', '--url', '/x?y=1', '--origin', 'https://o.test', '--cookie', 'a=1', '--cookie', 'b=2', '--upgrade', '--json'])
    expect(args).toEqual({ config: 'a.mjs', token: TOKEN, headers: ['X-A: 1', 'X-B: 2'], method: 'POST', url: '/x?y=1', origin: 'https://o.test', cookies: ['a=1', 'b=2'], upgrade: true, json: true })
  })

  it('returns help for --help and -h, even without --config', () => {
    expect(parseExplain(['--help'])).toBe('help')
    expect(parseExplain(['-h'])).toBe('help')
  })

  it('requires --config', () => {
    expect(usageError(() => parseExplain(['--token', TOKEN])).message).toBe('--config <file> is required')
  })

  it('refuses unknown flags, naming the flag but not its value', () => {
    const error = usageError(() => parseExplain(['-c', 'a.mjs', `--tokne=${TOKEN}`]))
    expect(error.message).toBe('unknown option --tokne')
    expect(error.command).toBe('explain')
  })

  it('does not echo a token passed as a stray argument', () => {
    const error = usageError(() => parseExplain(['-c', 'a.mjs', TOKEN]))
    expect(error.message).not.toContain(TOKEN)
    expect(error.message).toContain(`of ${TOKEN.length} characters`)
  })

  it('explains a missing option value', () => {
    expect(usageError(() => parseExplain(['-c', 'a.mjs', '--token'])).message).toContain('option --token needs a value')
    expect(usageError(() => parseExplain(['-c', 'a.mjs', '--json=yes'])).message).toBe('option --json does not take a value')
  })

  it('refuses a method that is not an HTTP token and an empty url', () => {
    expect(usageError(() => parseExplain(['-c', 'a.mjs', '-X', 'GET /'])).message).toContain('--method')
    expect(usageError(() => parseExplain(['-c', 'a.mjs', '--url', ''])).message).toContain('--url must not be empty')
  })
})

describe('parseDecode and parseFingerprint', () => {
  it('takes exactly one token', () => {
    expect(parseDecode([TOKEN, '--json'])).toEqual({ token: TOKEN, json: true })
    expect(usageError(() => parseDecode([])).message).toContain('decode needs a token')
    expect(usageError(() => parseDecode([TOKEN, TOKEN])).message).toBe('decode takes one token, got 2 arguments')
  })

  it('fingerprint requires --config and takes no arguments', () => {
    expect(parseFingerprint(['-c', 'a.mjs'])).toEqual({ config: 'a.mjs', json: false })
    expect(usageError(() => parseFingerprint([])).command).toBe('fingerprint')
    expect(usageError(() => parseFingerprint(['-c', 'a.mjs', 'extra'])).message).toContain("unexpected argument 'extra'")
  })
})

describe('readTokenArg', () => {
  async function* chunks(...parts: string[]) {
    for (const p of parts) yield Buffer.from(p)
  }

  it('returns the argument unless it is -', async () => {
    expect(await readTokenArg(TOKEN, 'decode', chunks('ignored'))).toBe(TOKEN)
  })

  it('reads and trims stdin for -', async () => {
    expect(await readTokenArg('-', 'decode', chunks(TOKEN.slice(0, 10), `${TOKEN.slice(10)}\n`))).toBe(TOKEN)
  })

  it('refuses empty or oversized stdin', async () => {
    await expect(readTokenArg('-', 'explain', chunks(' \n'))).rejects.toThrow('expected a token on stdin, got nothing')
    await expect(readTokenArg('-', 'explain', chunks('x'.repeat(600_000), 'x'.repeat(600_000)))).rejects.toThrow('more than 1 MB')
  })
})
