// [OBS-2] [OBS-3] The usage history as a store keeps it: what happened to seats, in the order
// it happened. The LMDB store (lib/store/history*.ts) and the PostgreSQL store implement
// LeaseHistory; the report (lib/report/) reads it and keeps its per-day rollups there.
import type { DenialCode, LeaseEndHow } from './types.js'

/** A lease granted (written with the lease's record, [OBS-2]). */
export interface GrantEvent {
  readonly kind: 'grant'
  readonly at: number
  readonly lease: string
  readonly pack: string
  readonly holder: string
  readonly client: string
  readonly address: string
  readonly waitedMs: number
}

/** A lease ended (written with its removal, [OBS-2]). */
export interface EndEvent {
  readonly kind: 'end'
  readonly at: number
  readonly lease: string
  readonly pack: string
  readonly holder: string
  readonly how: LeaseEndHow
}

/** A request refused for want of a seat (written within a second, batched, [OBS-2]). */
export interface DenialEvent {
  readonly kind: 'denial'
  readonly at: number
  readonly pack: string
  readonly holder: string
  readonly code: DenialCode
  readonly waitedMs: number
}

/** A pack's limit from then on (0: the pack left the license in force), [OBS-3]. */
export interface LimitEvent {
  readonly kind: 'limit'
  readonly at: number
  readonly pack: string
  readonly limit: number
}

export type HistoryEvent = GrantEvent | EndEvent | DenialEvent | LimitEvent

/** What the history is told in batches, outside a lease's own write. */
export type HistoryNote = DenialEvent | LimitEvent

/** [OBS-3] the report's rollup of one pack and UTC day: opaque to the store (JSON-able). */
export interface DayRollup {
  readonly day: number
  readonly pack: string
  readonly rollup: unknown
}

/** [OBS-3] the report's fold state at the start of a UTC day (opaque to the store, JSON-able). */
export interface Checkpoint {
  readonly day: number
  readonly state: unknown
}

export interface LeaseHistory {
  /** durable once it resolves; the caller batches ([OBS-2] denials within a second) */
  append(notes: readonly HistoryNote[]): Promise<void>
  /** every event with from ≤ at < to, in the order they happened (write order); at most `limit` */
  events(from: number, to: number, limit?: number): Promise<HistoryEvent[]>
  /** [OBS-3] the rollups of the days in [from, to), by day then pack */
  rollups(from: number, to: number): Promise<DayRollup[]>
  /** [OBS-3] the latest checkpoint of a day ≤ `day` (no `day`: the latest of all), undefined when none */
  checkpoint(day?: number): Promise<Checkpoint | undefined>
  /** [OBS-3] one day rolled up: its rows and the checkpoint of the next day, in one transaction */
  saveDay(rows: readonly DayRollup[], next: Checkpoint): Promise<void>
  /** [OBS-2] retention: deletes at most `max` events, rollups and states older than `before`; resolves to how many */
  sweep(before: number, max: number): Promise<number>
}
