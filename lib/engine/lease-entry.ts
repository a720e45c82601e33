// One seat taken by one holder: the engine's own, mutable view of a lease.

import type { LeaseRecord } from './types.js'
import type { Reply } from './waiters.js'

/** A live lease as the engine hands it out (read-only to callers). */
export interface Lease {
  /** 128 random bits, base64url (22 chars) [LEASE-4] */
  readonly lease: string
  readonly pack: string
  readonly holder: string
  /** the connection's hello client (HTTP: the request's client) */
  readonly client: string
  /** peer address */
  readonly address: string
  /** epoch ms */
  readonly grantedAt: number
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
    return {
      lease: this.lease,
      pack: this.pack,
      holder: this.holder,
      client: this.client,
      address: this.address,
      grantedAt: this.grantedAt,
      expiresAt: this.expiresAt,
      owner: this.owner,
    }
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
