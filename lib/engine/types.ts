// The seams of the seat engine: an injected durable store (the clock it is given is lib/util/clock.ts's).

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
 * Told of the engine's decisions once they are made ([OBS-1] counts, [OBS-2] history): a grant
 * once it is acknowledged durable, the end of an acknowledged lease, a denial. An observer
 * cannot change a decision: one that throws is ignored. Every method is optional.
 */
export interface EngineObserver {
  /** `waitedMs`: how long the request waited in the queue for its seat (0: a free seat at once) */
  granted?(lease: LeaseRecord, at: number, waitedMs: number): void
  ended?(lease: LeaseRecord, how: LeaseEndHow, at: number): void
  denied?(denial: Denial): void
}

/** The engine's view of durability. Each promise resolves once the write is durable. */
export interface LeaseStore {
  /** [LEASE-7] durable before the grant is acknowledged */
  put(record: LeaseRecord): Promise<void>
  /** [LEASE-7] durable before the release is acknowledged; also used for expiry and revoke */
  remove(lease: string): Promise<void>
  /**
   * [LEASE-10] the refusal a grant or release gets now because the store cannot write
   * (STORE_UNAVAILABLE), or undefined when it can. A store that is not told returns undefined.
   */
  unavailable?(): Error | undefined
}

/** A store that keeps nothing: for engine tests and `--state-dir`-less tools. */
export const memoryStore: LeaseStore = {
  put: async () => {},
  remove: async () => {},
}
