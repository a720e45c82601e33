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

/** Where and how every CLI command reaches the server: --server (else the local server's record), TLS, the site token. */
export function reachOptions(opts: Omit<AdminOptions, 'password'>, io: CliIO) {
  return { ...serverAddress(opts.server, io.env, opts.stateDir), tls: tlsFrom(opts, io.env), ...clientToken(io.env) }
}

/** Runs `work` on a connection of its own, as `client`, and closes it. */
export async function withClient<T>(opts: Omit<AdminOptions, 'password'>, io: CliIO, client: string, work: (client: FlrClient) => Promise<T>): Promise<T> {
  const connected = await FlrClient.connect({ ...reachOptions(opts, io), client, reconnect: false })
  try {
    return await work(connected)
  } finally {
    connected.close()
  }
}

/** Runs `work` on an authenticated admin connection and closes it. */
export async function withAdmin<T>(opts: AdminOptions, io: CliIO, work: (client: FlrClient) => Promise<T>): Promise<T> {
  const password = await adminPassword(opts, io)
  return withClient(opts, io, 'flr-admin', async (client) => {
    await client.request('auth', { password })
    return work(client)
  })
}
