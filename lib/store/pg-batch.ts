// One group commit of the PostgreSQL lease store: every write of a batch (issued in one event
// turn, or while the previous commit ran) in ONE transaction of at most four statements:
// the fence ([HA-3]), one DELETE … WHERE lease = ANY($1), one multi-row INSERT … ON CONFLICT,
// COMMIT. The batch is reduced to its net effect first, in call order ([LEASE-8]: a put then
// a remove of one lease leaves nothing; a remove then a put leaves the put).
import type pg from 'pg'
import type { LeaseRecord } from '../engine/types.js'
import { FlrError } from '../errors.js'

/** [HA-3] who may write: the term this node holds (undefined: none), its host id, and what to do when the database says no. */
export interface PgFence {
  term(): string | undefined
  readonly node: string
  lost(): void
}

export type Write = { put: LeaseRecord } | { remove: string }

export interface NetEffect {
  puts: LeaseRecord[]
  removes: string[]
}

/** The writes' net effect, later writes of a lease winning; `owed` removals first (they are older). */
export function netEffect(writes: readonly Write[], owed: Iterable<string> = []): NetEffect {
  const last = new Map<string, LeaseRecord | null>()
  for (const lease of owed) last.set(lease, null)
  for (const w of writes) {
    if ('put' in w) {
      last.delete(w.put.lease) // keep insertion order = order of the last write
      last.set(w.put.lease, w.put)
    } else {
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
  return { puts, removes }
}

/** Only the record's own fields, as they are at the call ([LEASE-7]: the engine passes a live lease). */
export function recordOf(r: LeaseRecord): LeaseRecord {
  return { lease: r.lease, pack: r.pack, holder: r.holder, client: r.client, address: r.address, grantedAt: r.grantedAt }
}

const FENCE = {
  name: 'flr-fence',
  text: 'SELECT 1 FROM flr_leader WHERE id = 1 AND term = $1 AND node = $2 AND expires_at > now() FOR SHARE',
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
