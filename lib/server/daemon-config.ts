// What `flr serve` (and the tests) hand the daemon, and the defaults for what they leave out:
// one place that says what each option means and which clause it serves. Moved out of daemon.ts
// so that the composition root only wires rooms together; behaviour unchanged.
import { hostname } from 'node:os'
import type { KeyObject } from 'node:crypto'
import type { StoreScreen } from '../store/store-screen.js'
import type { Clock } from '../util/clock.js'
import type { ConnectionLimits } from './connection.js'
import type { TlsSetting } from './tls-config.js'
import type { Logger } from './logger.js'

export interface DaemonConfig {
  licenseDir: string
  stateDir: string
  vendorKeys: KeyObject[]
  hostId: string
  log: Logger
  /** address the lease port binds to */
  bind?: string
  leaseTtlMs?: number
  graceMs?: number
  /** null turns the HTTP shim off ([SEC 7] --no-http) */
  httpPort?: number | null
  httpsPort?: number | null
  /** [TLS-1] the lease port speaks TLS only, and the HTTPS shim shares the certificate; tests shorten the timeout */
  tls?: TlsSetting
  tlsHandshakeTimeoutMs?: number
  clientTokens?: Map<string, string> // --client-token-file (client-auth.ts)
  httpPack?: string
  maxConnections?: number
  /** [WIRE-10] --max-connections-per-address */
  maxConnectionsPerAddress?: number
  /** [WIRE-10] per-connection timeouts and reply bound; not a CLI option: tests shorten them */
  connectionLimits?: Partial<ConnectionLimits>
  logDir?: string
  clock?: Clock
  /** [SRV-3] how long a removed file must stay removed */
  removalGraceMs?: number
  /** [SRV-2] the periodic re-check */
  recheckMs?: number
  /** [SRV-5] how long old connections live after `moving` */
  moveCloseMs?: number
  /** [HA-1] `lmdb` (the default) or a postgres:// URL */
  store?: string
  /** [HA-3] [HA-4] on the PostgreSQL store: --advertise, --leader-ttl, --leader-renew */
  cluster?: { advertise: string; leaderTtlMs: number; leaderRenewMs: number }
  /** [LEASE-9] the store's screen, started early (screenStore) to overlap start-up; used once the lock is held */
  storeScreen?: Promise<StoreScreen>
  /** after every change of the LPF's state or the lease port (flr serve's record, serve-record.ts) */
  onChange?: () => void
  /** [OBS-2] --history-days: how long the usage history is kept (default 400; 0: none is kept) */
  historyDays?: number
}

const DEFAULTS = {
  bind: '0.0.0.0',
  leaseTtlMs: 30_000,
  httpPort: 7070 as number | null,
  httpsPort: null as number | null,
  httpPack: 'Agent-Session',
  maxConnections: 10_000,
  maxConnectionsPerAddress: 1_000,
  removalGraceMs: 5_000,
  recheckMs: 60_000,
  moveCloseMs: 5_000,
  cluster: { advertise: hostname(), leaderTtlMs: 5_000, leaderRenewMs: 1_000 },
}

/** the config with every option it leaves out (or gives as undefined) at its default */
export type ResolvedDaemonConfig = DaemonConfig & typeof DEFAULTS

export function withDefaults(cfg: DaemonConfig): ResolvedDaemonConfig {
  return { ...DEFAULTS, ...(stripUndefined(cfg) as DaemonConfig) }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
