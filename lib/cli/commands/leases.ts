// `flr leases`: admin: who holds what ([WIRE-8]).
import type { Command } from 'commander'
import { CommandFailed, json, table, type CliIO } from '../io.js'
import { adminOptions, withAdmin, type AdminOptions } from '../admin-session.js'

export function register(program: Command, io: CliIO): void {
  adminOptions(
    program
      .command('leases')
      .description('admin: list the leases held (pack, holder, client, address, since, expires)')
      .argument('[pack]', 'only this pack'),
  )
    .option('--json', 'print {"leases": [...]} as JSON')
    .action(async (pack: string | undefined, opts: AdminOptions & { json?: boolean }) => {
      const { leases, packs } = await withAdmin(opts, io, async (c) => {
        const reply = await c.request('leases', pack ? { pack } : {})
        // the server answers an unknown pack with no leases: tell a typo from an idle pack
        return { leases: reply.leases, packs: pack ? (await c.status()).packs.map((p) => p.name) : [] }
      })
      if (pack && !packs.includes(pack)) {
        throw new CommandFailed(`no such pack: ${pack} (the LPF in force has ${packs.length ? packs.join(', ') : 'no packs'})`, 1, 'PACK_UNKNOWN')
      }
      if (opts.json) return io.out(json({ leases }))
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
