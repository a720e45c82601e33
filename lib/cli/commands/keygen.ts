// PLACEHOLDER: replaced by the module that implements `flr keygen`.
import type { Command } from 'commander'
import type { CliIO } from '../io.js'

export function register(program: Command, _io: CliIO): void {
  program.command('keygen').description('(not built yet)')
}
