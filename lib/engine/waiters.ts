// Lease requests waiting for a seat of one pack, first come, first served ([LEASE-5]).

import { FlrError } from '../errors.js'
import type { Grant, LeaseRequest } from './contract.js'

/** Where the answer to one lease request goes. */
export interface Reply {
  resolve(grant: Grant): void
  reject(error: unknown): void
}

function leaveAlone(): void {}

/** One waiting lease request; it owns its deadline timer and its place in a WaitScope. */
export class Waiter {
  private readonly releases: (() => void)[] = []
  /** set by the engine as the waiter queues: takes it out of its queue and rejects it */
  cancel: (reason: unknown) => void = leaveAlone

  constructor(
    readonly request: LeaseRequest,
    readonly reply: Reply,
    /** when it started waiting (epoch ms): [OBS-3] the wait for a seat */
    readonly since = 0,
  ) {}

  get holder(): string {
    return this.request.holder
  }

  /** Register what must be undone once the waiter leaves the queue (timer, place in a WaitScope). */
  onLeave(undo: () => void): void {
    this.releases.push(undo)
  }

  leave(): void {
    for (const undo of this.releases.splice(0)) undo()
  }
}

/** [WIRE-10] at most this many requests of one connection wait for a seat at once */
export const MAX_WAITING = 1_000

/**
 * The waits of one connection ([LEASE-4], [WIRE-10]): one set, cancelled as a whole when the
 * connection closes, so a wait costs O(1) to join and to leave. (One AbortSignal listener per
 * wait made each wait cost a walk over all the others: Node's add/removeEventListener are
 * linear in the listener count, and 100,000 waits froze the server.)
 */
export class WaitScope {
  private readonly waiters = new Set<Waiter>()
  private cancelled = false
  private reason: unknown

  constructor(readonly limit = MAX_WAITING) {}

  /** waits of this scope in a queue now */
  get size(): number {
    return this.waiters.size
  }

  get aborted(): boolean {
    return this.cancelled
  }

  get abortReason(): unknown {
    return this.reason
  }

  /** The engine queues `waiter` for this scope; TOO_MANY_WAITING past the limit. */
  enter(waiter: Waiter): void {
    if (this.waiters.size >= this.limit) {
      throw new FlrError('TOO_MANY_WAITING', `this connection already has ${this.limit} lease requests waiting for a seat; wait for some to be answered`, { limit: this.limit })
    }
    this.waiters.add(waiter)
    waiter.onLeave(() => this.waiters.delete(waiter))
  }

  /** Rejects every wait of the scope with `reason`, and any that would join later. */
  cancel(reason: unknown): void {
    if (this.cancelled) return
    this.cancelled = true
    this.reason = reason
    for (const waiter of [...this.waiters]) waiter.cancel(reason)
  }
}

const NONE: readonly Waiter[] = []

/**
 * A Set keeps insertion order and deletes in O(1), so it is a FIFO queue from which a
 * timed-out or aborted waiter can leave from the middle. The per-holder index serves
 * [LEASE-2]: when a holder is granted, all its waiting requests share that one lease.
 */
export class WaiterQueue {
  private readonly order = new Set<Waiter>()
  private readonly byHolder = new Map<string, Set<Waiter>>()

  get size(): number {
    return this.order.size
  }

  first(): Waiter | undefined {
    return this.order.values().next().value
  }

  add(waiter: Waiter): void {
    this.order.add(waiter)
    let mine = this.byHolder.get(waiter.holder)
    if (!mine) this.byHolder.set(waiter.holder, (mine = new Set()))
    mine.add(waiter)
  }

  /** Remove one waiter; false if it had already left. */
  remove(waiter: Waiter): boolean {
    if (!this.order.delete(waiter)) return false
    const mine = this.byHolder.get(waiter.holder)
    mine?.delete(waiter)
    if (mine?.size === 0) this.byHolder.delete(waiter.holder)
    waiter.leave()
    return true
  }

  /** Remove and return every waiter of `holder`, oldest first. */
  takeHolder(holder: string): readonly Waiter[] {
    const waiting = this.byHolder.get(holder)
    if (!waiting) return NONE // every grant asks: almost always, nobody
    const mine = [...waiting]
    for (const waiter of mine) this.remove(waiter)
    return mine
  }

  /** Remove and return every waiter, oldest first. */
  takeAll(): Waiter[] {
    const all = [...this.order]
    for (const waiter of all) this.remove(waiter)
    return all
  }
}
