// [OBS-3] The one computation of the report: fold the history's events, in the order they
// happened, into one bucket per pack and period. In use is a step function (+1 at a grant,
// −1 at an end), so the peak is exact (the largest count after any event, or at the start of
// the period), and lease-time is its integral. The fold carries a small state (the leases
// live and the limits) from one period to the next; at a day's end it is the checkpoint that
// the next day starts from, so a year is folded once, a day at a time (rollup.ts).
import type { HistoryEvent } from '../engine/types.js'
import { holderHash } from './holder-hash.js'
import { periodEnd, type Period } from './periods.js'

/** What the fold carries across a period boundary (JSON-able: stored as a checkpoint). */
export interface FoldState {
  /** every pack the history knows, and its limit in force (0: none) */
  packs: [pack: string, limit: number][]
  /** leases live at the boundary */
  live: [lease: string, pack: string, holder: string][]
}

export const EMPTY_STATE: FoldState = { packs: [], live: [] }

const NO_HOLDERS = new Float64Array(0)

/** One pack over one period: sums, so that periods merge (days into months). */
export interface Bucket {
  pack: string
  start: number
  limit: number
  peak: number
  /** ∫ in use dt over the covered part, in lease-ms */
  areaMs: number
  /** how much of the period has happened (a current period: until now) */
  coveredMs: number
  grants: number
  exhausted: number
  timeouts: number
  waitSumMs: number
  waitMaxMs: number
  /** the distinct holders, as hashes (holder-hash.ts) */
  holders: Float64Array
}

interface PackFold {
  limit: number
  inUse: number
  /** lease → holder */
  live: Map<string, string>
  since: number
  bucket: Bucket
  holders: Set<number>
}

export class Fold {
  private readonly packs = new Map<string, PackFold>()
  private start: number
  private end: number
  readonly rows: Bucket[] = []

  /** `from`: a period start of `by`, the moment `state` describes; `horizon`: nothing after it has happened (now) */
  constructor(
    state: FoldState,
    from: number,
    private readonly by: Period,
    private readonly horizon: number,
  ) {
    this.start = from
    this.end = periodEnd(from, by)
    for (const [pack, limit] of state.packs) this.pack(pack).limit = limit
    for (const [lease, pack, holder] of state.live) {
      const fold = this.pack(pack)
      fold.live.set(lease, holder)
      fold.inUse++
    }
    for (const [name, fold] of this.packs) this.open(fold, name)
  }

  /** Events in the order they happened, none before the fold's position. */
  feed(events: readonly HistoryEvent[]): void {
    for (const event of events) this.apply(event)
  }

  /** Close every period that ends by `until` (and the current one at the horizon, if it is before). */
  closeUntil(until: number): void {
    while (this.end <= until) this.closePeriod()
  }

  /** The state at the fold's position (a period start, after closeUntil). */
  state(): FoldState {
    const packs: [string, number][] = []
    const live: [string, string, string][] = []
    for (const [name, fold] of this.packs) {
      packs.push([name, fold.limit])
      for (const [lease, holder] of fold.live) live.push([lease, name, holder])
    }
    return { packs, live }
  }

  /** The period in progress, closed at `at` (≤ its end): a current day or month. */
  partial(at: number): Bucket[] {
    const out: Bucket[] = []
    for (const fold of this.packs.values()) {
      const b = fold.bucket
      out.push({ ...b, areaMs: b.areaMs + fold.inUse * (at - fold.since), coveredMs: at - b.start, holders: Float64Array.from(fold.holders) })
    }
    return out
  }

  get position(): number {
    return this.start
  }

  private apply(event: HistoryEvent): void {
    while (this.end <= event.at) this.closePeriod()
    const fold = this.pack(event.pack)
    const b = fold.bucket
    switch (event.kind) {
      case 'grant':
        if (fold.live.has(event.lease)) return
        this.step(fold, event.at, +1)
        fold.live.set(event.lease, event.holder)
        fold.holders.add(holderHash(event.holder))
        b.grants++
        b.waitSumMs += event.waitedMs
        if (event.waitedMs > b.waitMaxMs) b.waitMaxMs = event.waitedMs
        return
      case 'end':
        // an end whose grant never landed (a put that failed, [OBS-2]) changes nothing
        if (!fold.live.delete(event.lease)) return
        this.step(fold, event.at, -1)
        return
      case 'denial':
        if (event.code === 'PACK_EXHAUSTED') b.exhausted++
        else b.timeouts++
        return
      case 'limit':
        fold.limit = event.limit
        if (event.limit > b.limit) b.limit = event.limit
    }
  }

  private step(fold: PackFold, at: number, delta: number): void {
    const t = Math.max(at, this.start)
    fold.bucket.areaMs += fold.inUse * (t - fold.since)
    fold.since = t
    fold.inUse += delta
    if (fold.inUse > fold.bucket.peak) fold.bucket.peak = fold.inUse
  }

  private pack(name: string): PackFold {
    let fold = this.packs.get(name)
    if (!fold) {
      fold = { limit: 0, inUse: 0, live: new Map(), since: this.start, bucket: undefined!, holders: new Set() }
      this.packs.set(name, fold)
      this.open(fold, name)
    }
    return fold
  }

  private open(fold: PackFold, name: string): void {
    fold.since = this.start
    fold.holders = new Set()
    for (const holder of fold.live.values()) fold.holders.add(holderHash(holder))
    fold.bucket = {
      pack: name,
      start: this.start,
      limit: fold.limit,
      peak: fold.inUse,
      areaMs: 0,
      coveredMs: 0,
      grants: 0,
      exhausted: 0,
      timeouts: 0,
      waitSumMs: 0,
      waitMaxMs: 0,
      holders: NO_HOLDERS,
    }
  }

  private closePeriod(): void {
    const covered = Math.min(this.end, this.horizon)
    for (const fold of this.packs.values()) {
      const b = fold.bucket
      if (covered > this.start) {
        b.areaMs += fold.inUse * (covered - fold.since)
        b.coveredMs = covered - this.start
      }
      b.holders = Float64Array.from(fold.holders)
      this.rows.push(b)
    }
    this.start = this.end
    this.end = periodEnd(this.start, this.by)
    for (const [name, fold] of this.packs) this.open(fold, name)
  }
}
