// [OBS-2] [OBS-3] The usage history inside the LMDB lease store: grants and ends are written
// by lease-store.ts in the transaction of the lease's own write (writeGrant/writeEnd, called
// inside its batch); denials and limits come in batches (append); the report reads events,
// and keeps its per-day rollups and checkpoints here. Every write goes through the store's
// own durable path, so a history write that fails is a store fault like any other ([LEASE-10]).
import { Packr } from 'msgpackr'
import type { Database, RootDatabase } from 'lmdb'
import type { Checkpoint, DayRollup, HistoryEvent, HistoryNote, LeaseEnd, LeaseHistory, LeaseRecord } from '../engine/types.js'
import { atOf, endTuple, eventKey, eventOf, eventValueCodec, grantTuple, noteTuple, PER_MS, type EventKey } from './history-codec.js'
import { HISTORY_TABLES } from './store-layout.js'
import type { Committed } from './store-probe.js'

// copyBuffers: lmdb-js reuses its read buffer for the next entry, so binary data (a rollup's
// holder hashes) must not stay a view into it
const packr = new Packr({ useRecords: false, moreTypes: false, copyBuffers: true })
/** rollups and checkpoints: opaque to the store, plain MessagePack */
const plainCodec = {
  encode: (value: unknown): Buffer => packr.pack(value),
  decode: (bytes: Uint8Array, end?: number): unknown => {
    try {
      return packr.unpack(bytes, end)
    } catch {
      return undefined
    }
  },
}

export interface HistoryTables {
  events: Database<unknown[] | undefined, EventKey>
  rollups: Database<unknown, [number, string]>
  checkpoints: Database<unknown, number>
}

/** Opens the history tables, creating them in a store that has none yet (one made before [OBS-2]). */
export function openHistoryTables(env: RootDatabase): HistoryTables {
  // `encoder` is lmdb-js's, missing from its types (as in store-open.ts)
  const events = { name: HISTORY_TABLES.events, encoder: eventValueCodec, create: true }
  const rollups = { name: HISTORY_TABLES.rollups, encoder: plainCodec, create: true }
  const checkpoints = { name: HISTORY_TABLES.checkpoints, encoder: plainCodec, create: true }
  return {
    events: env.openDB<unknown[] | undefined, EventKey>(events),
    rollups: env.openDB<unknown, [number, string]>(rollups),
    checkpoints: env.openDB<unknown, number>(checkpoints),
  }
}

/** How the history writes: the store's durable path (fault handling, group commit). */
export type DurableWrite = (write: () => Committed) => Promise<void>

export class LmdbHistory implements LeaseHistory {
  #tables: HistoryTables
  /** keys only go forward: a clock stepped back writes at the last time seen, in write order */
  #lastAt = -Infinity
  #seq = 0

  constructor(
    tables: HistoryTables,
    private readonly durable: DurableWrite,
  ) {
    this.#tables = tables
    this.#resume()
  }

  /** After the store reopened its file ([LEASE-10]). */
  reopened(tables: HistoryTables): void {
    this.#tables = tables
    this.#resume()
  }

  /** Inside the batch of the lease's put: the grant, in the same transaction. */
  writeGrant(record: LeaseRecord, waitedMs: number): void {
    this.#tables.events.put(this.#key(record.grantedAt), grantTuple(record, waitedMs))
  }

  /** Inside the batch of the lease's removal: its end, in the same transaction. */
  writeEnd(end: LeaseEnd): void {
    this.#tables.events.put(this.#key(end.at), endTuple(end.record, end.how))
  }

  append(notes: readonly HistoryNote[]): Promise<void> {
    if (notes.length === 0) return Promise.resolve()
    const events = this.#tables.events
    return this.durable(() =>
      events.batch(() => {
        for (const note of notes) events.put(this.#key(note.at), noteTuple(note))
      }),
    )
  }

  async events(from: number, to: number, limit?: number): Promise<HistoryEvent[]> {
    const found: HistoryEvent[] = []
    for (const { key, value } of this.#tables.events.getRange({ start: eventKey(from, 0), end: eventKey(to, 0), limit })) {
      const event = eventOf(atOf(key), value)
      if (event) found.push(event)
    }
    return found
  }

  async rollups(from: number, to: number): Promise<DayRollup[]> {
    const rows: DayRollup[] = []
    for (const { key, value } of this.#tables.rollups.getRange({ start: [from], end: [to] })) {
      rows.push({ day: key[0], pack: key[1], rollup: value })
    }
    return rows
  }

  async checkpoint(day?: number): Promise<Checkpoint | undefined> {
    for (const { key, value } of this.#tables.checkpoints.getRange({ start: day ?? Number.MAX_SAFE_INTEGER, reverse: true, limit: 1 })) {
      return { day: key, state: value }
    }
    return undefined
  }

  saveDay(rows: readonly DayRollup[], next: Checkpoint): Promise<void> {
    const { rollups, checkpoints } = this.#tables
    return this.durable(() =>
      rollups.batch(() => {
        for (const row of rows) rollups.put([row.day, row.pack], row.rollup)
        checkpoints.put(next.day, next.state)
      }),
    )
  }

  /** [OBS-2] at most `max` deletions in one transaction: a big sweep is many small steps. */
  async sweep(before: number, max: number): Promise<number> {
    const { events, rollups, checkpoints } = this.#tables
    const eventKeys = [...events.getKeys({ end: eventKey(before, 0), limit: max })]
    const rollupKeys = [...rollups.getKeys({ end: [before], limit: max - eventKeys.length })]
    // the latest checkpoint before the cut stays: it is where a report of the kept days starts
    const checkpointKeys = [...checkpoints.getKeys({ end: before, limit: max })].slice(0, -1).slice(0, Math.max(0, max - eventKeys.length - rollupKeys.length))
    const count = eventKeys.length + rollupKeys.length + checkpointKeys.length
    if (count === 0) return 0
    await this.durable(() =>
      events.batch(() => {
        for (const key of eventKeys) events.remove(key)
        for (const key of rollupKeys) rollups.remove(key)
        for (const key of checkpointKeys) checkpoints.remove(key)
      }),
    )
    return count
  }

  #key(at: number): EventKey {
    if (at > this.#lastAt) {
      this.#lastAt = at
      this.#seq = 0
    } else if (++this.#seq === PER_MS) {
      this.#lastAt++
      this.#seq = 0
    }
    return eventKey(this.#lastAt, this.#seq)
  }

  #resume(): void {
    for (const key of this.#tables.events.getKeys({ reverse: true, limit: 1 })) {
      this.#lastAt = atOf(key)
      this.#seq = key % PER_MS
    }
  }
}
