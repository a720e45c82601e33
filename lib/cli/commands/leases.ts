// `flr leases`: admin: who holds what ([WIRE-8]).
import type { Command } from 'commander'
import { json, table, type CliIO } from '../io.js'
import { adminOptions, withAdmin, type AdminOptions } from '../admin-session.js'

export function register(program: Command, io: CliIO): void {
  adminOptions(
    program
      .command('leases')
      .description('admin: list the leases held (pack, holder, client, address, since, expires)')
      .argument('[pack]', 'only this pack'),
  )
    .option('--json', 'print the leases as JSON')
    .action(async (pack: string | undefined, opts: AdminOptions & { json?: boolean }) => {
      const reply = await withAdmin(opts, io, (c) => c.request('leases', pack ? { pack } : {}))
      const { leases } = reply
      if (opts.json) return io.out(json(leases))
      if (leases.length === 0) return io.out(pack ? `No leases on ${pack}.` : 'No leases.')
      io.out(
        table(
          ['Lease', 'Pack', 'Holder', 'Client', 'Address', 'Since', 'Expires'],
          leases.map((l) => [l.lease, l.pack, l.holder, l.client, l.address, iso(l.grantedAt), iso(l.expiresAt)]),
        ),
      )
    })
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z')
}
