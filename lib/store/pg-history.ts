// [OBS-2] [OBS-3] The usage history in the PostgreSQL store (the LeaseHistory of
// lib/engine/history-types.ts). Grants and ends ride in the lease's own transaction
// (pg-batch.ts); denials and limits (append) go through the same group commit, fenced like any
// write, so history and leases change hands together at a failover ([HA-5]). The report's
// rollups and checkpoints are derived data: saved and swept in transactions of their own.
import type pg from 'pg'
import type { Checkpoint, DayRollup, HistoryEvent, HistoryNote, LeaseHistory } from '../engine/types.js'

interface EventRow {
  at: string
  kind: HistoryEvent['kind']
  pack: string
  holder: string | null
  lease: string | null
  client: string | null
  address: string | null
  waited_ms: string | null
  how: string | null
  code: string | null
  lim: number | null
}

export class PgHistory implements LeaseHistory {
  constructor(
    private readonly pool: pg.Pool,
    /** a client of the pool whose 'error' events are listened to (pg-writer.ts) */
    private readonly connect: () => Promise<pg.PoolClient>,
    /** the store's group commit: durable (and fenced) once it resolves */
    private readonly write: (notes: readonly HistoryNote[]) => Promise<void>,
  ) {}

  append(notes: readonly HistoryNote[]): Promise<void> {
    if (notes.length === 0) return Promise.resolve()
    return this.write(notes.map((n) => ({ ...n })))
  }

  async events(from: number, to: number): Promise<HistoryEvent[]> {
    const result = await this.pool.query<EventRow>(
      'SELECT at, kind, pack, holder, lease, client, address, waited_ms, how, code, lim FROM flr_events WHERE at >= $1 AND at < $2 ORDER BY seq',
      [from, to],
    )
    return result.rows.map(eventOf)
  }

  async rollups(from: number, to: number): Promise<DayRollup[]> {
    const result = await this.pool.query<{ day: string; pack: string; rollup: string }>(
      'SELECT day, pack, rollup FROM flr_rollups WHERE day >= $1 AND day < $2 ORDER BY day, pack',
      [from, to],
    )
    return result.rows.map((r) => ({ day: Number(r.day), pack: r.pack, rollup: JSON.parse(r.rollup, fromJson) as unknown }))
  }

  async checkpoint(day?: number): Promise<Checkpoint | undefined> {
    const result = await this.pool.query<{ day: string; state: string }>(
      'SELECT day, state FROM flr_checkpoints WHERE day <= $1 ORDER BY day DESC LIMIT 1',
      [day ?? Number.MAX_SAFE_INTEGER],
    )
    const row = result.rows[0]
    return row && { day: Number(row.day), state: JSON.parse(row.state) as unknown }
  }

  async saveDay(rows: readonly DayRollup[], next: Checkpoint): Promise<void> {
    await this.#transaction(async (client) => {
      if (rows.length > 0) {
        await client.query(
          `INSERT INTO flr_rollups (day, pack, rollup) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])
             ON CONFLICT (day, pack) DO UPDATE SET rollup = EXCLUDED.rollup`,
          [rows.map((r) => r.day), rows.map((r) => r.pack), rows.map((r) => JSON.stringify(r.rollup, toJson) ?? 'null')],
        )
      }
      await client.query('INSERT INTO flr_checkpoints (day, state) VALUES ($1, $2) ON CONFLICT (day) DO UPDATE SET state = EXCLUDED.state', [
        next.day,
        JSON.stringify(next.state) ?? 'null',
      ])
    })
  }

  /** [OBS-2] at most `max` deletions in one transaction; the latest checkpoint before the cut stays (a report of the kept days starts there). */
  async sweep(before: number, max: number): Promise<number> {
    if (max <= 0) return 0
    return this.#transaction(async (client) => {
      const events = await client.query('DELETE FROM flr_events WHERE seq IN (SELECT seq FROM flr_events WHERE at < $1 ORDER BY at, seq LIMIT $2)', [before, max])
      let left = max - (events.rowCount ?? 0)
      const rollups = await client.query(
        'DELETE FROM flr_rollups WHERE (day, pack) IN (SELECT day, pack FROM flr_rollups WHERE day < $1 ORDER BY day, pack LIMIT $2)',
        [before, left],
      )
      left -= rollups.rowCount ?? 0
      const checkpoints = await client.query(
        `DELETE FROM flr_checkpoints WHERE day IN (
           SELECT day FROM flr_checkpoints WHERE day < $1 AND day < (SELECT max(day) FROM flr_checkpoints WHERE day < $1) ORDER BY day LIMIT $2)`,
        [before, left],
      )
      return (events.rowCount ?? 0) + (rollups.rowCount ?? 0) + (checkpoints.rowCount ?? 0)
    })
  }

  async #transaction<T>(body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect()
    try {
      await client.query('BEGIN')
      const answer = await body(client)
      await client.query('COMMIT')
      client.release()
      return answer
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {})
      client.release(e instanceof Error ? e : true)
      throw e
    }
  }
}

function eventOf(r: EventRow): HistoryEvent {
  const at = Number(r.at)
  switch (r.kind) {
    case 'grant':
      return { kind: 'grant', at, lease: r.lease!, pack: r.pack, holder: r.holder!, client: r.client!, address: r.address!, waitedMs: Number(r.waited_ms) }
    case 'end':
      return { kind: 'end', at, lease: r.lease!, pack: r.pack, holder: r.holder!, how: r.how as Extract<HistoryEvent, { kind: 'end' }>['how'] }
    case 'denial':
      return { kind: 'denial', at, pack: r.pack, holder: r.holder!, code: r.code as Extract<HistoryEvent, { kind: 'denial' }>['code'], waitedMs: Number(r.waited_ms) }
    default:
      return { kind: 'limit', at, pack: r.pack, limit: r.lim! }
  }
}

/**
 * A rollup holds bytes (the distinct holders' hashes, lib/report/holder-hash.ts): JSON would
 * write a Uint8Array as an object of indices and read it back as one, losing every holder.
 * They travel as `{"$bytes": base64}` and come back as a Uint8Array.
 */
function toJson(this: unknown, _key: string, value: unknown): unknown {
  return ArrayBuffer.isView(value) ? { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') } : value
}

function fromJson(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { $bytes?: unknown }).$bytes === 'string') {
    return new Uint8Array(Buffer.from((value as { $bytes: string }).$bytes, 'base64'))
  }
  return value
}
