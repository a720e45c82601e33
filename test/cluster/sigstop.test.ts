// [HA-3] [HA-5] A leader frozen (SIGSTOP) past its TTL, with requests queued to it, then thawed
// (SIGCONT): a standby took over meanwhile; the thawed node grants nothing, acknowledges nothing
// (not the grant, not the release it had been sent), and steps down. Under load, with leases held
// through the client library ([HA-6]).
import t from 'tap'
import { freshDatabase } from '../helpers/postgres.js'
import { Cluster, openWithin } from './cluster-harness.js'
import { LibraryHolders } from './library-holder.js'
import { Workload } from './workload.js'
import pg from 'pg'

t.test('[HA-3] [HA-5] a leader paused past its TTL grants and acknowledges nothing when it wakes, and steps down', async (t) => {
  const url = await freshDatabase(t)
  const cluster = await Cluster.create(t, { url, nodes: 2, leaseTtl: '6s', packs: [{ name: 'cad', limit: 3 }, { name: 'lib', limit: 2 }] })
  await cluster.startAll()
  const frozen = await cluster.waitForLeader()
  const library = await LibraryHolders.hold(t, cluster, 'lib', 2)
  const load = new Workload(cluster, 'cad', 3)
  load.start(5)
  await load.progress(10)

  // a lease taken before the pause, then requests sent to the frozen leader
  const before = (await openWithin(frozen.port, 'frozen', 5_000))!
  t.teardown(() => before.conn.destroy())
  const conn = before.conn
  const held = await conn.request('lease', { pack: 'lib', holder: 'frozen-held', wait: 60_000 })
  cluster.signal(frozen, 'SIGSTOP')
  const queued = [
    conn.request('lease', { pack: 'cad', holder: 'frozen-new' }),
    conn.request('lease', { pack: 'lib', holder: 'frozen-new' }),
    ...(held.ok ? [conn.request('release', { lease: held.lease as string })] : []),
  ]
  const next = await cluster.waitForLeader(frozen)
  t.not(next, frozen, `${next.name} took over while ${frozen.name} was frozen`)
  await load.progress(20)
  cluster.signal(frozen, 'SIGCONT')
  const replies = await Promise.all(queued)
  for (const r of replies) {
    t.notOk(r.ok, `a request queued to the frozen leader is not acknowledged (${r.lost ? 'connection lost' : r.error?.code})`)
    if (!r.lost) t.equal(r.error?.code, 'NOT_LEADER')
  }
  await frozen.log!.waitForLog(/^lost leadership/, 30_000)
  // it learns who leads on its next attempt at the row (within --leader-renew)
  let after = (await openWithin(frozen.port, 'probe', 5_000))!
  for (let i = 0; i < 100 && after.hello.leader === undefined; i++) {
    void after.conn.destroy()
    await new Promise((r) => setTimeout(r, 100))
    after = (await openWithin(frozen.port, 'probe', 5_000))!
  }
  t.equal(after.hello.role, 'standby', 'the thawed node stands by')
  t.equal(after.hello.leader, next.address, 'and names the new leader')
  void after.conn.destroy()

  await load.progress(10)
  await load.stop()
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  const { rows } = await db.query<{ holder: string; lease: string }>("SELECT holder, lease FROM flr_leases WHERE holder LIKE 'frozen%'")
  await db.end()
  t.notOk(rows.some((r) => r.holder === 'frozen-new'), 'nothing was granted by the frozen node')
  if (held.ok) t.ok(rows.some((r) => r.lease === held.lease), 'the release sent to the frozen node was not applied: the lease is still held')
  t.comment(`acknowledged: ${JSON.stringify(load.counts)}; library renewals ${library.renewals}`)
  t.same(await load.check(url), [], 'no pack over its limit, every acknowledged lease renews by id, no released lease back')
  t.same(library.problems(), [], '[HA-6] library leases stayed usable, none lost')
})
