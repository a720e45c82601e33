// `flr lease PACK`: takes a lease, keeps it renewed until Ctrl-C, then releases it.
import { hostname, userInfo } from 'node:os'
import type { Command } from 'commander'
import { CommandFailed, json, type CliIO } from '../io.js'
import { SERVER_OPTION_HELP } from '../server-address.js'
import { reachOptions } from '../admin-session.js'
import { STATE_DIR_OPTION_HELP } from '../local-server.js'
import { parseDuration } from '../../util/duration.js'
import { FlrClient, type Lease } from '../../client/client.js'
import { MAX_WAIT_MS } from '../../protocol/fields.js'
import { tlsOptions, type TlsFlags } from '../tls-options.js'

interface LeaseOptions extends TlsFlags {
  server?: string
  stateDir?: string
  wait?: string
  holder?: string
  json?: boolean
}

export function register(program: Command, io: CliIO): void {
  tlsOptions(program
    .command('lease')
    .description('take a lease on PACK, keep it renewed until Ctrl-C, then release it')
    .argument('<pack>', 'the pack to lease')
    .option('--server <host:port>', SERVER_OPTION_HELP)
    .option('--state-dir <dir>', STATE_DIR_OPTION_HELP)
    .option('--wait <duration>', 'wait this long for a free seat (e.g. 30s; at most 10m)')
    .option('--holder <name>', 'hold the lease as NAME (default: user@host)')
    .option('--json', 'print the lease as JSON')
    .addHelpText('after', '\nExample:\n  flr lease station --wait 30s'))
    .action(async (pack: string, opts: LeaseOptions) => lease(pack, opts, io))
}

/** How long the release after Ctrl-C may take before flr gives up on an unreachable server. */
const RELEASE_TIMEOUT_MS = 5_000

async function lease(pack: string, opts: LeaseOptions, io: CliIO): Promise<void> {
  const wait = opts.wait === undefined ? undefined : parseWait(opts.wait)
  const client = await FlrClient.connect({
    ...reachOptions(opts, io),
    client: `${userInfo().username}@${hostname()}`,
    app: 'flr lease',
  })
  try {
    // Ctrl-C during a --wait ends the wait: closing the connection cancels it ([LEASE-4])
    const held = await unlessInterrupted(client.lease(pack, { wait, holder: opts.holder }), io)
    if (!held) throw new CommandFailed(`interrupted while waiting for a seat of ${pack}; no lease was taken`)
    io.out(
      opts.json
        ? json({ lease: held.id, pack: held.pack, holder: held.holder, licenses: held.licenses })
        : `Leased ${held.pack} as ${held.holder}: lease ${held.id}\nKeeping it renewed; press Ctrl-C to release it.`,
    )
    const ended = new Promise<string>((resolve) => {
      held.once('revoked', (reason: string) => resolve(`the server revoked the lease (${reason})`))
      held.once('lost', (err: Error) => resolve(`the lease was lost: ${err.message}`))
    })
    const outcome = await Promise.race([io.interrupted.then(() => undefined), ended])
    if (outcome) throw new CommandFailed(outcome)
    await releaseOrGiveUp(held)
    if (!opts.json) io.out(`Released ${held.pack}.`)
  } finally {
    client.close()
  }
}

async function unlessInterrupted<T>(work: Promise<T>, io: CliIO): Promise<T | undefined> {
  work.catch(() => {}) // once interrupted, its rejection (the connection closing) is expected
  return Promise.race([work, io.interrupted.then(() => undefined)])
}

/** A server that is down cannot take the seat back; the lease then frees itself when it expires. */
async function releaseOrGiveUp(held: Lease): Promise<void> {
  const releasing = held.release()
  releasing.catch(() => {}) // awaited below, or abandoned once the timeout wins
  let timer: NodeJS.Timeout | undefined
  const gaveUp = new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), RELEASE_TIMEOUT_MS)))
  try {
    if ((await Promise.race([releasing, gaveUp])) === true) {
      throw new CommandFailed(`could not reach the server to release lease ${held.id} of ${held.pack}; the seat frees itself when the lease expires`)
    }
  } finally {
    clearTimeout(timer)
  }
}

function parseWait(text: string): number {
  let ms: number
  try {
    ms = parseDuration(text)
  } catch (e) {
    throw new CommandFailed(`--wait: ${(e as Error).message}`, 2)
  }
  if (ms > MAX_WAIT_MS) throw new CommandFailed(`--wait: at most 10m (${MAX_WAIT_MS.toLocaleString('en')} ms) [LEASE-5]`, 2)
  return ms
}
