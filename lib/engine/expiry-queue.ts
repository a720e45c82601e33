// Live leases in expiry order, watched by one timer ([LEASE-3]).
//
// Every lease gets the same TTL from "now" on a monotonic clock, so the order in which
// leases were last granted or renewed is already their expiry order: a Map in insertion
// order (delete + set on renew) is a sorted queue, and only its head needs a timer.

import type { Clock } from '../util/clock.js'
import type { LeaseEntry } from './lease-entry.js'

const NONE: readonly LeaseEntry[] = []

export class ExpiryQueue {
  private readonly byId = new Map<string, LeaseEntry>()
  /**
   * Never later than the head's expiry: entries join at the tail with the latest expiry, and
   * removing or renewing the head only makes the true head's later. Infinity when empty.
   */
  private headDue = Infinity
  private timer: unknown
  private armed = false
  private stopped = false

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly onDue: () => void,
  ) {}

  get size(): number {
    return this.byId.size
  }

  get(lease: string): LeaseEntry | undefined {
    return this.byId.get(lease)
  }

  values(): IterableIterator<LeaseEntry> {
    return this.byId.values()
  }

  /** Start or restart the entry's TTL from now and move it to the tail. */
  touch(entry: LeaseEntry, now = this.clock.now()): void {
    entry.expiresAt = now + this.ttlMs
    this.byId.delete(entry.lease)
    this.byId.set(entry.lease, entry)
    if (entry.expiresAt < this.headDue) this.headDue = entry.expiresAt
    this.arm()
  }

  delete(entry: LeaseEntry): void {
    this.byId.delete(entry.lease)
  }

  /** Remove and return every entry whose expiry has come. */
  takeDue(): readonly LeaseEntry[] {
    const now = this.clock.now()
    // asked on every request: answered without a walk until the head's expiry may have come
    if (now < this.headDue) return NONE
    const due: LeaseEntry[] = []
    for (const entry of this.byId.values()) {
      if (entry.expiresAt > now) break
      due.push(entry)
    }
    for (const entry of due) this.byId.delete(entry.lease)
    this.headDue = this.head()?.expiresAt ?? Infinity
    return due
  }

  /** No timer after this; the entries stay (a closed engine keeps its leases stored). */
  stop(): void {
    this.stopped = true
    if (this.armed) this.clock.clearTimeout(this.timer)
    this.armed = false
  }

  // An armed timer is never later than the head's expiry: entries only join at the tail,
  // and a renewed head just makes the timer fire early and re-arm for the new head.
  private arm(): void {
    if (this.armed || this.stopped) return
    const head = this.head()
    if (!head) return
    this.armed = true
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, head.expiresAt - this.clock.now()))
  }

  private head(): LeaseEntry | undefined {
    return this.byId.values().next().value
  }

  private fire(): void {
    this.armed = false
    this.onDue()
    this.arm()
  }
}
