// The shapes a transport (TCP connection, HTTP shim) exchanges with the seat engine.

import type { WaitScope } from './waiters.js'

export type { Lease } from './lease-entry.js'

export type RevokeReason = 'pack-removed' | 'lpf-removed' | 'lpf-expired' | 'admin'

export interface LeaseRequest {
  pack: string
  /** already resolved by the transport: request.holder ?? hello.client */
  holder: string
  client: string
  address: string
  /** [LEASE-5] 0..600000; 0/undefined = do not wait; larger values are capped */
  waitMs?: number
  owner?: unknown
  /** [LEASE-4] [WIRE-10] the waits of one connection: capped, and cancelled together in O(1) each */
  waits?: WaitScope
}

/** The lease answer of [WIRE-5]. */
export interface Grant {
  lease: string
  pack: string
  holder: string
  expiresAt: number
  ttlMs: number
  limit: number
  inUse: number
  licenses: string
}

/** The renew answer of [WIRE-6]. */
export interface Renewal {
  lease: string
  expiresAt: number
  ttlMs: number
  licenses: string
}

/** One row of [WIRE-7] status. */
export interface PackStatus {
  name: string
  limit: number
  inUse: number
  waiting: number
}
