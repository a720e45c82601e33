// PLACEHOLDER: replaced by the module that implements `flr support-bundle`.
import type { Command } from 'commander'
import type { CliIO } from '../io.js'

export function register(program: Command, _io: CliIO): void {
  program.command('support-bundle').description('(not built yet)')
}
