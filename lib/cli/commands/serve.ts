// `flr serve`: runs the daemon until Ctrl-C/SIGTERM ([SRV-8]).
import { fileURLToPath } from 'node:url'
import { join, resolve } from 'node:path'
import { readFileSync } from 'node:fs'
import { Command, Option } from 'commander'
import { CommandFailed, type CliIO } from '../io.js'
import { parseDuration } from '../../util/duration.js'
import { resolveHostId } from '../../lpf/host-id.js'
import { screenStore } from '../../store/store-screen.js'
import type { Daemon, DaemonConfig } from '../../server/daemon.js'
import type { Logger } from '../../server/logger.js'
import { isFlrError } from '../../errors.js'

/** the repository's lpf-samples/, from dist/lib/cli/commands/ */
const SAMPLES_DIR = fileURLToPath(new URL('../../../../lpf-samples', import.meta.url))
const DEMO_DIR = '.flr-demo'

interface ServeOptions {
  demo?: boolean
  licenseDir?: string
  stateDir?: string
  vendorKey?: string[]
  hostId?: string
  bind: string
  leaseTtl: string
  grace?: string
  http: boolean
  httpPort: string
  httpsPort?: string
  tlsCert?: string
  tlsKey?: string
  httpPack: string
  maxConnections: string
  maxConnectionsPerAddress: string
  logDir?: string
  logLevel: string
  historyDays: string
}

export function register(program: Command, io: CliIO): void {
  program
    .command('serve')
    .description('run the license server: verify <hostId>.lp from the license directory and lease its packs')
    .option('--demo', 'sign lpf-samples/ for this host with a demo vendor key and serve it (what npm start runs)')
    .option('--license-dir <dir>', 'where the admin drops <hostId>.lp')
    .option('--state-dir <dir>', 'lease store, lock, admin password (one daemon per state directory)')
    .option('--vendor-key <file...>', "the vendor's public key(s), PEM; only LPFs signed by them are trusted")
    .option('--host-id <id>', "override this machine's host id (containers, tests); also FLR_HOST_ID")
    .option('--bind <addr>', 'address the lease port and HTTP shim listen on', '0.0.0.0')
    .option('--lease-ttl <duration>', 'lease lifetime from grant or last renew', '30s')
    .option('--grace <duration>', "how long clients keep leases while the server is unreachable (advertised in hello); shortens the LPF's grace (7d when it sets none), never lengthens it")
    .option('--http-port <port>', 'HTTP shim port; 0 picks a free one', '7070')
    .option('--no-http', 'turn the HTTP shim off')
    .option('--https-port <port>', 'HTTPS shim port (needs --tls-cert and --tls-key)')
    .option('--tls-cert <file>', 'PEM certificate for HTTPS')
    .option('--tls-key <file>', 'PEM private key for HTTPS')
    .option('--http-pack <name>', 'pack leased by POST /request when the body names none', 'Agent-Session')
    .option('--max-connections <n>', 'TCP connections at most; a further one gets SERVER_BUSY', '10000')
    .option('--max-connections-per-address <n>', 'TCP connections at most from one peer address; a further one gets SERVER_BUSY', '1000')
    .option('--history-days <days>', 'how long the usage history (flr report) is kept, in days; 0 keeps none', '400')
    .option('--log-dir <dir>', 'flr.log and the daily HTTP access logs (default <state-dir>/logs)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error']).default('info'))
    .addHelpText(
      'after',
      `
Examples:
  flr serve --license-dir /etc/flr/licenses --state-dir /var/lib/flr --vendor-key /etc/flr/acme.pub.pem
  flr serve --demo            # the sample packs, signed for this host with a demo key`,
    )
    .action(async (opts: ServeOptions) => serve(opts, io))
}

async function serve(opts: ServeOptions, io: CliIO): Promise<void> {
  // [SRV-8] listen for SIGTERM/SIGINT from the start: one that comes while the daemon starts
  // stops it cleanly as soon as it is up, instead of killing it halfway
  const interrupted = io.interrupted
  const { hostId, overridden } = resolveHostId({ flag: opts.hostId, env: io.env.FLR_HOST_ID })
  const stateDir = opts.stateDir ?? (opts.demo ? join(DEMO_DIR, 'state') : undefined)
  const licenseDir = opts.licenseDir ?? (opts.demo ? join(DEMO_DIR, 'licenses') : undefined)
  if (!licenseDir || !stateDir || !(opts.demo || opts.vendorKey?.length)) {
    throw new CommandFailed('flr serve needs --license-dir, --state-dir and --vendor-key (or --demo); see flr serve --help', 2)
  }
  if (opts.httpsPort !== undefined && !(opts.tlsCert && opts.tlsKey)) {
    throw new CommandFailed('--https-port needs --tls-cert and --tls-key (PEM files)', 2)
  }
  // [LEASE-8] restart time: the store's crash probe (a child process reading the whole file)
  // starts before this process loads the daemon's modules, and runs meanwhile; the store is
  // still opened only after it passed, and once the state lock is held ([LEASE-9], [SRV-7])
  const storeScreen = screenStore(stateDir)
  const [{ Daemon }, { createLogger }, { readVendorKeys }, { writeConfigSnapshot }, { exitOnUnexpected }] = await Promise.all([
    import('../../server/daemon.js'),
    import('../../server/logger.js'),
    import('../../lpf/load.js'),
    import('../../support/config-snapshot.js'),
    import('../../server/fatal.js'),
  ])
  const logDir = resolve(opts.logDir ?? join(stateDir, 'logs'))
  const log = createLogger({ level: opts.logLevel, logDir })
  // issue 13: from here on, an error nobody handled is logged with its cause, then exits non-zero
  exitOnUnexpected({ log })
  // [HOST-2] an override is in force: say so
  if (overridden) log.warn({ hostId }, 'host id overridden by --host-id or FLR_HOST_ID')
  let vendorKey = opts.vendorKey ?? []
  if (opts.demo) {
    // the signing side of the vendor tools: only the demo needs it
    const { prepareDemo } = await import('../../lpf/demo.js')
    const demo = prepareDemo({ samplesDir: SAMPLES_DIR, stateDir, licenseDir, hostId })
    vendorKey = [demo.vendorKeyPath]
    log.info({ lpf: demo.lpfPath, vendorKey: demo.vendorKeyPath }, 'demo mode: lpf-samples signed for this host with a demo vendor key')
  }

  const config: DaemonConfig = {
    licenseDir: resolve(licenseDir),
    stateDir: resolve(stateDir),
    vendorKeys: readVendorKeys(vendorKey),
    hostId,
    log,
    bind: opts.bind,
    leaseTtlMs: duration(opts.leaseTtl, '--lease-ttl'),
    graceMs: opts.grace === undefined ? undefined : duration(opts.grace, '--grace'),
    httpPort: opts.http ? port(opts.httpPort, '--http-port') : null,
    httpsPort: opts.httpsPort === undefined ? null : port(opts.httpsPort, '--https-port'),
    tls: opts.tlsCert && opts.tlsKey ? { cert: readFileSync(opts.tlsCert, 'utf8'), key: readFileSync(opts.tlsKey, 'utf8') } : undefined,
    httpPack: opts.httpPack,
    maxConnections: count(opts.maxConnections, '--max-connections'),
    maxConnectionsPerAddress: count(opts.maxConnectionsPerAddress, '--max-connections-per-address'),
    logDir,
    storeScreen,
    historyDays: opts.historyDays === '0' ? 0 : count(opts.historyDays, '--history-days'),
  }
  const daemon = await startOrLog(() => Daemon.start(config), log)
  // the snapshot only feeds support bundles: failing to write it is worth a warning, not the
  // end of a running daemon (which then exited without daemon.stop(): no shutdown push, [SRV-8])
  try {
    writeConfigSnapshot({
      startedAt: new Date().toISOString(),
      pid: process.pid,
      hostId,
      hostIdOverridden: overridden,
      licenseDir: config.licenseDir,
      stateDir: config.stateDir,
      logDir,
      vendorKeyFiles: vendorKey.map((f) => resolve(f)),
      bind: opts.bind,
      leaseTtlMs: config.leaseTtlMs!,
      graceMs: config.graceMs ?? null,
      httpPort: daemon.httpPort,
      httpsPort: daemon.httpsPort,
      httpPack: opts.httpPack,
      maxConnections: config.maxConnections!,
      logLevel: opts.logLevel,
    })
  } catch (e) {
    log.warn({ err: e }, 'could not write the config snapshot used by support bundles; serving anyway')
  }
  if (opts.demo) {
    const where = daemon.leasePort ? `port ${daemon.leasePort}` : 'no port (see the log)'
    io.err(`flr demo: serving the sample packs on ${where}. In another terminal: npx flr lease station   (or: npx flr status)`)
  }
  await interrupted
  log.info('signal received: shutting down')
  await daemon.stop()
  log.flush()
}

/**
 * [SRV-7] [LEASE-9] a refusal to start (STATE_LOCKED, PORT_IN_USE, STORE_WRONG_HOST,
 * STORE_DAMAGED) goes to the log as well as to stderr: whoever reads flr.log to learn why
 * the server is not running finds the code and what to do there.
 */
async function startOrLog(start: () => Promise<Daemon>, log: Logger): Promise<Daemon> {
  try {
    return await start()
  } catch (e) {
    if (isFlrError(e)) log.error({ code: e.code }, `not starting: ${e.message}`)
    else log.error({ err: e }, 'not starting: unexpected error')
    log.flush()
    throw e
  }
}

function duration(text: string, flag: string): number {
  try {
    return parseDuration(text)
  } catch (e) {
    throw new CommandFailed(`${flag}: ${(e as Error).message}`, 2)
  }
}

function port(text: string, flag: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CommandFailed(`${flag}: "${text}" is not a port (0-65535)`, 2)
  return n
}

function count(text: string, flag: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new CommandFailed(`${flag}: "${text}" is not a positive whole number`, 2)
  return n
}
