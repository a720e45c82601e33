// The seams of the seat engine: an injected durable store (the clock it is given is lib/util/clock.ts's).
import type { LeaseHistory } from './history-types.js'

export type * from './history-types.js'

/** What is stored for a lease ([LEASE-7], [LEASE-8]). Expiry is not stored: restore restarts it. */
export interface LeaseRecord {
  /** 128 random bits, base64url (22 chars) [LEASE-4] */
  readonly lease: string
  readonly pack: string
  readonly holder: string
  /** the connection's hello client (HTTP: the request's client) */
  readonly client: string
  /** the peer's address */
  readonly address: string
  /** epoch ms */
  readonly grantedAt: number
}

/** How a lease ended ([OBS-2]): given back, not renewed in time, taken away, or its pack left the license in force. */
export type LeaseEndHow = 'released' | 'expired' | 'revoked' | 'pack-removed'

/** The refusals that count as a denial ([OBS-2], [OBS-3]): no seat now, or none within the wait. */
export type DenialCode = 'PACK_EXHAUSTED' | 'WAIT_TIMEOUT'

export interface Denial {
  readonly pack: string
  readonly holder: string
  readonly code: DenialCode
  readonly waitedMs: number
  /** epoch ms */
  readonly at: number
}

/**
 * Told of the engine's decisions once they are made (metrics count them, [OBS-2] history): a grant
 * once it is acknowledged durable, the end of an acknowledged lease, a denial. An observer
 * cannot change a decision: one that throws is ignored. Every method is optional.
 */
export interface EngineObserver {
  /** `waitedMs`: how long the request waited in the queue for its seat (0: a free seat at once) */
  granted?(lease: LeaseRecord, at: number, waitedMs: number): void
  ended?(lease: LeaseRecord, how: LeaseEndHow, at: number): void
  denied?(denial: Denial): void
  /** [OBS-3] the packs in force and their limits, each time they are set (none: not serving) */
  planned?(packs: readonly { readonly pack: string; readonly limit: number }[], at: number): void
}

/** [OBS-2] how a lease ended: written to the history in the same transaction as its removal. */
export interface LeaseEnd {
  readonly how: LeaseEndHow
  /** epoch ms */
  readonly at: number
  /** the lease's record: the history names the pack and holder of the end */
  readonly record: LeaseRecord
}

/** The engine's view of durability. Each promise resolves once the write is durable. */
export interface LeaseStore {
  /**
   * [LEASE-7] durable before the grant is acknowledged; [OBS-2] a store with a history writes the
   * grant (with `waitedMs`, the request's wait for the seat) in the same transaction.
   */
  put(record: LeaseRecord, waitedMs?: number): Promise<void>
  /**
   * [LEASE-7] durable before the release is acknowledged; also used for expiry and revoke.
   * [OBS-2] `end` goes into the history in the same transaction (the engine always gives it).
   */
  remove(lease: string, end?: LeaseEnd): Promise<void>
  /**
   * [LEASE-10] the refusal a grant or release gets now because the store cannot write
   * (STORE_UNAVAILABLE), or undefined when it can. A store that is not told returns undefined.
   */
  unavailable?(): Error | undefined
  /** [OBS-2] [OBS-3] the usage history, when the store keeps one (history-types.ts) */
  readonly history?: LeaseHistory
}

/** A store that keeps nothing: for engine tests and `--state-dir`-less tools. */
export const memoryStore: LeaseStore = {
  put: async () => {},
  remove: async () => {},
}
