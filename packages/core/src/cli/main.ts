#!/usr/bin/env node
import { GatehouseConfigError } from '../config-error.js'
import { type CommandName, EXIT, parseDecode, parseExplain, parseFingerprint, USAGE, UsageError } from './args.js'
import { runDecode } from './decode.js'
import { runExplain } from './explain.js'
import { runFingerprint } from './fingerprint.js'
import { clean, type Io, wantsColor } from './format.js'
import { ConfigLoadError } from './load-config.js'

const COMMANDS: Record<CommandName, (argv: string[], io: Io, cwd: string) => Promise<number>> = {
  async explain(argv, io, cwd) {
    const args = parseExplain(argv)
    return args === 'help' ? help(io, 'explain') : runExplain(args, io, cwd)
  },
  async decode(argv, io) {
    const args = parseDecode(argv)
    return args === 'help' ? help(io, 'decode') : runDecode(args, io)
  },
  async fingerprint(argv, io, cwd) {
    const args = parseFingerprint(argv)
    return args === 'help' ? help(io, 'fingerprint') : runFingerprint(args, io, cwd)
  },
}

function help(io: Io, command: CommandName | 'main'): number {
  io.out(USAGE[command])
  return EXIT.allow
}

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name)
}

/** Runs one CLI invocation and returns its exit code; every failure is reported, none is thrown. */
export async function main(argv: readonly string[], io: Io, cwd: string): Promise<number> {
  const [first, ...rest] = argv
  if (first === undefined || first === '--help' || first === '-h') {
    if (first === undefined) {
      io.err(USAGE.main)
      return EXIT.usage
    }
    return help(io, 'main')
  }
  if (first === 'help') {
    const topic = rest[0]
    return help(io, topic !== undefined && isCommand(topic) ? topic : 'main')
  }
  if (!isCommand(first)) {
    io.err(`gatehouse: unknown command '${clean(first).slice(0, 40)}'\n\n${USAGE.main}`)
    return EXIT.usage
  }
  try {
    return await COMMANDS[first](rest, io, cwd)
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`gatehouse ${error.command ?? first}: ${error.message}\n\n${USAGE[error.command ?? first]}`)
    } else if (error instanceof GatehouseConfigError) {
      io.err(`gatehouse ${first}: the config is invalid (${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}):`)
      for (const problem of error.problems) io.err(`  - ${clean(problem.path || '(root)')}: ${clean(problem.message)}`)
    } else if (error instanceof ConfigLoadError) {
      io.err(`gatehouse ${first}: ${clean(error.message)}`)
    } else {
      const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      io.err(`gatehouse ${first}: unexpected error: ${clean(why).slice(0, 1000)}`)
    }
    return EXIT.usage
  }
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()))
}

const io: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  color: wantsColor(process.stdout.isTTY, process.env),
  now: () => Date.now(),
}

// No top-level await: the same entry is also built as CommonJS.
void main(process.argv.slice(2), io, process.cwd()).then(async (code) => {
  // Exit explicitly once output is flushed: the operator's config module may hold handles
  // (a database pool behind the principal hook) that would otherwise keep the CLI running.
  await Promise.all([flush(process.stdout), flush(process.stderr)])
  process.exit(code)
})
