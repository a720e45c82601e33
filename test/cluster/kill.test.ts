// [HA-5] kill -9 of the leader under lease/release load, 20 times in one run, each killed node
// started again: a standby takes over every time, no pack is ever over its limit across the
// cluster, every acknowledged lease renews with its id on the new leader, and no released lease
// comes back ([LEASE-1], [LEASE-8]); leases held through the client library stay usable ([HA-6]).
import t from 'tap'
import { freshDatabase } from '../helpers/postgres.js'
import { Cluster } from './cluster-harness.js'
import { LibraryHolders } from './library-holder.js'
import { Workload } from './workload.js'

const KILLS = 20
const LIMIT = 3

t.test('[HA-5] [LEASE-1] [LEASE-8] kill -9 of the leader 20 times under load: nothing lost, nothing granted twice', async (t) => {
  const url = await freshDatabase(t)
  const cluster = await Cluster.create(t, { url, nodes: 3, leaseTtl: '6s', packs: [{ name: 'cad', limit: LIMIT }, { name: 'lib', limit: 2 }] })
  await cluster.startAll()
  await cluster.waitForLeader()
  const library = await LibraryHolders.hold(t, cluster, 'lib', 2)
  const load = new Workload(cluster, 'cad', LIMIT)
  load.start(2 * LIMIT)
  // three nodes: a killed node starts again while the next kill goes on, one standby always up
  let restarting: Promise<void> = Promise.resolve()
  let restartedBefore: Promise<void> = Promise.resolve()
  const failovers: number[] = []
  for (let i = 0; i < KILLS; i++) {
    await restartedBefore
    const leader = await cluster.waitForLeader()
    await load.progress(6)
    const killedAt = performance.now()
    await cluster.kill(leader)
    const next = await cluster.waitForLeader(leader)
    failovers.push(Math.round(performance.now() - killedAt))
    await load.progress(4)
    t.not(next, leader, `kill ${i + 1}: ${next.name} took over from ${leader.name}`)
    restartedBefore = restarting
    restarting = cluster.start(leader)
  }
  await Promise.all([restartedBefore, restarting])
  await load.stop()
  t.comment(`failover times (ms, kill to a node answering hello as leader): ${failovers.join(' ')}`)
  t.comment(`acknowledged: ${JSON.stringify(load.counts)}, peak held ${load.peakHeld()} of ${LIMIT}`)
  t.ok(load.counts.grants > KILLS * 4 && load.counts.releases > KILLS * 4, 'the load went on through every failover')
  t.ok(load.counts.renewals > 0, 'leases renewed')
  t.same(await load.check(url), [], 'no pack over its limit, every acknowledged lease renews by id, no released lease back')
  t.comment(`library: ${library.renewals} renewals, ${library.samples} usable samples`)
  t.ok(library.renewals > 0, 'the library renewed its leases through the failovers')
  t.same(library.problems(), [], '[HA-6] library leases stayed usable, none lost')
})
