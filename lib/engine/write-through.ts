// The engine's calls to the lease store. Split from engine.ts (issue 12) so that deciding a
// seat reads apart from how its record is written. A store call is issued at the moment of
// the decision it records, so the store sees them in decision order ([LEASE-8]); a store that
// throws instead of rejecting is turned into a rejection, so that no decision is left half made.
import type { LeaseEndHow, LeaseRecord, LeaseStore } from './types.js'

export type StoreErrorListener = (error: unknown, op: 'put' | 'remove', lease: string) => void

export class WriteThrough {
  constructor(
    private readonly store: LeaseStore,
    private readonly onStoreError: StoreErrorListener,
  ) {}

  /** [LEASE-10] the refusal a write would get now, asked before a seat is taken or freed. */
  down(): Error | undefined {
    try {
      return this.store.unavailable?.()
    } catch {
      return undefined
    }
  }

  put(record: LeaseRecord, waitedMs: number): Promise<void> {
    try {
      // the entry is a LeaseRecord whose record fields never change: no copy per grant
      return this.store.put(record, waitedMs)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** [OBS-2] the end of `record` goes with its removal */
  remove(record: LeaseRecord, how: LeaseEndHow, at: number): Promise<void> {
    try {
      return this.store.remove(record.lease, { how, at, record })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Fire and forget, but issued now so it keeps its place among later writes ([LEASE-8]). */
  removeQuietly(record: LeaseRecord, how: LeaseEndHow, at: number): void {
    this.remove(record, how, at).catch((error: unknown) => this.onStoreError(error, 'remove', record.lease))
  }
}
