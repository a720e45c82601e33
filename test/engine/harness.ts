// Shared set-up for the seat engine tests: a fake clock, a recording store, counted lease ids.

import { SeatEngine, type Lease, type LeaseRequest, type RevokeReason } from '../../lib/engine/engine.js'
import type { PackPlan } from '../../lib/lpf/plan.js'
import { FakeClock } from './fake-clock.js'
import { ManualStore } from './manual-store.js'

export const TTL = 30_000

export function pack(name: string, limit: number, licenses = `<licenses><license product="${name}"/></licenses>`): PackPlan {
  return { name, limit, licenses }
}

export function ask(packName: string, holder: string, more: Partial<LeaseRequest> = {}): LeaseRequest {
  return { pack: packName, holder, client: holder, address: '127.0.0.1', ...more }
}

/** Let every settled promise run its handlers (store answers are microtasks). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export interface Tracked<T> {
  state: 'pending' | 'resolved' | 'rejected'
  value?: T
  error?: unknown
}

/** Watch a promise without awaiting it, to assert it is still pending. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const tracked: Tracked<T> = { state: 'pending' }
  promise.then(
    (value) => Object.assign(tracked, { state: 'resolved', value }),
    (error: unknown) => Object.assign(tracked, { state: 'rejected', error }),
  )
  return tracked
}

export function setup(opts: { auto?: boolean; packs?: PackPlan[]; ttlMs?: number } = {}) {
  const clock = new FakeClock()
  const store = new ManualStore(opts.auto ?? true)
  const revoked: [Lease, RevokeReason][] = []
  let next = 0
  const engine = new SeatEngine({
    clock,
    store,
    ttlMs: opts.ttlMs ?? TTL,
    newLeaseId: () => `L${++next}`,
    onRevoked: (lease, reason) => revoked.push([lease, reason]),
  })
  if (opts.packs) engine.applyPlan(opts.packs)
  const inUse = (name: string): number | undefined => engine.packs().find((p) => p.name === name)?.inUse
  const waiting = (name: string): number | undefined => engine.packs().find((p) => p.name === name)?.waiting
  return { clock, store, engine, revoked, inUse, waiting }
}
