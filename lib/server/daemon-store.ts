// [HA-1] Which store the daemon runs on, and what that makes of it: LMDB (one node, the default)
// or PostgreSQL, where the daemon is a cluster node and always runs leadership ([HA-3]: a
// cluster of one is still fenced). Kept out of daemon.ts, which stays the composition root.
import type { SeatEngine } from '../engine/engine.js'
import type { LeaseStore } from '../engine/types.js'
import { openLeaseStore, type LmdbLeaseStore } from '../store/lease-store.js'
import { openPgLeaseStore, type PgLeaseStore } from '../store/pg-lease-store.js'
import type { StoreScreen } from '../store/store-screen.js'
import type { Clock } from '../util/clock.js'
import type { Logger } from './logger.js'
import { ClusterRole, type RoleFront } from './role.js'

export type DaemonStore = LmdbLeaseStore | PgLeaseStore

/** `--store`: `lmdb` (or nothing) or a `postgres://` / `postgresql://` URL */
export function isPostgresUrl(store: string | undefined): store is string {
  return store !== undefined && /^postgres(ql)?:\/\//i.test(store)
}

export interface OpenedStore {
  store: DaemonStore
  /** set on the PostgreSQL store once the daemon has made its role (the store's fence asks it) */
  bindRole(role: ClusterRole | undefined): void
}

export async function openDaemonStore(cfg: { store?: string; stateDir: string; hostId: string; storeScreen?: Promise<StoreScreen>; cluster?: { leaderTtlMs: number }; historyDays?: number }): Promise<OpenedStore> {
  if (!isPostgresUrl(cfg.store)) {
    // [OBS-2] --history-days 0 keeps no history
    const store = await openLeaseStore({ stateDir: cfg.stateDir, hostId: cfg.hostId, screened: cfg.storeScreen, history: cfg.historyDays !== 0 })
    return { store, bindRole: () => {} }
  }
  let role: ClusterRole | undefined
  const store = await openPgLeaseStore({
    url: cfg.store,
    hostId: cfg.hostId,
    // [HA-3] every write transaction checks this node's term; until the role exists, none
    fence: { term: () => role?.fence.term(), node: cfg.hostId, lost: () => role?.lost() },
    // [HA-5] a leader frozen inside a fenced write must not hold flr_leader's row past its term
    idleInTransactionMs: cfg.cluster?.leaderTtlMs ?? 5_000,
  })
  return { store, bindRole: (r) => (role = r) }
}

export interface RoleParts {
  url: string
  store: PgLeaseStore
  hostId: string
  cluster: { advertise: string; leaderTtlMs: number; leaderRenewMs: number }
  clock: Clock
  log: Logger
  makeEngine(store: LeaseStore): SeatEngine
  leasePort(): number | undefined
  httpPort(): number | null
  lpfDigest(): string | undefined
  canLead(): boolean
  front: RoleFront
}

export function makeRole(p: RoleParts): ClusterRole {
  return new ClusterRole({
    url: p.url,
    store: p.store,
    hostId: p.hostId,
    advertise: p.cluster.advertise,
    ttlMs: p.cluster.leaderTtlMs,
    renewMs: p.cluster.leaderRenewMs,
    clock: p.clock,
    log: p.log,
    makeEngine: p.makeEngine,
    leasePort: p.leasePort,
    httpPort: p.httpPort,
    lpfDigest: p.lpfDigest,
    canLead: p.canLead,
    front: p.front,
  })
}
