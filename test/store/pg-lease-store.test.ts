// The PostgreSQL store beyond the shared contract (contract.ts): its schema (created, upgraded,
// a newer one refused, a damaged one refused untouched), group commit, and the fence ([HA-3]).
import t from 'tap'
import { openPgLeaseStore } from '../../lib/store/pg-lease-store.js'
import { SCHEMA_VERSION } from '../../lib/store/pg-schema.js'
import { freshDatabase } from '../helpers/postgres.js'
import { leaseRecord } from './fixtures.js'
import { lead, leaseIdsIn, schemaVersion, sql } from './pg-fixtures.js'

const HOST = 'Lnx-7Q2M-K4DA-ZP9W-3HXE'

t.test('[HA-1] an empty database gets the whole schema, at the newest version', async (t) => {
  const url = await freshDatabase(t)
  const store = await openPgLeaseStore({ url, hostId: HOST })
  t.teardown(() => store.close())
  t.same(await store.migrated, { from: 0, to: SCHEMA_VERSION })
  t.equal(await schemaVersion(url), String(SCHEMA_VERSION))
  const tables = (await sql<{ name: string }>(url, `SELECT tablename AS name FROM pg_tables WHERE tablename LIKE 'flr\\_%' ORDER BY 1`)).map((r) => r.name)
  t.same(tables, ['flr_checkpoints', 'flr_events', 'flr_leader', 'flr_leases', 'flr_meta', 'flr_nodes', 'flr_rollups'])
  t.same(await sql(url, 'SELECT id, term::int AS term, node FROM flr_leader'), [{ id: 1, term: 0, node: null }], 'one leader row: term 0, nobody leads')
  t.same(await sql(url, `SELECT value FROM flr_meta WHERE key = 'created_by'`), [{ value: HOST }], 'who created it, for the operator')
})

t.test('[HA-1] a version 1 database (leases only) is upgraded, its leases kept; a second open changes nothing', async (t) => {
  const url = await freshDatabase(t)
  // version 1 as an older flr left it, made by hand
  await sql(
    url,
    `CREATE TABLE flr_meta (key text PRIMARY KEY, value text NOT NULL);
     CREATE TABLE flr_leases (lease text PRIMARY KEY, pack text NOT NULL, holder text NOT NULL, client text NOT NULL, address text NOT NULL, granted_at bigint NOT NULL);
     INSERT INTO flr_meta VALUES ('schema_version', '1');
     INSERT INTO flr_leases VALUES ('old-lease', 'cad', 'alice', 'ws-1', '10.0.0.1', 1700000000000);`,
  )
  const store = await openPgLeaseStore({ url, hostId: HOST })
  t.same(await store.migrated, { from: 1, to: SCHEMA_VERSION })
  t.same(await store.load(), [{ lease: 'old-lease', pack: 'cad', holder: 'alice', client: 'ws-1', address: '10.0.0.1', grantedAt: 1700000000000 }])
  await store.close()
  t.equal(await schemaVersion(url), String(SCHEMA_VERSION))
  t.equal((await sql(url, 'SELECT 1 FROM flr_leader')).length, 1, 'the leader row was added')
  const again = await openPgLeaseStore({ url, hostId: 'Lnx-AAAA-BBBB-CCCC-DDDD' })
  t.same(await again.migrated, { from: SCHEMA_VERSION, to: SCHEMA_VERSION }, 'already current: nothing to do')
  t.equal((await again.load()).length, 1)
  await again.close()
})

t.test('[HA-1] [LEASE-9] a newer schema is refused STORE_NEWER, naming both versions, and nothing is changed', async (t) => {
  const url = await freshDatabase(t)
  const first = await openPgLeaseStore({ url, hostId: HOST })
  await first.put(leaseRecord(1))
  await first.close()
  const newer = SCHEMA_VERSION + 7
  await sql(url, `UPDATE flr_meta SET value = $1 WHERE key = 'schema_version'`, [String(newer)])
  await t.rejects(openPgLeaseStore({ url, hostId: HOST }), {
    code: 'STORE_NEWER',
    message: new RegExp(`schema version ${newer}, newer than the ${SCHEMA_VERSION}`),
  })
  t.equal(await schemaVersion(url), String(newer), 'the version is left as it was')
  t.same(await leaseIdsIn(url), [leaseRecord(1).lease], 'the leases are left as they were')
})

t.test('[LEASE-9] flr tables without a readable version are refused STORE_DAMAGED, never wiped', async (t) => {
  const url = await freshDatabase(t)
  await sql(url, `CREATE TABLE flr_leases (lease text PRIMARY KEY); INSERT INTO flr_leases VALUES ('kept')`)
  await t.rejects(openPgLeaseStore({ url, hostId: HOST }), { code: 'STORE_DAMAGED', message: /no flr_meta/ })
  await sql(url, `CREATE TABLE flr_meta (key text PRIMARY KEY, value text NOT NULL); INSERT INTO flr_meta VALUES ('schema_version', 'banana')`)
  await t.rejects(openPgLeaseStore({ url, hostId: HOST }), { code: 'STORE_DAMAGED', message: /schema_version is "banana"/ })
  t.same(await leaseIdsIn(url), ['kept'])
})

t.test('[HA-1] two nodes opening one empty database at once migrate it once', async (t) => {
  const url = await freshDatabase(t)
  const stores = await Promise.all([HOST, 'Lnx-AAAA-BBBB-CCCC-DDDD', 'Lnx-EEEE-FFFF-GGGG-HHHH'].map((hostId) => openPgLeaseStore({ url, hostId })))
  t.teardown(() => Promise.all(stores.map((s) => s.close())))
  const froms = (await Promise.all(stores.map((s) => s.migrated))).map((m) => m.from).sort()
  t.same(froms, [0, SCHEMA_VERSION, SCHEMA_VERSION], 'one created it, the others found it current')
})

t.test('[LEASE-7] group commit: the writes of one turn share one transaction, and each resolves only after it', async (t) => {
  const url = await freshDatabase(t)
  const store = await openPgLeaseStore({ url, hostId: HOST })
  t.teardown(() => store.close())
  const before = store.stats()
  const writes = [...Array.from({ length: 200 }, (_, i) => store.put(leaseRecord(i))), store.remove(leaseRecord(0).lease)]
  // a second turn's writes while that commit runs: one more transaction, not 100
  await new Promise((resolve) => setImmediate(resolve))
  const later = Array.from({ length: 100 }, (_, i) => store.put(leaseRecord(1000 + i)))
  await Promise.all([...writes, ...later])
  const after = store.stats()
  t.equal(after.writes - before.writes, 301)
  t.ok(after.commits - before.commits <= 2, `301 writes in ${after.commits - before.commits} transaction(s)`)
  t.equal((await leaseIdsIn(url)).length, 299, 'every acknowledged write is committed, as another connection sees it')
})

t.test('[LEASE-7] group commit as the database sees it: the 500 rows of one turn carry one transaction id', async (t) => {
  const url = await freshDatabase(t)
  const store = await openPgLeaseStore({ url, hostId: HOST })
  t.teardown(() => store.close())
  await Promise.all(Array.from({ length: 500 }, (_, i) => store.put(leaseRecord(i))))
  // xmin: the id of the transaction that wrote the row
  const [row] = await sql<{ rows: number; xacts: number }>(url, 'SELECT count(*)::int AS rows, count(DISTINCT xmin::text)::int AS xacts FROM flr_leases')
  t.same(row, { rows: 500, xacts: 1 })
})

t.test('[HA-3] fence: a writer holding the term commits; with a stale term it is refused NOT_LEADER, told, and writes nothing', async (t) => {
  const url = await freshDatabase(t)
  let term: string | undefined = '5'
  let lost = 0
  const fence = { term: () => term, node: HOST, lost: () => void lost++ }
  const store = await openPgLeaseStore({ url, hostId: HOST, fence })
  t.teardown(() => store.close())
  await t.rejects(store.put(leaseRecord(1)), { code: 'NOT_LEADER' }, 'the term is not in the database yet')
  t.equal(lost, 1, 'the leadership is told')
  await lead(url, 5, HOST)
  await store.put(leaseRecord(2))
  await store.remove(leaseRecord(2).lease)
  await store.put(leaseRecord(3))
  t.same(await leaseIdsIn(url), [leaseRecord(3).lease], 'the term holder writes')
  // another node takes over (term 6): this node's next writes must land nowhere
  await lead(url, 6, 'Lnx-AAAA-BBBB-CCCC-DDDD')
  const refused = [store.put(leaseRecord(4)), store.remove(leaseRecord(3).lease), store.put(leaseRecord(5))]
  for (const w of refused) await t.rejects(w, { code: 'NOT_LEADER' })
  t.equal(lost, 2)
  t.same(await leaseIdsIn(url), [leaseRecord(3).lease], 'nothing written: counted after')
  // its own term, expired by the database's clock, is no better
  await lead(url, 7, HOST, -1)
  term = '7'
  await t.rejects(store.put(leaseRecord(6)), { code: 'NOT_LEADER' })
  t.same(await leaseIdsIn(url), [leaseRecord(3).lease])
  term = undefined
  t.match(store.unavailable(), { code: 'NOT_LEADER' }, 'no term: the engine is told before it takes a seat')
  await t.rejects(store.put(leaseRecord(7)), { code: 'NOT_LEADER' })
})

t.test('[HA-3] a write waiting on the fence while a new leader takes the row is refused once that commits', async (t) => {
  const url = await freshDatabase(t)
  const store = await openPgLeaseStore({ url, hostId: HOST, fence: { term: () => '1', node: HOST, lost: () => {} } })
  t.teardown(() => store.close())
  await lead(url, 1, HOST)
  // the taker holds the row's lock in an open transaction: the writer's FOR SHARE waits for it
  const pgm = await import('pg')
  const taker = new pgm.default.Client({ connectionString: url })
  taker.on('error', () => {})
  await taker.connect()
  t.teardown(() => taker.end())
  await taker.query('BEGIN')
  await taker.query(`UPDATE flr_leader SET term = term + 1, node = 'Lnx-AAAA-BBBB-CCCC-DDDD', expires_at = now() + interval '1 minute' WHERE id = 1`)
  const writing = store.put(leaseRecord(1))
  let settled = false
  writing.then(
    () => (settled = true),
    () => (settled = true),
  )
  // wait until the writer is really blocked on the row lock
  for (let i = 0; i < 200; i++) {
    const waiting = await sql(url, `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)
    if (waiting.length > 0) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.equal(settled, false, 'the write waits for the taker')
  await taker.query('COMMIT')
  await t.rejects(writing, { code: 'NOT_LEADER' })
  t.same(await leaseIdsIn(url), [])
})
