// `flr revoke LEASE`: admin: free a stuck seat ([WIRE-8]); the holder gets `revoked` (reason admin).
import type { Command } from 'commander'
import type { CliIO } from '../io.js'
import { adminOptions, withAdmin, type AdminOptions } from '../admin-session.js'

/** [LEASE-4] a lease id: 128 bits in base64url, 22 characters — one in 64 starts with '-' */
const DASHED_LEASE_ID = /^-[A-Za-z0-9_-]{21}$/

export function register(program: Command, io: CliIO): void {
  const command = adminOptions(
    program
      .command('revoke')
      .description('admin: free a stuck seat by revoking its lease (ids from flr leases)')
      .argument('<lease>', 'the lease id'),
  ).action(async (lease: string, opts: AdminOptions) => {
    await withAdmin(opts, io, (c) => c.request('revoke', { lease }))
    io.out(`Revoked ${lease}; its seat is free.`)
  })
  acceptDashedLeaseIds(command)
}

/**
 * Commander reads `-n2F6S8sQMlOmSmFyvUepw` as options (`-n` unknown, or `-p` with a value), so a
 * lease id that starts with '-' could not be revoked without `--`. Such a token is kept out of
 * option parsing unless it is the value of an option before it (a password may look the same).
 */
function acceptDashedLeaseIds(command: Command): void {
  const parseOptions = command.parseOptions.bind(command)
  command.parseOptions = (argv: string[]) => {
    const hidden = new Map<string, string>()
    const masked = argv.map((arg, i) => {
      if (!DASHED_LEASE_ID.test(arg) || takesValue(command, argv[i - 1])) return arg
      const stand = `lease#${hidden.size}`
      hidden.set(stand, arg)
      return stand
    })
    const { operands, unknown } = parseOptions(masked)
    const restore = (arg: string) => hidden.get(arg) ?? arg
    return { operands: operands.map(restore), unknown: unknown.map(restore) }
  }
}

function takesValue(command: Command, flag: string | undefined): boolean {
  const option = flag === undefined ? undefined : command.options.find((o) => o.short === flag || o.long === flag)
  return option !== undefined && (option.required || option.optional)
}
