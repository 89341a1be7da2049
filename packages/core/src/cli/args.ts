import { parseArgs } from 'node:util'

/** Exit codes: the decision for `explain`, and 2 for anything the operator must fix first. */
export const EXIT = { allow: 0, deny: 1, usage: 2 } as const

/** Bad usage or an unusable config: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  /** The command whose usage to print, or `undefined` for the top-level one. */
  readonly command: CommandName | undefined

  constructor(message: string, command: CommandName | undefined) {
    super(message)
    this.command = command
  }
}

export type CommandName = 'explain' | 'decode' | 'fingerprint'

export interface ExplainArgs {
  config: string
  token?: string
  headers: string[]
  method: string
  url: string
  origin?: string
  cookies: string[]
  upgrade: boolean
  json: boolean
}

export interface DecodeArgs {
  token: string
  json: boolean
}

export interface FingerprintArgs {
  config: string
  json: boolean
}

export const USAGE: Record<CommandName | 'main', string> = {
  main: `Usage: gatehouse <command> [options]

Commands:
  explain      say why a request would be allowed or denied, step by step
  decode       show a token's header and claims (unverified)
  fingerprint  list the fingerprints of the configured keys

Run 'gatehouse <command> --help' for a command's options.`,
  explain: `Usage: gatehouse explain --config <file> [request options] [--upgrade] [--json]

Runs your gatehouse options against one request and prints every step of the decision.
Exit code: 0 allow, 1 deny, 2 bad usage or invalid config.

Options:
  -c, --config <file>    module exporting the options: default export (an object, or a
                         function returning one, possibly async) or 'export const options'
  -t, --token <jwt>      shorthand for --header 'Authorization: Bearer <jwt>'; '-' reads stdin
  -H, --header <h>       a request header 'Name: value' (repeatable)
  -X, --method <m>       request method (default GET)
      --url <url>        request target as sent, path and query (default /); not normalised
      --origin <origin>  the Origin header
      --cookie <pairs>   the Cookie header, e.g. 'sid=…; theme=dark' (repeatable)
      --upgrade          judge a WebSocket upgrade (origin policy first), as checkUpgrade does
      --json             print { decision, steps, token, keys } as JSON
  -h, --help             show this help

Tokens and cookie values are never printed in full.`,
  decode: `Usage: gatehouse decode <jwt> [--json]

Prints a token's header and claims with times relative to now. Nothing is verified:
anyone can write any claim. Use '-' to read the token from stdin (keeps it out of shell history).
Exit code: 0 decoded, 2 not a JWT.

Options:
      --json   print { unverified, header, claims } as JSON
  -h, --help   show this help`,
  fingerprint: `Usage: gatehouse fingerprint --config <file> [--json]

Lists a fingerprint for every configured JWT key, one per line, so two services can compare
their keys without sharing them: same fingerprint, same key.

Options:
  -c, --config <file>  module exporting the options (as for 'explain')
      --json           print the key list as JSON
  -h, --help           show this help`,
}

type Spec = NonNullable<Parameters<typeof parseArgs>[0]>['options']

const SPECS = {
  explain: {
    config: { type: 'string', short: 'c' },
    token: { type: 'string', short: 't' },
    header: { type: 'string', short: 'H', multiple: true },
    method: { type: 'string', short: 'X' },
    url: { type: 'string' },
    origin: { type: 'string' },
    cookie: { type: 'string', multiple: true },
    upgrade: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  decode: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  fingerprint: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
} as const satisfies Record<CommandName, Spec>

type Values = Record<string, string | boolean | string[] | undefined>

function parse(command: CommandName, argv: readonly string[]): { values: Values; positionals: string[] } | 'help' {
  let parsed: { values: Values; positionals: string[] }
  try {
    parsed = parseArgs({ args: [...argv], options: SPECS[command], strict: true, allowPositionals: true }) as { values: Values; positionals: string[] }
  } catch (error) {
    throw new UsageError(argumentProblem(error), command)
  }
  if (parsed.values.help === true) return 'help'
  return parsed
}

/** Rewords parseArgs errors; never echoes an argument's value, which may be a token. */
function argumentProblem(error: unknown): string {
  const code = (error as { code?: unknown }).code
  const message = error instanceof Error ? error.message : String(error)
  // Messages name options as '--token', '-t, --token <value>' or '-Z': prefer the long form.
  const option = /--[\w-]+/.exec(message)?.[0] ?? /'(-\w)/.exec(message)?.[1]
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option ?? ''}`.trim()
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (message.includes('does not take an argument')) return `option ${option ?? ''} does not take a value`
    return `option ${option ?? ''} needs a value (a value starting with '-' must be written ${option ?? '--option'}=-…)`
  }
  return 'could not read the arguments'
}

function requireConfig(values: Values, command: CommandName): string {
  const config = values.config
  if (typeof config !== 'string' || config === '') throw new UsageError('--config <file> is required', command)
  return config
}

function noPositionals(positionals: readonly string[], command: CommandName): void {
  if (positionals.length) throw new UsageError(`unexpected argument ${describeArg(positionals[0] as string)}: ${command} takes only options`, command)
}

/** Names a stray argument without printing a token someone pasted in the wrong place. */
function describeArg(arg: string): string {
  return arg.length > 24 ? `of ${arg.length} characters` : `'${arg.replace(/[^\x20-\x7e]/g, '?')}'`
}

export function parseExplain(argv: readonly string[]): ExplainArgs | 'help' {
  const r = parse('explain', argv)
  if (r === 'help') return r
  const { values, positionals } = r
  noPositionals(positionals, 'explain')
  const method = typeof values.method === 'string' ? values.method.toUpperCase() : 'GET'
  if (!/^[A-Z][A-Z0-9!#$%&'*+.^_`|~-]*$/.test(method)) throw new UsageError('--method must be an HTTP method such as GET or POST', 'explain')
  const url = typeof values.url === 'string' ? values.url : '/'
  if (url === '') throw new UsageError("--url must not be empty: give the request target, e.g. '/api/reports?page=2'", 'explain')
  const args: ExplainArgs = {
    config: requireConfig(values, 'explain'),
    headers: (values.header as string[] | undefined) ?? [],
    method,
    url,
    cookies: (values.cookie as string[] | undefined) ?? [],
    upgrade: values.upgrade === true,
    json: values.json === true,
  }
  if (typeof values.token === 'string') args.token = values.token
  if (typeof values.origin === 'string') args.origin = values.origin
  return args
}

export function parseDecode(argv: readonly string[]): DecodeArgs | 'help' {
  const r = parse('decode', argv)
  if (r === 'help') return r
  if (r.positionals.length === 0) throw new UsageError('decode needs a token (or - to read it from stdin)', 'decode')
  if (r.positionals.length > 1) throw new UsageError(`decode takes one token, got ${r.positionals.length} arguments`, 'decode')
  return { token: r.positionals[0] as string, json: r.values.json === true }
}

export function parseFingerprint(argv: readonly string[]): FingerprintArgs | 'help' {
  const r = parse('fingerprint', argv)
  if (r === 'help') return r
  noPositionals(r.positionals, 'fingerprint')
  return { config: requireConfig(r.values, 'fingerprint'), json: r.values.json === true }
}

/** A token argument, read from stdin when it is `-` (so it stays out of shell history and `ps`). */
export async function readTokenArg(value: string, command: CommandName, stdin: AsyncIterable<Buffer | string> = process.stdin): Promise<string> {
  if (value !== '-') return value
  let text = ''
  for await (const chunk of stdin) {
    text += typeof chunk === 'string' ? chunk : chunk.toString('utf8')
    if (text.length > 1_000_000) throw new UsageError('stdin holds more than 1 MB: expected a single token', command)
  }
  const token = text.trim()
  if (token === '') throw new UsageError('expected a token on stdin, got nothing', command)
  return token
}
