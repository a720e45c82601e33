// The flr command line: commander wiring only; each command is a module in commands/.
import { Command, CommanderError } from 'commander'
import { CommandFailed, describeError, errorCode, QuietExit, type CliIO } from './io.js'
import { isFlrError } from '../errors.js'
import { VERSION } from '../version.js'

export interface CommandModule {
  register(program: Command, io: CliIO): void
}

// In the order `flr --help` lists them. Loaded on demand: `flr serve` then loads neither the
// client nor the vendor tools, and starts sooner ([LEASE-8] restart time).
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  serve: () => import('./commands/serve.js'),
  status: () => import('./commands/status.js'),
  lease: () => import('./commands/lease.js'),
  leases: () => import('./commands/leases.js'),
  revoke: () => import('./commands/revoke.js'),
  'host-id': () => import('./commands/host-id.js'),
  keygen: () => import('./commands/keygen.js'),
  sign: () => import('./commands/sign.js'),
  inspect: () => import('./commands/inspect.js'),
  reload: () => import('./commands/reload.js'),
  'set-password': () => import('./commands/set-password.js'),
  'support-bundle': () => import('./commands/support-bundle.js'),
  report: () => import('./commands/report.js'),
}

/** The named command's module alone; every one when the line names none (help, version, a typo). */
function commandsFor(argv: string[]): Promise<CommandModule[]> {
  const name = argv[0]
  const loaders = name !== undefined && Object.hasOwn(COMMANDS, name) ? [COMMANDS[name]!] : Object.values(COMMANDS)
  return Promise.all(loaders.map((load) => load()))
}

/** Runs one command line; resolves to the exit code (0 ok, 1 failure, 2 usage error, 3 `flr status`: not serving). */
export async function run(argv: string[], io: CliIO): Promise<number> {
  // one convention for scripts: with --json, a failure is one JSON object on stderr too
  const asJson = argv.includes('--json')
  const program = new Command('flr')
    .description('flr: a floating license pack server')
    .version(VERSION, '-V, --version')
    .exitOverride()
    // lease ids and pack names may start with '-': options after the command belong to it
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      // with --json, commander's text gives way to the JSON error below
      writeErr: (s) => (asJson ? undefined : io.err(s.replace(/\n$/, ''))),
    })
    .showHelpAfterError('(run with --help for usage)')
  for (const c of await commandsFor(argv)) c.register(program, io)
  for (const c of program.commands) c.exitOverride().configureOutput(program.configureOutput()).showHelpAfterError('(run with --help for usage)')
  try {
    await program.parseAsync(argv, { from: 'user' })
    return 0
  } catch (e) {
    if (e instanceof QuietExit) return e.exitCode
    if (e instanceof CommanderError) {
      // --help and --version end through here with exit code 0
      if (e.exitCode !== 0 && asJson) io.err(JSON.stringify({ error: { code: 'USAGE', message: e.message.replace(/^error: /, '') } }))
      return e.exitCode === 0 ? 0 : 2
    }
    if (asJson) io.err(JSON.stringify({ error: { code: errorCode(e), message: e instanceof Error ? e.message : String(e) } }))
    else io.err(`flr: ${describeError(e)}`)
    if (e instanceof CommandFailed) return e.exitCode
    return isFlrError(e, 'USAGE') ? 2 : 1
  }
}
