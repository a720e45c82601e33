// What the engine tells the world after a decision: `revoked` pushes to a lease's connection
// ([WIRE-9]) and its observers (metrics, [OBS-2] history). Split from engine.ts so
// that telling reads apart from deciding. Every callback runs once the engine's state is
// whole, so a callback that reads the engine sees the decision done.
import type { Lease, RevokeReason } from './contract.js'
import type { PackSeats } from './pack-seats.js'
import type { Denial, EngineObserver, LeaseEndHow, LeaseRecord } from './types.js'

export type Revocation = [Lease, RevokeReason]

/** [OBS-2] a lease revoked because the license in force lost its pack (a reload, the LPF removed or expired) ended with it. */
export function endOf(reason: RevokeReason): LeaseEndHow {
  return reason === 'admin' ? 'revoked' : 'pack-removed'
}

export class Notices {
  private readonly observers: readonly EngineObserver[]

  constructor(
    observers: readonly EngineObserver[] | undefined,
    private readonly onRevoked: (lease: Lease, reason: RevokeReason) => void,
  ) {
    this.observers = observers ?? []
  }

  /** [OBS-2] an observer cannot undo or break a decision: one that throws is ignored. */
  granted(lease: LeaseRecord, at: number, waitedMs: number): void {
    for (const observer of this.observers) {
      try {
        observer.granted?.(lease, at, waitedMs)
      } catch {}
    }
  }

  ended(lease: LeaseRecord, how: LeaseEndHow, at: number): void {
    for (const observer of this.observers) {
      try {
        observer.ended?.(lease, how, at)
      } catch {}
    }
  }

  denied(denial: Denial): void {
    for (const observer of this.observers) {
      try {
        observer.denied?.(denial)
      } catch {}
    }
  }

  /** [OBS-3] the limits in force, each time they are set */
  planned(packs: Iterable<PackSeats>, at: number): void {
    const limits = [...packs].map((pack) => ({ pack: pack.name, limit: pack.limit }))
    for (const observer of this.observers) {
      try {
        observer.planned?.(limits, at)
      } catch {}
    }
  }

  /** [WIRE-9] the first onRevoked that throws is rethrown after all ran (the caller's error, not an observer's). */
  revoked(revoked: readonly Revocation[]): void {
    let failure: { error: unknown } | undefined
    for (const [lease, reason] of revoked) {
      try {
        this.onRevoked(lease, reason)
      } catch (error) {
        failure ??= { error }
      }
    }
    if (failure) throw failure.error
  }
}
