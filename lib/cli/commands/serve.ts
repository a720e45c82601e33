// `flr serve`: runs the daemon until Ctrl-C/SIGTERM ([SRV-8]).
import { fileURLToPath } from 'node:url'
import { join, resolve } from 'node:path'
import { readFileSync } from 'node:fs'
import { Command, Option } from 'commander'
import { CommandFailed, type CliIO } from '../io.js'
import { bindOption, countOption, durationOption, GRACE_BOUNDS, LEADER_TIME_BOUNDS, LEASE_TTL_BOUNDS, portOption } from '../options.js'
import { recordServe } from '../serve-lifecycle.js'
import { resolveHostId } from '../../lpf/host-id.js'
import { screenStore } from '../../store/store-screen.js'
import { redactUrl } from '../../store/pg-url.js'
import type { Daemon, DaemonConfig } from '../../server/daemon.js'
import type { Logger } from '../../server/logger.js'
import { isFlrError } from '../../errors.js'
import { ensurePrivateDir, tightenContents, type Tightened } from '../../util/private-files.js'
import type { TlsSetting } from '../../server/tls-config.js'
import { readClientTokens } from '../../server/client-auth.js'
import { hostname } from 'node:os'
import { checkLeaderTimes } from '../../cluster/leadership.js'

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
  clientTokenFile?: string
  httpPack: string
  maxConnections: string
  maxConnectionsPerAddress: string
  logDir?: string
  logLevel: string
  advertise?: string
  store?: string
  leaderTtl: string
  leaderRenew: string
  historyDays: string
}

export function register(program: Command, io: CliIO): void {
  program
    .command('serve')
    .description('run the license server: verify <hostId>.lp from the license directory and lease its packs')
    .option('--demo', 'sign lpf-samples/ for this host with a demo vendor key and serve it (what npm start runs)')
    .option('--license-dir <dir>', 'where the admin drops <hostId>.lp')
    .option('--state-dir <dir>', 'lease store, lock, admin password, the ports record (one daemon per state directory); also FLR_STATE_DIR')
    .option('--vendor-key <file...>', "the vendor's public key(s), PEM; only LPFs signed by them are trusted")
    .option('--host-id <id>', "override this machine's host id (containers, tests); also FLR_HOST_ID")
    .option('--bind <addr>', 'address the lease port and HTTP shim listen on', '0.0.0.0')
    .option('--lease-ttl <duration>', 'lease lifetime from grant or last renew, 1s to 1h', '30s')
    .option('--grace <duration>', "how long clients keep leases while the server is unreachable (advertised in hello), 0s to 30d; shortens the LPF's grace (7d when it sets none), never lengthens it")
    .option('--http-port <port>', 'HTTP shim port; 0 picks a free one', '7070')
    .option('--no-http', 'turn the HTTP shim off')
    .option('--https-port <port>', 'HTTPS shim port (needs --tls-cert)')
    .option('--tls-cert <file|auto>', 'PEM certificate: the lease port then speaks TLS only, and HTTPS uses it too; "auto": a self-signed one for this host, kept in the state directory')
    .option('--tls-key <file>', "PEM private key of --tls-cert (not with auto)")
    .option('--client-token-file <file>', 'require a client token (FLR_CLIENT_TOKEN) for every lease op; lines NAME TOKEN: a holder\'s lease is tied to the NAME that took it (needs --no-http)')
    .option('--http-pack <name>', 'pack leased by POST /request when the body names none', 'Agent-Session')
    .option('--max-connections <n>', 'TCP connections at most; a further one gets SERVER_BUSY', '10000')
    .option('--max-connections-per-address <n>', 'TCP connections at most from one peer address; a further one gets SERVER_BUSY', '1000')
    .option('--history-days <days>', 'how long the usage history (flr report) is kept, in days; 0 keeps none', '400')
    .option('--log-dir <dir>', 'flr.log and the daily HTTP access logs (default <state-dir>/logs)')
    .option('--store <lmdb|url>', 'where leases live: lmdb (default, in --state-dir) or postgres://… shared by a cluster; also FLR_STORE')
    .option('--advertise <host>', 'the host name or address other nodes and clients reach this node at (default: the host name)')
    .option('--leader-ttl <duration>', 'how long a leadership term lasts without renewal (PostgreSQL store)', '5s')
    .option('--leader-renew <duration>', 'how often the leader renews its term; under half of --leader-ttl', '1s')
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

/** [HA-3] [HA-4] validated up front, naming the option: a renewal must have room to fail once */
function clusterOptions(opts: ServeOptions): NonNullable<DaemonConfig['cluster']> {
  const leaderTtlMs = durationOption(opts.leaderTtl, '--leader-ttl', LEADER_TIME_BOUNDS)
  const leaderRenewMs = durationOption(opts.leaderRenew, '--leader-renew', LEADER_TIME_BOUNDS)
  const wrong = checkLeaderTimes(leaderTtlMs, leaderRenewMs)
  if (wrong) throw new CommandFailed(wrong, 2)
  return { advertise: opts.advertise ?? hostname(), leaderTtlMs, leaderRenewMs }
}

/** [HA-1] `lmdb` or a PostgreSQL URL; anything else is a usage error naming the option */
function storeOption(store: string | undefined): string | undefined {
  if (store === undefined || store === '' || store === 'lmdb') return undefined
  if (/^postgres(ql)?:\/\//i.test(store)) return store
  throw new CommandFailed('--store takes lmdb or a postgres:// URL', 2)
}

async function serve(opts: ServeOptions, io: CliIO): Promise<void> {
  // [SRV-8] listen for SIGTERM/SIGINT from the start: one that comes while the daemon starts
  // stops it cleanly as soon as it is up, instead of killing it halfway
  const interrupted = io.interrupted
  const { hostId, overridden } = resolveHostId({ flag: opts.hostId, env: io.env.FLR_HOST_ID })
  const stateDir = opts.stateDir ?? io.env.FLR_STATE_DIR ?? (opts.demo ? join(DEMO_DIR, 'state') : undefined)
  const licenseDir = opts.licenseDir ?? (opts.demo ? join(DEMO_DIR, 'licenses') : undefined)
  if (!licenseDir || !stateDir || !(opts.demo || opts.vendorKey?.length)) {
    throw new CommandFailed('flr serve needs --license-dir, --state-dir and --vendor-key (or --demo); see flr serve --help', 2)
  }
  const tls = tlsSetting(opts)
  // the HTTP shim has no way to present a token: it would be a way around it
  if (opts.clientTokenFile !== undefined && opts.http) throw new CommandFailed('--client-token-file needs --no-http: the HTTP shim cannot present a client token', 2)
  if (opts.httpsPort !== undefined && !tls) {
    throw new CommandFailed('--https-port needs --tls-cert and --tls-key (PEM files), or --tls-cert auto', 2)
  }
  // every option is checked before anything starts: a bad one is a usage error naming it
  if (tls && 'certFile' in tls) for (const [file, flag] of [[tls.certFile, '--tls-cert'], [tls.keyFile, '--tls-key']] as const) readPem(file, flag)
  const checked = {
    bind: bindOption(opts.bind),
    leaseTtlMs: durationOption(opts.leaseTtl, '--lease-ttl', LEASE_TTL_BOUNDS),
    // [LPF-2] undefined when not given: the LPF's grace then applies
    graceMs: opts.grace === undefined ? undefined : durationOption(opts.grace, '--grace', GRACE_BOUNDS),
    // checked even with --no-http (which commander lets win): a typo is said, not ignored
    httpPort: portOption(opts.httpPort, '--http-port'),
    httpsPort: opts.httpsPort === undefined ? null : portOption(opts.httpsPort, '--https-port'),
    maxConnections: countOption(opts.maxConnections, '--max-connections'),
    maxConnectionsPerAddress: countOption(opts.maxConnectionsPerAddress, '--max-connections-per-address'),
    historyDays: opts.historyDays === '0' ? 0 : countOption(opts.historyDays, '--history-days'),
  }
  // every file flr creates is its user's alone, whatever the umask it was started with; what
  // exists already is tightened below, and said in the log
  process.umask(0o077)
  const tightened: Parameters<Tightened>[0][] = []
  const note: Tightened = (what) => void tightened.push(what)
  ensurePrivateDir(stateDir, note)
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
  ensurePrivateDir(logDir, note)
  tightenContents(stateDir, note)
  tightenContents(logDir, note)
  const log = createLogger({ level: opts.logLevel, logDir })
  for (const t of tightened) log.warn(t, `${t.path} was ${t.was}: tightened to ${t.now} (only flr's user may read the state directory, logs and keys)`)
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
    ...checked,
    httpPort: opts.http ? checked.httpPort : null,
    tls,
    clientTokens: opts.clientTokenFile === undefined ? undefined : readClientTokens(opts.clientTokenFile),
    httpPack: opts.httpPack,
    logDir,
    storeScreen,
    store: storeOption(opts.store ?? io.env.FLR_STORE),
    cluster: clusterOptions(opts),
  }
  // [SRV-1] the record of the real ports and of why nothing is served follows every change
  const record = recordServe(config, log)
  const daemon = await startOrLog(() => Daemon.start(config), log, checked.bind).catch((e: unknown) => {
    record.stopped()
    throw e
  })
  record.started(daemon)
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
      // [HA-1] which store, never its password: the bundle copies this file as is
      store: config.store ? redactUrl(config.store) : 'lmdb',
    })
  } catch (e) {
    log.warn({ err: e }, 'could not write the config snapshot used by support bundles; serving anyway')
  }
  if (opts.demo) io.err(demoText(daemon, opts.httpPack))
  await interrupted
  log.info('signal received: shutting down')
  await daemon.stop()
  record.stopped()
  log.flush()
}

/**
 * [SRV-7] [LEASE-9] a refusal to start (STATE_LOCKED, PORT_IN_USE, STORE_WRONG_HOST,
 * STORE_DAMAGED) goes to the log as well as to stderr: whoever reads flr.log to learn why
 * the server is not running finds the code and what to do there.
 */
async function startOrLog(start: () => Promise<Daemon>, log: Logger, bind: string): Promise<Daemon> {
  try {
    return await start()
  } catch (e) {
    const failure = isFlrError(e) ? e : bindFailure(e, bind)
    if (failure) log.error({ code: failure instanceof CommandFailed ? 'USAGE' : failure.code }, `not starting: ${failure.message}`)
    else log.error({ err: e }, 'not starting: unexpected error')
    log.flush()
    throw failure ?? e
  }
}

/** [TLS-1] --tls-cert F --tls-key F, or --tls-cert auto */
function tlsSetting(opts: ServeOptions): TlsSetting | undefined {
  if (opts.tlsCert === undefined) {
    if (opts.tlsKey !== undefined) throw new CommandFailed('--tls-key needs --tls-cert', 2)
    return undefined
  }
  if (opts.tlsCert === 'auto') {
    if (opts.tlsKey !== undefined) throw new CommandFailed('--tls-cert auto makes its own key: leave out --tls-key', 2)
    return { auto: true }
  }
  if (opts.tlsKey === undefined) throw new CommandFailed('--tls-cert needs --tls-key (the PEM private key), or use --tls-cert auto', 2)
  return { certFile: resolve(opts.tlsCert), keyFile: resolve(opts.tlsKey) }
}

/** A --bind address that looks right but is not this host's, or a name that does not resolve: the option is wrong. */
function bindFailure(e: unknown, bind: string): CommandFailed | undefined {
  const code = (e as NodeJS.ErrnoException).code
  if (code === 'EADDRNOTAVAIL') return new CommandFailed(`--bind: ${bind} is not an address of this host (EADDRNOTAVAIL); use one of its addresses, or 0.0.0.0 for all`, 2)
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new CommandFailed(`--bind: the host name ${bind} does not resolve (${code})`, 2)
  return undefined
}

function readPem(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (e) {
    throw new CommandFailed(`${flag}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 2)
  }
}

/** What `npm start` prints: where it serves, and what a client and an agent would send. */
function demoText(daemon: Daemon, httpPack: string): string {
  const where = daemon.leasePort ? `port ${daemon.leasePort}` : 'no port (see the log)'
  const lines = [`flr demo: serving the sample packs on ${where}. In another terminal: flr lease station   (or flr status; from a clone, npx flr … in its directory)`]
  if (daemon.httpPort !== null) {
    lines.push(
      `An agent (HTTP shim, pack ${httpPack}) would send:`,
      `  curl -s -X POST http://127.0.0.1:${daemon.httpPort}/request -H 'Content-Type: application/json' -d '{"client": "agent-1"}'`,
    )
  }
  return lines.join('\n')
}
