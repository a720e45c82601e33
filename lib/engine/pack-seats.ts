// One pack in force: its limit, its licenses text, who holds a seat, who waits for one.

import type { PackPlan } from '../lpf/plan.js'
import type { Grant, PackStatus } from './contract.js'
import type { LeaseEntry } from './lease-entry.js'
import { WaiterQueue } from './waiters.js'

export class PackSeats {
  /** holder -> its one lease of this pack, pending or live ([LEASE-2]) */
  readonly holders = new Map<string, LeaseEntry>()
  readonly waiters = new WaiterQueue()
  readonly name: string
  limit: number
  licenses: string

  constructor(plan: PackPlan) {
    this.name = plan.name
    this.limit = plan.limit
    this.licenses = plan.licenses
  }

  /** Seats are counted from the moment a grant is decided, durable or not ([LEASE-1]). */
  get inUse(): number {
    return this.holders.size
  }

  /** [SRV-4] after a limit fell, inUse may stay above it; no new grant until it is below. */
  get hasFreeSeat(): boolean {
    return this.holders.size < this.limit
  }

  status(): PackStatus {
    return { name: this.name, limit: this.limit, inUse: this.inUse, waiting: this.waiters.size }
  }

  /** The lease answer for `entry`, a lease of this pack. */
  grantOf(entry: LeaseEntry, ttlMs: number): Grant {
    return {
      lease: entry.lease,
      pack: this.name,
      holder: entry.holder,
      expiresAt: entry.expiresAt,
      ttlMs,
      limit: this.limit,
      inUse: this.inUse,
      // [LEASE-6] every lease answer carries the pack's licenses
      licenses: this.licenses,
    }
  }
}
