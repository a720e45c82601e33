// [HA-7] PostgreSQL stopped and started again under load: the leader stops serving within its
// TTL (it cannot renew: the fence), no node serves while the database is away, and once it is
// back a leader is elected and every acknowledged lease is restored: nothing lost, nothing
// granted twice. Library-held leases stay usable through it ([HA-6]).
import t from 'tap'
import { startPostgres } from '../helpers/postgres.js'
import { Cluster, sleep } from './cluster-harness.js'
import { LibraryHolders } from './library-holder.js'
import { Workload } from './workload.js'

t.test('[HA-7] [HA-5] the database stopped and started under load: service stops, then resumes with every lease', async (t) => {
  const pg = await startPostgres(t)
  const url = await pg.database()
  const cluster = await Cluster.create(t, { url, nodes: 2, leaseTtl: '20s', packs: [{ name: 'cad', limit: 3 }, { name: 'lib', limit: 2 }] })
  await cluster.startAll()
  await cluster.waitForLeader()
  const library = await LibraryHolders.hold(t, cluster, 'lib', 2)
  const load = new Workload(cluster, 'cad', 3)
  load.start(5)
  for (let round = 1; round <= 2; round++) {
    await load.progress(20)
    await pg.stop()
    const stoppedAt = performance.now()
    // no node leads while the database is away: the leader fenced itself when renewals failed
    for (;;) {
      if ((await cluster.leader()) === undefined) break
      if (performance.now() - stoppedAt > 60_000) throw new Error(`a node still leads a minute after the database stopped: ${cluster.lastLogs()}`)
      await sleep(50)
    }
    t.pass(`round ${round}: no node serves ${Math.round(performance.now() - stoppedAt)} ms after the database stopped`)
    const grants = load.counts.grants
    await sleep(2_000)
    t.ok(load.counts.grants - grants <= 1, 'nothing is granted while the database is away (one answer may have been in flight)')
    await pg.start()
    const leader = await cluster.waitForLeader(undefined, 90_000)
    t.pass(`round ${round}: ${leader.name} leads again once the database is back`)
    await load.progress(20, 90_000)
  }
  await load.stop()
  t.comment(`acknowledged: ${JSON.stringify(load.counts)}; library renewals ${library.renewals}`)
  t.same(await load.check(url), [], 'no pack over its limit, every acknowledged lease renews by id, no released lease back')
  t.same(library.problems(), [], '[HA-6] library leases stayed usable, none lost')
})
