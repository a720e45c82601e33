// The flr command line: commander wiring only; each command is a module in commands/.
import { Command, CommanderError } from 'commander'
import { CommandFailed, describeError, type CliIO } from './io.js'
import { isFlrError } from '../errors.js'
import { VERSION } from '../version.js'
import * as hostId from './commands/host-id.js'
import * as keygen from './commands/keygen.js'
import * as sign from './commands/sign.js'
import * as inspect from './commands/inspect.js'
import * as serve from './commands/serve.js'
import * as status from './commands/status.js'
import * as lease from './commands/lease.js'
import * as leases from './commands/leases.js'
import * as revoke from './commands/revoke.js'
import * as setPassword from './commands/set-password.js'
import * as supportBundle from './commands/support-bundle.js'

export interface CommandModule {
  register(program: Command, io: CliIO): void
}

const COMMANDS: CommandModule[] = [serve, status, lease, leases, revoke, hostId, keygen, sign, inspect, setPassword, supportBundle]

/** Runs one command line; resolves to the exit code (0 ok, 1 failure, 2 usage error). */
export async function run(argv: string[], io: CliIO): Promise<number> {
  const program = new Command('flr')
    .description('flr: a floating license pack server')
    .version(VERSION, '-V, --version')
    .exitOverride()
    // lease ids and pack names may start with '-': options after the command belong to it
    .enablePositionalOptions()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .showHelpAfterError('(run with --help for usage)')
  for (const c of COMMANDS) c.register(program, io)
  for (const c of program.commands) c.exitOverride().configureOutput(program.configureOutput()).showHelpAfterError('(run with --help for usage)')
  try {
    await program.parseAsync(argv, { from: 'user' })
    return 0
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with exit code 0
      return e.exitCode === 0 ? 0 : 2
    }
    io.err(`flr: ${describeError(e)}`)
    if (e instanceof CommandFailed) return e.exitCode
    return isFlrError(e, 'USAGE') ? 2 : 1
  }
}
