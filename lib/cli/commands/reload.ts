// `flr reload`: admin: read <hostId>.lp again now ([WIRE-8] reload, [SRV-2]) instead of waiting
// for the watcher or the 60 s re-check; says whether a new LPF was applied, or why not.
import type { Command } from 'commander'
import { CommandFailed, json, type CliIO } from '../io.js'
import { adminOptions, withAdmin, type AdminOptions } from '../admin-session.js'

export function register(program: Command, io: CliIO): void {
  adminOptions(program.command('reload').description('admin: read the LPF again now; says whether a new one was applied, or why not'))
    .option('--json', 'print {"applied", "error"?} as JSON')
    .action(async (opts: AdminOptions & { json?: boolean }) => {
      const answer = await withAdmin(opts, io, (c) => c.request('reload'))
      if (opts.json) io.out(json({ ...answer }))
      else if (answer.applied) io.out(answer.error ? `Applied, with a problem: ${answer.error.code}: ${answer.error.message}` : 'Applied the LPF.')
      else if (!answer.error) io.out('Nothing new: the LPF in force is the one on disk.')
      // not applied, and why: a failure (exit 1), with the code for scripts
      if (!answer.applied && answer.error) {
        if (opts.json) throw new CommandFailed(answer.error.message, 1, answer.error.code)
        throw new CommandFailed(`not applied: ${answer.error.code}: ${answer.error.message}`, 1, answer.error.code)
      }
    })
}
