// PLACEHOLDER: replaced by the module that implements `flr host-id`.
import type { Command } from 'commander'
import type { CliIO } from '../io.js'

export function register(program: Command, _io: CliIO): void {
  program.command('host-id').description('(not built yet)')
}
