// One group commit of the PostgreSQL lease store: every write of a batch (issued in one event
// turn, or while the previous commit ran) in ONE transaction of at most four statements:
// the fence ([HA-3]), one DELETE … WHERE lease = ANY($1), one multi-row INSERT … ON CONFLICT,
// COMMIT. The batch is reduced to its net effect first, in call order ([LEASE-8]: a put then
// a remove of one lease leaves nothing; a remove then a put leaves the put). [OBS-2] the
// history events of the batch (every grant and end, in call order, and the notes of append)
// go in the same transaction, as one more multi-row INSERT.
import type pg from 'pg'
import type { HistoryEvent, HistoryNote, LeaseEnd, LeaseRecord } from '../engine/types.js'
import { FlrError } from '../errors.js'

/** [HA-3] who may write: the term this node holds (undefined: none), its host id, and what to do when the database says no. */
export interface PgFence {
  term(): string | undefined
  readonly node: string
  lost(): void
}

export type Write =
  | { put: LeaseRecord; waitedMs?: number }
  | { remove: string; end?: LeaseEnd }
  /** [OBS-2] history notes (denials, limits): events only */
  | { notes: readonly HistoryNote[] }

export interface NetEffect {
  puts: LeaseRecord[]
  removes: string[]
  /** [OBS-2] in call order */
  events: HistoryEvent[]
}

/** [OBS-2] the history event a write records, if any. */
function eventsOf(w: Write): readonly HistoryEvent[] {
  if ('notes' in w) return w.notes
  if ('put' in w) {
    const r = w.put
    return [{ kind: 'grant', at: r.grantedAt, lease: r.lease, pack: r.pack, holder: r.holder, client: r.client, address: r.address, waitedMs: w.waitedMs ?? 0 }]
  }
  const end = w.end
  return end ? [{ kind: 'end', at: end.at, lease: w.remove, pack: end.record.pack, holder: end.record.holder, how: end.how }] : []
}

/**
 * The writes' net effect, later writes of a lease winning; `owed` removals (refused during an
 * outage, with their ends) first: they are older.
 */
export function netEffect(writes: readonly Write[], owed: ReadonlyMap<string, LeaseEnd | undefined> = new Map()): NetEffect {
  const last = new Map<string, LeaseRecord | null>()
  const events: HistoryEvent[] = []
  for (const [lease, end] of owed) {
    last.set(lease, null)
    events.push(...eventsOf({ remove: lease, ...(end ? { end } : {}) }))
  }
  for (const w of writes) {
    events.push(...eventsOf(w))
    if ('put' in w) {
      last.delete(w.put.lease) // keep insertion order = order of the last write
      last.set(w.put.lease, w.put)
    } else if ('remove' in w) {
      last.delete(w.remove)
      last.set(w.remove, null)
    }
  }
  const puts: LeaseRecord[] = []
  const removes: string[] = []
  for (const [lease, record] of last) {
    if (record) puts.push(record)
    else removes.push(lease)
  }
  return { puts, removes, events }
}

/** Only the record's own fields, as they are at the call ([LEASE-7]: the engine passes a live lease). */
export function recordOf(r: LeaseRecord): LeaseRecord {
  return { lease: r.lease, pack: r.pack, holder: r.holder, client: r.client, address: r.address, grantedAt: r.grantedAt }
}

const FENCE = {
  name: 'flr-fence',
  text: 'SELECT 1 FROM flr_leader WHERE id = 1 AND term = $1 AND node = $2 AND expires_at > now() FOR SHARE',
}
const EVENTS = {
  name: 'flr-events',
  text: `INSERT INTO flr_events (at, kind, pack, holder, lease, client, address, waited_ms, how, code, lim)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                                $8::bigint[], $9::text[], $10::text[], $11::int[])`,
}
const DELETE = { name: 'flr-delete', text: 'DELETE FROM flr_leases WHERE lease = ANY($1::text[])' }
const INSERT = {
  name: 'flr-insert',
  text: `INSERT INTO flr_leases (lease, pack, holder, client, address, granted_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
         ON CONFLICT (lease) DO UPDATE SET pack = EXCLUDED.pack, holder = EXCLUDED.holder, client = EXCLUDED.client,
           address = EXCLUDED.address, granted_at = EXCLUDED.granted_at`,
}

/** The refusal of a write whose transaction the fence stopped ([HA-3]). */
export function notLeader(why: string): FlrError {
  return new FlrError('NOT_LEADER', `grants and releases cannot be recorded: ${why}`)
}

/**
 * Commits `effect` in one transaction on `client`, fenced when `fence` is given. Rejects
 * NOT_LEADER (after a ROLLBACK; nothing written) when the fence refuses, or with the driver's
 * error when the database fails; resolves only after COMMIT returned ([LEASE-7]).
 */
export async function commitBatch(client: pg.ClientBase, effect: NetEffect, fence: PgFence | undefined): Promise<void> {
  let term: string | undefined
  if (fence) {
    term = fence.term()
    if (term === undefined) throw notLeader('this node holds no leadership term')
  }
  await client.query('BEGIN')
  try {
    if (fence) {
      const held = await client.query({ ...FENCE, values: [term, fence.node] })
      if (held.rowCount === 0) {
        await client.query('ROLLBACK')
        throw notLeader(`the leadership term ${term} of ${fence.node} is over (another node leads, or it expired)`)
      }
    }
    if (effect.removes.length > 0) await client.query({ ...DELETE, values: [effect.removes] })
    if (effect.puts.length > 0) {
      const cols: [string[], string[], string[], string[], string[], string[]] = [[], [], [], [], [], []]
      for (const r of effect.puts) {
        cols[0].push(r.lease)
        cols[1].push(r.pack)
        cols[2].push(r.holder)
        cols[3].push(r.client)
        cols[4].push(r.address)
        cols[5].push(String(r.grantedAt))
      }
      await client.query({ ...INSERT, values: cols })
    }
    if (effect.events.length > 0) await client.query({ ...EVENTS, values: eventColumns(effect.events) })
    await client.query('COMMIT')
  } catch (e) {
    if (!(e instanceof FlrError)) await client.query('ROLLBACK').catch(() => {})
    throw e
  }
}

/** [LEASE-8] every stored lease. */
export async function readLeases(client: pg.ClientBase | pg.Pool): Promise<LeaseRecord[]> {
  const result = await client.query<{ lease: string; pack: string; holder: string; client: string; address: string; granted_at: string }>(
    'SELECT lease, pack, holder, client, address, granted_at FROM flr_leases',
  )
  return result.rows.map((r) => ({ lease: r.lease, pack: r.pack, holder: r.holder, client: r.client, address: r.address, grantedAt: Number(r.granted_at) }))
}

/** [OBS-2] the events as the columns of flr_events, for one unnest (absent fields: NULL). */
function eventColumns(events: readonly HistoryEvent[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 11 }, () => [])
  for (const e of events) {
    const row = [
      e.at,
      e.kind,
      e.pack,
      'holder' in e ? e.holder : null,
      'lease' in e ? e.lease : null,
      'client' in e ? e.client : null,
      'address' in e ? e.address : null,
      'waitedMs' in e ? e.waitedMs : null,
      'how' in e ? e.how : null,
      'code' in e ? e.code : null,
      'limit' in e ? e.limit : null,
    ]
    for (let i = 0; i < 11; i++) cols[i]!.push(row[i])
  }
  return cols
}
