// PLACEHOLDER: replaced by the module that implements `flr set-password`.
import type { Command } from 'commander'
import type { CliIO } from '../io.js'

export function register(program: Command, _io: CliIO): void {
  program.command('set-password').description('(not built yet)')
}
