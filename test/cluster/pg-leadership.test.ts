// The SQL of leadership ([HA-3]) and of the node list ([HA-8]) against a real PostgreSQL, on the
// schema the store creates: the row is taken with term + 1 only when free or expired by the
// database's clock, renewed only by its holder, given up by resign (with a NOTIFY), and the
// store's fence accepts the writes of the current term only.
import t from 'tap'
import pg from 'pg'
import { freshDatabase } from '../helpers/postgres.js'
import { PgLeadership, type NodeSelf } from '../../lib/cluster/pg-leadership.js'
import { openPgLeaseStore } from '../../lib/store/pg-lease-store.js'

function self(node: string, digest = 'd'.repeat(64)): NodeSelf {
  return { node, address: () => `${node}.example:19110`, http: () => `${node}.example:7070`, lpfDigest: () => digest }
}

async function schema(t: Parameters<typeof freshDatabase>[0]): Promise<string> {
  const url = await freshDatabase(t)
  // the store creates flr_leader and flr_nodes ([HA-1]); leadership uses them as they are
  const store = await openPgLeaseStore({ url, hostId: 'setup' })
  await store.close()
  return url
}

t.test('[HA-3] one node takes the row; the other learns who leads; renew and resign by the holder only', async (t) => {
  const url = await schema(t)
  const a = new PgLeadership(url, self('a'), 2_000)
  const b = new PgLeadership(url, self('b'), 2_000)
  t.teardown(() => Promise.all([a.close(), b.close()]))
  const first = await a.acquire(60_000)
  t.match(first, { term: String })
  const term = (first as { term: string }).term
  const held = await b.acquire(60_000)
  t.match(held, { leader: { node: 'a', address: 'a.example:19110', http: 'a.example:7070' } }, 'a held row is not taken')
  t.ok('expiresInMs' in held && held.expiresInMs! > 50_000 && held.expiresInMs! <= 60_000, 'and says when its term runs out, by the database clock')
  t.equal(await a.renew(term, 60_000), true)
  t.equal(await b.renew(term, 60_000), false, 'only the holder renews')
  t.equal(await a.renew(String(Number(term) + 1), 60_000), false, 'and only its own term')
  let woke = 0
  await b.listen(() => woke++)
  await a.resign(term)
  for (let i = 0; i < 100 && woke === 0; i++) await new Promise((r) => setTimeout(r, 20))
  t.ok(woke > 0, '[HA-5] a resign wakes the standbys (NOTIFY)')
  const second = await b.acquire(60_000)
  t.match(second, { term: String }, 'a resigned row is taken at once')
  t.ok(Number((second as { term: string }).term) > Number(term), 'with a higher term')
  t.equal(await a.renew(term, 60_000), false, 'the old term renews no more')
})

t.test('[HA-3] an expired row is taken, judged by the database clock', async (t) => {
  const url = await schema(t)
  const a = new PgLeadership(url, self('a'), 2_000)
  const b = new PgLeadership(url, self('b'), 2_000)
  t.teardown(() => Promise.all([a.close(), b.close()]))
  const first = (await a.acquire(300)) as { term: string }
  t.match(await b.acquire(300), { leader: { node: 'a' } })
  await new Promise((r) => setTimeout(r, 600))
  const taken = await b.acquire(300)
  t.match(taken, { term: String }, 'taken once expired')
  t.equal(await a.renew(first.term, 300), false, 'an expired term cannot be renewed back')
})

t.test('[HA-3] two nodes racing for a free row: exactly one wins', async (t) => {
  const url = await schema(t)
  const nodes = ['a', 'b', 'c', 'd'].map((n) => new PgLeadership(url, self(n), 5_000))
  t.teardown(() => Promise.all(nodes.map((n) => n.close())))
  const results = await Promise.all(nodes.map((n) => n.acquire(60_000)))
  t.equal(results.filter((r) => 'term' in r).length, 1)
})

t.test('[HA-3] the store fence accepts the current term only', async (t) => {
  const url = await schema(t)
  const a = new PgLeadership(url, self('a'), 2_000)
  t.teardown(() => a.close())
  let term: string | undefined = ((await a.acquire(60_000)) as { term: string }).term
  let lost = 0
  const store = await openPgLeaseStore({ url, hostId: 'a', fence: { term: () => term, node: 'a', lost: () => lost++ } })
  t.teardown(() => store.close())
  const record = { lease: 'L1AAAAAAAAAAAAAAAAAAAA', pack: 'cad', holder: 'ann', client: 'ann', address: '10.0.0.1:1', grantedAt: 1 }
  await store.put(record)
  await a.resign(term)
  await t.rejects(store.put({ ...record, lease: 'L2AAAAAAAAAAAAAAAAAAAA' }), { code: 'NOT_LEADER' }, 'a resigned term writes nothing')
  t.ok(lost > 0, 'and the store says the term is lost')
  term = undefined
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  const { rows } = await db.query('SELECT lease FROM flr_leases ORDER BY lease')
  await db.end()
  t.same(rows.map((r) => r.lease), ['L1AAAAAAAAAAAAAAAAAAAA'])
})

t.test('[HA-8] every node upserts its row each attempt; the list says who and when', async (t) => {
  const url = await schema(t)
  const a = new PgLeadership(url, self('a', 'a'.repeat(64)), 2_000)
  const b = new PgLeadership(url, self('b', 'b'.repeat(64)), 2_000)
  t.teardown(() => Promise.all([a.close(), b.close()]))
  await a.acquire(60_000)
  await b.acquire(60_000)
  const nodes = await a.nodes()
  t.same(nodes.map((n) => [n.hostId, n.role, n.address, n.http, n.lpfDigest]), [
    ['a', 'leader', 'a.example:19110', 'a.example:7070', 'a'.repeat(64)],
    ['b', 'standby', 'b.example:19110', 'b.example:7070', 'b'.repeat(64)],
  ])
  for (const n of nodes) t.ok(n.lastSeenAgoMs < 60_000 && !Number.isNaN(Date.parse(n.lastSeen)), `${n.hostId} last seen just now`)
  t.match(await b.leader(), { node: 'a', address: 'a.example:19110' })
})
