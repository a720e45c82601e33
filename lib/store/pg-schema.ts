// [HA-1] The PostgreSQL schema of flr, created and upgraded by flr itself at open, in one
// transaction under an advisory lock (two nodes starting together migrate once, the second
// waits and finds the work done). The version lives in flr_meta; a database whose version is
// newer than this flr knows is refused (STORE_NEWER), and one that holds flr tables without a
// readable version is refused (STORE_DAMAGED): never changed, never wiped ([LEASE-9]).
//
// [LEASE-9] on PostgreSQL: the database is shared on purpose by every node of a cluster, so it
// is not bound to one host id. What keeps two nodes from granting the same seats is the fence
// ([HA-3], flr_leader's term checked by every write), not a host binding. flr_meta records
// which host created the schema and with which flr, for the operator; flr_nodes (written by
// the leadership, lib/cluster/) records every node that uses it.
//
// Versions (append only; a released migration never changes):
//   1  flr_meta, flr_leases: the lease records, as the LMDB store keeps them
//   2  flr_leader (one row, the term: shared-interfaces item 2), flr_nodes (the node list that status shows)
//   3  [OBS-2] flr_events (the usage history, in write order: seq), flr_rollups, flr_checkpoints
//      (the report's, opaque JSON text)
import type pg from 'pg'
import { FlrError } from '../errors.js'
import { VERSION } from '../version.js'

/** The newest schema this flr knows. */
export const SCHEMA_VERSION = 3

/** pg_advisory_xact_lock key of the migration ('flr' in ASCII): held only inside its transaction. */
const MIGRATION_LOCK = 0x666c72

const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE flr_meta (key text PRIMARY KEY, value text NOT NULL);
      CREATE TABLE flr_leases (
        lease text PRIMARY KEY,
        pack text NOT NULL,
        holder text NOT NULL,
        client text NOT NULL,
        address text NOT NULL,
        granted_at bigint NOT NULL
      );`,
  },
  {
    version: 2,
    // the leader row exists from the start (term 0, nobody, expired), so that taking it is
    // always an UPDATE judged by now(): the database's clock, never a node's ([HA-3])
    sql: `
      CREATE TABLE flr_leader (
        id int PRIMARY KEY CHECK (id = 1),
        term bigint NOT NULL,
        node text,
        address text,
        expires_at timestamptz NOT NULL
      );
      INSERT INTO flr_leader (id, term, node, address, expires_at) VALUES (1, 0, NULL, NULL, '-infinity');
      CREATE TABLE flr_nodes (
        host_id text PRIMARY KEY,
        address text NOT NULL,
        http text,
        role text NOT NULL,
        last_seen timestamptz NOT NULL,
        lpf_digest text
      );`,
  },
  {
    version: 3,
    sql: `
      CREATE TABLE flr_events (
        seq bigserial PRIMARY KEY,
        at bigint NOT NULL,
        kind text NOT NULL,
        pack text NOT NULL,
        holder text,
        lease text,
        client text,
        address text,
        waited_ms bigint,
        how text,
        code text,
        lim integer
      );
      CREATE INDEX flr_events_at ON flr_events (at, seq);
      CREATE TABLE flr_rollups (day bigint NOT NULL, pack text NOT NULL, rollup text NOT NULL, PRIMARY KEY (day, pack));
      CREATE TABLE flr_checkpoints (day bigint PRIMARY KEY, state text NOT NULL);`,
  },
]

export interface Migrated {
  /** the version found (0: an empty database) */
  from: number
  to: number
}

/**
 * Brings the database `client` is connected to up to SCHEMA_VERSION, in one transaction.
 * `where` names the database in messages (host:port/db, never the password).
 */
export async function migrate(client: pg.ClientBase, where: string, hostId: string): Promise<Migrated> {
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    const from = await versionOf(client, where)
    if (from > SCHEMA_VERSION) {
      throw new FlrError(
        'STORE_NEWER',
        `the database ${where} holds flr schema version ${from}, newer than the ${SCHEMA_VERSION} this flr ${VERSION} knows: ` +
          'run the same flr version on every node that shares it (nothing was changed in it)',
        { found: from, known: SCHEMA_VERSION },
      )
    }
    for (const m of MIGRATIONS) if (m.version > from) await client.query(m.sql)
    if (from === 0) {
      await client.query(`INSERT INTO flr_meta (key, value) VALUES ('created_by', $1), ('created_at', now()::text), ('created_with', $2)`, [hostId, VERSION])
    }
    if (from < SCHEMA_VERSION) {
      await client.query(
        `INSERT INTO flr_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
        [String(SCHEMA_VERSION)],
      )
    }
    await client.query('COMMIT')
    return { from, to: Math.max(from, SCHEMA_VERSION) }
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {})
    throw e
  }
}

/** The schema version of the database: 0 when it holds no flr table; refuses one it cannot read. */
async function versionOf(client: pg.ClientBase, where: string): Promise<number> {
  const tables = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relname LIKE 'flr\\_%' AND c.relkind IN ('r', 'p', 'v')`,
  )
  const names = new Set(tables.rows.map((r) => r.name))
  if (names.size === 0) return 0
  const damaged = (why: string): FlrError =>
    new FlrError(
      'STORE_DAMAGED',
      `the database ${where} is not a usable flr store: ${why}. flr changed nothing in it: ` +
        'point --store at the right database, or move the flr_* tables aside (ALTER TABLE … RENAME) to start empty',
    )
  if (!names.has('flr_meta')) throw damaged(`it has flr tables (${[...names].sort().join(', ')}) but no flr_meta`)
  const row = await client.query<{ value: string }>(`SELECT value FROM flr_meta WHERE key = 'schema_version'`)
  const text = row.rows[0]?.value
  if (text === undefined) throw damaged('flr_meta has no schema_version')
  if (!/^[0-9]{1,9}$/.test(text) || Number(text) < 1) throw damaged(`its schema_version is "${text.slice(0, 40)}"`)
  return Number(text)
}
