// PLACEHOLDER: replaced by the module that implements `flr status`.
import type { Command } from 'commander'
import type { CliIO } from '../io.js'

export function register(program: Command, _io: CliIO): void {
  program.command('status').description('(not built yet)')
}
