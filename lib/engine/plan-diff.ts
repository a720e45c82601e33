// [SRV-4] the difference between the packs in force and a new plan. Split from engine.ts
// (issue 12): which packs stay, change or go is decided here; what that does to leases and
// waiters (revoke, drain) stays with the engine.
import type { PackPlan } from '../lpf/plan.js'
import { PackSeats } from './pack-seats.js'

export interface PlanDiff {
  /** the packs in force once the plan applies, kept ones updated in place */
  next: Map<string, PackSeats>
  /** packs in force that the plan no longer names, in the order they were in force */
  removed: PackSeats[]
}

/**
 * A new pack is made; a kept pack keeps its holders and waiters and takes the plan's limit and
 * `<licenses>` text (which reaches holders with their next renew or lease answer).
 */
export function diffPlan(inForce: ReadonlyMap<string, PackSeats>, packs: readonly PackPlan[]): PlanDiff {
  const planned = new Set(packs.map((plan) => plan.name))
  const removed = [...inForce.values()].filter((pack) => !planned.has(pack.name))
  const next = new Map<string, PackSeats>()
  for (const plan of packs) {
    const pack = inForce.get(plan.name) ?? new PackSeats(plan)
    pack.limit = plan.limit
    pack.licenses = plan.licenses
    next.set(plan.name, pack)
  }
  return { next, removed }
}
