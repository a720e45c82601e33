// [HA-3] [HA-8] The SQL of leadership and of the node list, on the tables of lib/store/pg-schema.ts
// (flr_leader: one row, a term that grows at every change of leader; flr_nodes: one row a node).
// Expiry is judged by the database's clock (now()), never by a node's. A pool of its own, apart
// from the store's: a renewal must not queue behind a group commit.
import pg from 'pg'
import type { AcquireResult, LeaderInfo, LeadershipDb } from './leadership.js'

/** What a node says of itself in flr_nodes each renewal ([HA-8]). */
export interface NodeSelf {
  /** the host id */
  node: string
  /** `--advertise HOST` + the lease port: what clients are sent to */
  address(): string
  /** `--advertise HOST` + the HTTP port, when the shim is on */
  http(): string | undefined
  /** SHA-256 of the LPF in force, when there is one */
  lpfDigest(): string | undefined
}

/** One row of flr_nodes, as `status` shows it ([HA-8]). */
export interface NodeRow {
  hostId: string
  address: string
  http?: string
  role: string
  /** ISO time, by the database's clock */
  lastSeen: string
  /** how long ago, by the database's clock */
  lastSeenAgoMs: number
  lpfDigest?: string
}

/** The channel a resigning leader notifies, so that standbys try at once ([HA-5] < 1 s). */
export const LEADER_CHANNEL = 'flr_leader'

const MS = "* interval '1 millisecond'"

export class PgLeadership implements LeadershipDb {
  private readonly pool: pg.Pool
  private listener: pg.Client | undefined
  private closed = false

  constructor(
    private readonly url: string,
    private readonly self: NodeSelf,
    timeoutMs: number,
  ) {
    // a frozen or unreachable database must end an attempt: the fence runs regardless ([HA-7])
    // statement_timeout too: a statement the client gave up on must not go on waiting for a lock
    // in the server, holding one of the pool's two connections
    this.pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, statement_timeout: timeoutMs, idleTimeoutMillis: 30_000, application_name: `flr leadership ${self.node}` })
    // an idle client that loses its server emits here; the next query gets a new one
    this.pool.on('error', () => {})
  }

  async acquire(ttlMs: number): Promise<AcquireResult> {
    const { node } = this.self
    // the row is created by the schema; ON CONFLICT makes a missing one harmless
    await this.pool.query(`INSERT INTO flr_leader (id, term, node, address, expires_at) VALUES (1, 0, NULL, NULL, now()) ON CONFLICT (id) DO NOTHING`)
    // free, expired, or ours from before a restart (a kill -9 leaves it held): taken with term + 1.
    // Two nodes racing: the second UPDATE waits on the row lock and re-reads it, then finds it held.
    const { rows } = await this.pool.query<{ term: string | null; node: string | null; address: string | null; http: string | null; left_ms: string | null }>(
      `WITH taken AS (
         UPDATE flr_leader SET term = term + 1, node = $1, address = $2, expires_at = now() + $3::bigint ${MS}
         WHERE id = 1 AND (node IS NULL OR node = $1 OR expires_at <= now())
         RETURNING term::text AS term)
       SELECT (SELECT term FROM taken) AS term, l.node, l.address, n.http,
         CASE WHEN isfinite(l.expires_at) THEN (extract(epoch FROM l.expires_at - now()) * 1000)::bigint::text END AS left_ms
       FROM flr_leader l LEFT JOIN flr_nodes n ON n.host_id = l.node
       WHERE l.id = 1 AND (l.expires_at > now() OR EXISTS (SELECT 1 FROM taken))`,
      [node, this.self.address(), ttlMs],
    )
    await this.upsertSelf(rows[0]?.term ? 'leader' : 'standby')
    const row = rows[0]
    if (row?.term) return { term: row.term }
    if (!row?.node || row.node === node) return {}
    return { leader: leaderInfo(row.node, row.address, row.http), ...(row.left_ms !== null ? { expiresInMs: Number(row.left_ms) } : {}) }
  }

  async renew(term: string, ttlMs: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE flr_leader SET expires_at = now() + $3::bigint ${MS}
       WHERE id = 1 AND term = $1::bigint AND node = $2 AND expires_at > now()`,
      [term, this.self.node, ttlMs],
    )
    const kept = rowCount === 1
    await this.upsertSelf(kept ? 'leader' : 'standby')
    return kept
  }

  async resign(term: string): Promise<void> {
    await this.pool.query(`UPDATE flr_leader SET node = NULL, expires_at = now() WHERE id = 1 AND term = $1::bigint AND node = $2`, [term, this.self.node])
    await this.pool.query(`SELECT pg_notify($1, $2)`, [LEADER_CHANNEL, this.self.node])
    await this.upsertSelf('standby')
  }

  /** Who leads now by the database's clock, if anyone. */
  async leader(): Promise<LeaderInfo | undefined> {
    const { rows } = await this.pool.query<{ node: string; address: string | null; http: string | null }>(
      `SELECT l.node, l.address, n.http FROM flr_leader l LEFT JOIN flr_nodes n ON n.host_id = l.node
       WHERE l.id = 1 AND l.node IS NOT NULL AND l.expires_at > now()`,
    )
    const row = rows[0]
    return row ? leaderInfo(row.node, row.address, row.http) : undefined
  }

  /** [HA-8] every node, as the database last saw it. */
  async nodes(): Promise<NodeRow[]> {
    const { rows } = await this.pool.query<{ host_id: string; address: string; http: string | null; role: string; last_seen: Date; ago_ms: string; lpf_digest: string | null }>(
      `SELECT host_id, address, http, role, last_seen, (extract(epoch FROM now() - last_seen) * 1000)::bigint::text AS ago_ms, lpf_digest
       FROM flr_nodes ORDER BY host_id`,
    )
    return rows.map((r) => ({
      hostId: r.host_id,
      address: r.address,
      ...(r.http ? { http: r.http } : {}),
      role: r.role,
      lastSeen: r.last_seen.toISOString(),
      lastSeenAgoMs: Math.max(0, Number(r.ago_ms)),
      ...(r.lpf_digest ? { lpfDigest: r.lpf_digest } : {}),
    }))
  }

  /**
   * [HA-5] LISTEN for a resign: `wake` runs at once instead of at the next --leader-renew tick.
   * Best effort: a lost listener is opened again on the next call; ticks go on regardless.
   */
  async listen(wake: () => void): Promise<void> {
    if (this.closed || this.listener) return
    const client = new pg.Client({ connectionString: this.url })
    this.listener = client
    client.on('error', () => {
      if (this.listener === client) this.listener = undefined
      void client.end().catch(() => {})
    })
    client.on('notification', () => wake())
    try {
      await client.connect()
      await client.query(`LISTEN ${LEADER_CHANNEL}`)
    } catch {
      if (this.listener === client) this.listener = undefined
      void client.end().catch(() => {})
    }
  }

  async close(): Promise<void> {
    this.closed = true
    const listener = this.listener
    this.listener = undefined
    await Promise.all([this.pool.end().catch(() => {}), listener?.end().catch(() => {})])
  }

  /** [HA-8] a failure here must not undo the attempt it follows: the next renewal writes it again */
  private async upsertSelf(role: 'leader' | 'standby'): Promise<void> {
    const s = this.self
    await this.pool.query(
      `INSERT INTO flr_nodes (host_id, address, http, role, last_seen, lpf_digest) VALUES ($1, $2, $3, $4, now(), $5)
       ON CONFLICT (host_id) DO UPDATE SET address = excluded.address, http = excluded.http, role = excluded.role,
         last_seen = excluded.last_seen, lpf_digest = excluded.lpf_digest`,
      [s.node, s.address(), s.http() ?? null, role, s.lpfDigest() ?? null],
    ).catch(() => {})
  }
}

function leaderInfo(node: string, address: string | null, http: string | null): LeaderInfo {
  return { node, address: address ?? '', ...(http ? { http } : {}) }
}
