// What the server makes of a verified LPF beyond the file itself: a cluster LPF needs a shared
// store ([HA-2]), and the grace period clients are told is the vendor's cap or `--grace` if
// shorter ([LPF-2], [WIRE-4]). The license keeper asks these when a plan comes in.
import { FlrError } from '../errors.js'
import { DEFAULT_GRACE_MS, formatGrace } from '../lpf/plan-rules.js'
import type { LicensePlan } from '../lpf/plan.js'
import type { Logger } from './logger.js'

/**
 * [HA-2] A cluster LPF on a store this node alone holds (LMDB): two nodes each with their own
 * store would each grant every seat. Refused, with what to do.
 */
export function clusterRefusal(plan: LicensePlan, sharedStore: boolean, fileName: string): FlrError | undefined {
  if (plan.hosts.length < 2 || sharedStore) return undefined
  const ids = plan.hosts.map((h) => h.hostId)
  return new FlrError(
    'LPF_NEEDS_SHARED_STORE',
    `${fileName} is a cluster LPF for ${ids.length} hosts (${ids.join(', ')}): it is served only when every node keeps its leases ` +
      'in one shared PostgreSQL database, and this server keeps them in LMDB on this host, where each node would grant every seat ' +
      'on its own; start every node listed with the same --store postgres://user@db-host/flr, or ask the vendor for an LPF that lists only this host',
    { hosts: ids },
  )
}

/**
 * [LPF-2] [WIRE-4] The grace period hello advertises: the LPF's `grace` (the vendor's cap), or
 * `--grace` when that is shorter. A longer `--grace` is ignored, with a warning when the server
 * starts serving and whenever a new LPF changes the cap it is held to.
 */
export class GraceCap {
  /** the cap of the LPF in force; undefined before the first one */
  private cap: number | undefined

  /** `requestedMs`: `--grace`, undefined when not given */
  constructor(private readonly requestedMs: number | undefined, private readonly log: Logger) {}

  /** what clients are told; before any LPF, the default cap (no lease is granted meanwhile anyway) */
  get effectiveMs(): number {
    const cap = this.cap ?? DEFAULT_GRACE_MS
    return this.requestedMs === undefined ? cap : Math.min(this.requestedMs, cap)
  }

  /** `plan` is in force from now */
  apply(plan: LicensePlan): void {
    const previous = this.cap
    this.cap = plan.grace
    if (this.requestedMs === undefined || this.requestedMs <= plan.grace || plan.grace === previous) return
    this.log.warn(
      { requestedGraceMs: this.requestedMs, lpfGraceMs: plan.grace, graceMs: this.effectiveMs },
      `--grace ${formatGrace(this.requestedMs)} is ignored: the LPF allows a grace period of at most ${formatGrace(plan.grace)} ` +
        `(its grace attribute, set by the vendor), so clients are told ${formatGrace(plan.grace)}`,
    )
  }
}
