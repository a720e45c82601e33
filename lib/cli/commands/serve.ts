// PLACEHOLDER: replaced by the module that implements `flr serve`.
import type { Command } from 'commander'
import type { CliIO } from '../io.js'

export function register(program: Command, _io: CliIO): void {
  program.command('serve').description('(not built yet)')
}
