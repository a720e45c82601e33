// What the engine tells the world after a decision: `revoked` pushes to a lease's connection
// ([WIRE-9]). Split from engine.ts so that telling reads apart from deciding. Every callback
// runs once the engine's state is whole, so a callback that reads the engine sees the
// decision done.
import type { Lease, RevokeReason } from './contract.js'

export type Revocation = [Lease, RevokeReason]

export class Notices {
  constructor(private readonly onRevoked: (lease: Lease, reason: RevokeReason) => void) {}

  /** [WIRE-9] the first onRevoked that throws is rethrown after all ran. */
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
