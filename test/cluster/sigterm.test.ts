// [HA-5] SIGTERM of the leader hands over at once: it gives its term up in the database (and
// NOTIFYs), a standby takes over without waiting for the TTL, and the leader's connections are
// sent `moving {host, port}` of the new leader. Under load, with library-held leases ([HA-6]).
import t from 'tap'
import { freshDatabase } from '../helpers/postgres.js'
import { Cluster, openWithin } from './cluster-harness.js'
import { LibraryHolders } from './library-holder.js'
import { Workload } from './workload.js'

t.test('[HA-5] SIGTERM hands over to a standby at once and sends clients there with moving', async (t) => {
  const url = await freshDatabase(t)
  // a TTL far longer than a handover may take: a takeover that waited for expiry would show
  const cluster = await Cluster.create(t, { url, nodes: 2, leaderTtl: '10s', leaderRenew: '1s', leaseTtl: '6s', packs: [{ name: 'cad', limit: 3 }, { name: 'lib', limit: 2 }] })
  await cluster.startAll()
  const library = await LibraryHolders.hold(t, cluster, 'lib', 2)
  // strict: a request the stopping leader refuses was not done, one it answered was committed
  const load = new Workload(cluster, 'cad', 3, true)
  load.start(5)
  const handovers: number[] = []
  for (let i = 0; i < 3; i++) {
    const leader = await cluster.waitForLeader()
    await load.progress(10)
    const watcher = (await openWithin(leader.port, 'watcher', 5_000))!
    const sentAt = performance.now()
    const exit = cluster.terminate(leader)
    const next = await cluster.waitForLeader(leader, 9_000)
    handovers.push(Math.round(performance.now() - sentAt))
    t.not(next, leader, `handover ${i + 1}: ${next.name} leads`)
    const moving = await watcher.conn.nextPush('moving')
    t.match(moving, { host: '127.0.0.1', port: next.port }, 'the old leader sent its connections to the new one')
    t.same(await exit, { code: 0, signal: null }, 'and exited cleanly')
    void watcher.conn.destroy()
    await load.progress(10)
    await cluster.start(leader)
  }
  await load.stop()
  t.comment(`handover times (ms, SIGTERM to the new leader answering hello as leader): ${handovers.join(' ')}`)
  t.ok(handovers.every((ms) => ms < 9_000), 'every takeover came before the 10 s TTL could have expired')
  t.same(await load.check(url), [], 'no pack over its limit, every acknowledged lease renews by id, no released lease back')
  t.same(library.problems(), [], '[HA-6] library leases stayed usable, none lost')
})
