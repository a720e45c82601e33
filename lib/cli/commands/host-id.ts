// `flr host-id`: prints this host's id, the name a vendor issues an LPF to ([HOST-1], [HOST-2]).
import type { Command } from 'commander'
import { json, type CliIO } from '../io.js'
import { resolveHostId } from '../../lpf/host-id.js'

export function register(program: Command, io: CliIO): void {
  program
    .command('host-id')
    .description("print this host's id: send it to the vendor, who issues <hostId>.lp for it")
    .option('--json', 'print {"hostId", "overridden"} as JSON')
    .addHelpText(
      'after',
      '\nThe id comes from /etc/machine-id, else /sys/class/dmi/id/product_uuid, else the MAC addresses.\n' +
        'FLR_HOST_ID overrides it (containers, tests).\n\nExamples:\n  flr host-id\n  flr host-id --json',
    )
    .action((opts: { json?: boolean }) => {
      const { hostId, overridden } = resolveHostId({ env: io.env.FLR_HOST_ID })
      if (opts.json) return io.out(json({ hostId, overridden }))
      io.out(hostId)
      if (overridden) io.err('flr: note: this host id comes from FLR_HOST_ID, not from the machine')
    })
}
