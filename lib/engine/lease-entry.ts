// One seat taken by one holder: the engine's own, mutable view of a lease.

import type { LeaseRecord } from './types.js'
import type { Reply } from './waiters.js'

/** A live lease as the engine hands it out (read-only to callers): the stored record and its expiry. */
export interface Lease extends LeaseRecord {
  /** epoch ms */
  readonly expiresAt: number
  /** opaque: the connection that last granted or renewed it ([WIRE-9] pushes) */
  readonly owner: unknown
}

/**
 * `pending`: the seat is counted but store.put is not durable yet, so nobody knows the id
 * ([LEASE-7]); `live`: acknowledged, renewable, in the expiry queue; `gone`: freed.
 */
export type LeaseState = 'pending' | 'live' | 'gone'

export class LeaseEntry {
  state: LeaseState = 'pending'
  expiresAt = 0
  owner: unknown
  /** while pending: every request of this holder that waits for the put to be durable */
  replies: Reply[] | undefined
  /** [OBS-3] how long its request waited in the queue for the seat */
  waitedMs = 0

  constructor(
    readonly lease: string,
    readonly pack: string,
    readonly holder: string,
    readonly client: string,
    readonly address: string,
    readonly grantedAt: number,
    owner: unknown,
  ) {
    this.owner = owner
  }

  static fromRecord(record: LeaseRecord): LeaseEntry {
    return new LeaseEntry(record.lease, record.pack, record.holder, record.client, record.address, record.grantedAt, undefined)
  }

  /** A copy, so a caller can never move a lease's expiry or owner behind the engine's back. */
  snapshot(): Lease {
    return { ...this.record(), expiresAt: this.expiresAt, owner: this.owner }
  }

  record(): LeaseRecord {
    return {
      lease: this.lease,
      pack: this.pack,
      holder: this.holder,
      client: this.client,
      address: this.address,
      grantedAt: this.grantedAt,
    }
  }
}
