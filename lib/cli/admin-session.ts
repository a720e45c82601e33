// Admin commands: connect, read the password ([ADM-3]: prompt, else FLR_ADMIN_PASSWORD, else -p), auth.
import type { Command } from 'commander'
import { CommandFailed, type CliIO } from './io.js'
import { serverAddress, SERVER_OPTION_HELP } from './server-address.js'
import { STATE_DIR_OPTION_HELP } from './local-server.js'
import { FlrClient } from '../client/client.js'
import { clientToken, tlsFrom, tlsOptions, type TlsFlags } from './tls-options.js'

export interface AdminOptions extends TlsFlags {
  server?: string
  stateDir?: string
  password?: string
}

export function adminOptions(command: Command): Command {
  return tlsOptions(command)
    .option('--server <host:port>', SERVER_OPTION_HELP)
    .option('--state-dir <dir>', STATE_DIR_OPTION_HELP)
    .option('-p, --password <password>', 'admin password (prefer the prompt or FLR_ADMIN_PASSWORD: shells record command lines)')
}

export async function adminPassword(opts: AdminOptions, io: CliIO): Promise<string> {
  if (opts.password !== undefined) {
    io.err('warning: a password on the command line is recorded by shells and visible to other users; prefer the prompt or FLR_ADMIN_PASSWORD')
    return opts.password
  }
  if (io.prompt) return io.prompt('Admin password: ')
  if (io.env.FLR_ADMIN_PASSWORD) return io.env.FLR_ADMIN_PASSWORD
  throw new CommandFailed('no admin password: run in a terminal to be prompted, or set FLR_ADMIN_PASSWORD', 2)
}

/** Runs `work` on an authenticated admin connection and closes it. */
export async function withAdmin<T>(opts: AdminOptions, io: CliIO, work: (client: FlrClient) => Promise<T>): Promise<T> {
  const password = await adminPassword(opts, io)
  const client = await FlrClient.connect({ ...serverAddress(opts.server, io.env, opts.stateDir), client: 'flr-admin', reconnect: false, tls: tlsFrom(opts, io.env), ...clientToken(io.env) })
  try {
    await client.request('auth', { password })
    return await work(client)
  } finally {
    client.close()
  }
}
