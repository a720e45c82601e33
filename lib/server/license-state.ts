// The shapes around the license keeper: its state, its answers, and what it is given (ports,
// the engine's serving switch, file reading and loading, the clock).
import type { LicensePlan, PackPlan } from '../lpf/plan.js'
import type { LpfSummary, Problem } from '../protocol/replies.js'
import type { Clock } from '../util/clock.js'
import type { LpfFile } from './lpf-file.js'
import type { Logger } from './logger.js'

/** ioredis style: what the server does with its license, and only what that state needs. */
export type LicenseState =
  /** [SRV-1] no valid LPF yet: no leases, no lease port */
  | { kind: 'waiting'; why: Problem }
  | { kind: 'serving'; plan: LicensePlan; loadedAt: string }
  /** [SRV-3] the file is gone, the plan still serves until `until` */
  | { kind: 'grace'; plan: LicensePlan; loadedAt: string; until: number }
  /** [SRV-3] removed or [SRV-6] expired: every lease revoked, NOT_SERVING until a valid file */
  | { kind: 'stopped'; plan: LicensePlan; loadedAt: string; why: Problem }

/** [SRV-5] The ports the keeper asks for; the TCP front binds, moves and retires them. */
export interface PortUse {
  /** the port listened on, if any */
  readonly port: number | undefined
  /** listens on `port` (nothing to do when already there); the problem when it cannot be bound */
  use(port: number): Promise<Problem | undefined>
}

/** What the keeper drives of the seat engine. */
export interface ServingEngine {
  applyPlan(packs: readonly PackPlan[]): void
  stopServing(reason: 'lpf-removed' | 'lpf-expired'): void
}

export interface KeeperOptions {
  clock: Clock
  /** wall time, for a file's age: its mtime is wall time (default Date.now) */
  wallNow?: () => number
  /** the file's bytes, undefined when there is none; throws an FlrError when it cannot be read */
  read(): Promise<LpfFile | undefined>
  /**
   * screen → verify → parse → check at `now`; throws (or rejects with) an FlrError ([LPF-8]).
   * The daemon's runs on a worker thread ([LPF-6], lpf/judge.ts); `signal` aborts at close.
   */
  load(data: Buffer, now: number, signal: AbortSignal): LicensePlan | Promise<LicensePlan>
  ports: PortUse
  engine: ServingEngine
  log: Logger
  /** for messages: `<hostId>.lp` and where it is expected */
  fileName: string
  licenseDir: string
  /** [SRV-3] how long a removed file must stay removed */
  removalGraceMs: number
  /** [SRV-2] the periodic re-check */
  recheckMs: number
  /** [SRV-2] a file failing within this long of its last write is judged again once quiet */
  quietMs: number
  /** [SRV-1] the other `*.lp` files in the license directory (an LPF saved under another name) */
  misnamed?(): string[]
  /** after every change of state or port: the serve record (serve-record.ts) follows it */
  onChange?(): void
  /** [HA-2] the lease store is shared by the nodes (PostgreSQL); false (LMDB, the default): a cluster LPF is refused */
  sharedStore?: boolean
  /** [LPF-2] `--grace`, which may shorten the LPF's grace and never lengthen it; undefined when not given */
  graceMs?: number
}

/** [WIRE-7] the LPF in force as status shows it, with its hosts, grace and digest ([LPF-2]; a cluster compares digests across nodes) */
export function lpfSummary(plan: LicensePlan, loadedAt: string): LpfSummary {
  const { vendor, generated, expiration, hostId, port, grace, digest } = plan
  return { vendor, generated, expiration, hostId, port, hosts: plan.hosts.map((h) => ({ ...h })), grace, digest, loadedAt }
}
