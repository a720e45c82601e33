// One group commit of the PostgreSQL lease store: every write of a batch (issued in one event
// turn, or while the previous commit ran) in ONE statement, so one transaction: the fence
// ([HA-3]), one DELETE … WHERE lease = ANY($3), one multi-row INSERT … ON CONFLICT. The batch is reduced to its net effect first, in call order ([LEASE-8]: a put then
// a remove of one lease leaves nothing; a remove then a put leaves the put). [OBS-2] the
// history events of the batch (every grant and end, in call order, and the notes of append)
// go in the same statement, as one more multi-row INSERT; an event's time never goes back
// (a clock stepped back, or a new leader's clock behind the last one's: it is written at the
// latest time already in the table, as the LMDB history does), so time order is write order.
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

// The whole commit is ONE statement (one round trip, and one implicit transaction): the fence
// CTE takes the leader row FOR SHARE (a new leader's UPDATE of it then waits for this commit,
// and one that committed first leaves no matching row, the re-check of READ COMMITTED seeing
// its version), and every write is conditioned on it, so that no row changes unless the term
// is held: what shared-interfaces item 2 asks of "BEGIN; SELECT … FOR SHARE; writes; COMMIT",
// with one round trip instead of five on a machine where each costs a context switch.
const fenced = (fence: string): string => `
  WITH fence AS (${fence}),
  gone AS (DELETE FROM flr_leases WHERE lease = ANY($3::text[]) AND EXISTS (SELECT 1 FROM fence)),
  kept AS (
    INSERT INTO flr_leases (lease, pack, holder, client, address, granted_at)
      SELECT * FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[]) WHERE EXISTS (SELECT 1 FROM fence)
    ON CONFLICT (lease) DO UPDATE SET pack = EXCLUDED.pack, holder = EXCLUDED.holder, client = EXCLUDED.client,
      address = EXCLUDED.address, granted_at = EXCLUDED.granted_at),
  told AS (
    INSERT INTO flr_events (at, kind, pack, holder, lease, client, address, waited_ms, how, code, lim)
      SELECT greatest(max(e.at) OVER (ORDER BY e.n), (SELECT coalesce(max(at), 0) FROM flr_events)),
             e.kind, e.pack, e.holder, e.lease, e.client, e.address, e.waited_ms, e.how, e.code, e.lim
        FROM unnest($10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
                    $17::bigint[], $18::text[], $19::text[], $20::int[])
             WITH ORDINALITY AS e(at, kind, pack, holder, lease, client, address, waited_ms, how, code, lim, n)
       WHERE EXISTS (SELECT 1 FROM fence)
       ORDER BY e.n)
  SELECT count(*)::int AS held FROM fence`
const FENCED = {
  name: 'flr-commit-fenced',
  text: fenced('SELECT 1 FROM flr_leader WHERE id = 1 AND term = $1::bigint AND node = $2::text AND expires_at > now() FOR SHARE'),
}
// a store no cluster shares (tools, tests): the same statement, its fence always held
const UNFENCED = { name: 'flr-commit', text: fenced('SELECT 1 WHERE $1::bigint IS NULL AND $2::text IS NULL') }

/** The refusal of a write whose transaction the fence stopped ([HA-3]). */
export function notLeader(why: string): FlrError {
  return new FlrError('NOT_LEADER', `grants and releases cannot be recorded: ${why}`)
}

/**
 * Commits `effect` in one transaction on `client`, fenced when `fence` is given. Rejects
 * NOT_LEADER (nothing written) when the fence refuses, or with the driver's error when the
 * database fails; resolves only once the commit returned ([LEASE-7]).
 */
export async function commitBatch(client: pg.ClientBase, effect: NetEffect, fence: PgFence | undefined): Promise<void> {
  let term: string | undefined
  if (fence) {
    term = fence.term()
    if (term === undefined) throw notLeader('this node holds no leadership term')
  }
  const leases: [string[], string[], string[], string[], string[], string[]] = [[], [], [], [], [], []]
  for (const r of effect.puts) {
    leases[0].push(r.lease)
    leases[1].push(r.pack)
    leases[2].push(r.holder)
    leases[3].push(r.client)
    leases[4].push(r.address)
    leases[5].push(String(r.grantedAt))
  }
  const values = [term ?? null, fence ? fence.node : null, effect.removes, ...leases, ...eventColumns(effect.events)]
  const result = await client.query<{ held: number }>({ ...(fence ? FENCED : UNFENCED), values })
  if (result.rows[0]?.held !== 1) {
    throw notLeader(`the leadership term ${term} of ${fence?.node} is over (another node leads, or it expired)`)
  }
}

/**
 * [LEASE-8] every stored lease. Rows as arrays, not objects: the driver builds no object per
 * row (100,000 rows: about 0.7-1.0 s against 1.4-1.6 s as objects, and as one json_agg text
 * 1.5-2.0 s, on this loaded 2-core machine; (d) in bench/pg-store.ts is a new leader's restore).
 */
export async function readLeases(client: pg.ClientBase | pg.Pool): Promise<LeaseRecord[]> {
  const result = await client.query<[string, string, string, string, string, string]>({
    text: 'SELECT lease, pack, holder, client, address, granted_at FROM flr_leases',
    rowMode: 'array',
  })
  return result.rows.map(([lease, pack, holder, client, address, grantedAt]) => ({ lease, pack, holder, client, address, grantedAt: Number(grantedAt) }))
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
