// Shared by the PostgreSQL store tests: looking at a database through a connection of its
// own (not the store's), as another node or an operator's psql would.
import pg from 'pg'

/** Runs one statement on a connection of its own; the rows. */
export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  try {
    return (await client.query<R>(text, values)).rows
  } finally {
    await client.end().catch(() => {})
  }
}

/** [LEASE-7] the lease ids another connection finds committed. */
export async function leaseIdsIn(url: string): Promise<string[]> {
  return (await sql<{ lease: string }>(url, 'SELECT lease FROM flr_leases ORDER BY lease')).map((r) => r.lease)
}

/** The schema version recorded in flr_meta. */
export async function schemaVersion(url: string): Promise<string | undefined> {
  return (await sql<{ value: string }>(url, `SELECT value FROM flr_meta WHERE key = 'schema_version'`))[0]?.value
}

/** Makes `node` the holder of term `term` for `ttlSeconds` (what lib/cluster/ does when it takes the lead). */
export async function lead(url: string, term: number, node: string, ttlSeconds = 60): Promise<void> {
  await sql(url, `UPDATE flr_leader SET term = $1, node = $2, address = 'test:1', expires_at = now() + make_interval(secs => $3) WHERE id = 1`, [term, node, ttlSeconds])
}
