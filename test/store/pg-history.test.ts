// [OBS-2] [OBS-3] The usage history in the PostgreSQL store: grants and ends in the lease's own
// transaction, notes (denials, limits) through the same fenced group commit, the report's
// rollups and checkpoints, and the retention sweep.
import t, { type Test } from 'tap'
import { openPgLeaseStore } from '../../lib/store/pg-lease-store.js'
import { freshDatabase } from '../helpers/postgres.js'
import { leaseRecord } from './fixtures.js'
import { lead, sql } from './pg-fixtures.js'

const HOST = 'Lnx-7Q2M-K4DA-ZP9W-3HXE'

async function opened(t: Test, fence?: Parameters<typeof openPgLeaseStore>[0]['fence']) {
  const url = await freshDatabase(t)
  const store = await openPgLeaseStore({ url, hostId: HOST, ...(fence ? { fence } : {}) })
  t.teardown(() => store.close())
  return { url, store, history: store.history }
}

t.test('[OBS-2] a grant and an end are written in the transaction of the lease write, and read back in write order', async (t) => {
  const { url, store, history } = await opened(t)
  const a = leaseRecord(1, { grantedAt: 1_000 })
  const b = leaseRecord(2, { grantedAt: 1_001 })
  await Promise.all([store.put(a, 250), store.put(b)])
  await store.remove(a.lease, { how: 'released', at: 2_000, record: a })
  await store.remove(b.lease, { how: 'expired', at: 1_500, record: b })
  t.same(await history.events(0, 10_000), [
    { kind: 'grant', at: 1_000, lease: a.lease, pack: a.pack, holder: a.holder, client: a.client, address: a.address, waitedMs: 250 },
    { kind: 'grant', at: 1_001, lease: b.lease, pack: b.pack, holder: b.holder, client: b.client, address: b.address, waitedMs: 0 },
    { kind: 'end', at: 2_000, lease: a.lease, pack: a.pack, holder: a.holder, how: 'released' },
    { kind: 'end', at: 2_000, lease: b.lease, pack: b.pack, holder: b.holder, how: 'expired' },
  ], 'a time that would go back is written at the latest one: time order is write order')
  t.same((await history.events(1_001, 2_000)).map((e) => e.at), [1_001], 'from ≤ at < to')
  // one transaction: the grant event and the lease row carry the same transaction id
  const c = leaseRecord(3, { grantedAt: 3_000 })
  await store.put(c, 5)
  const [row] = await sql<{ same: boolean }>(
    url,
    `SELECT (SELECT xmin::text FROM flr_leases WHERE lease = $1) = (SELECT xmin::text FROM flr_events WHERE lease = $1 AND kind = 'grant') AS same`,
    [c.lease],
  )
  t.same(row, { same: true })
})

t.test('[OBS-2] notes (denials, limits) are appended durably, fenced like any write', async (t) => {
  let term: string | undefined = '3'
  const { url, history } = await opened(t, { term: () => term, node: HOST, lost: () => {} })
  await lead(url, 3, HOST)
  await history.append([
    { kind: 'denial', at: 10, pack: 'cad', holder: 'bob', code: 'PACK_EXHAUSTED', waitedMs: 0 },
    { kind: 'limit', at: 11, pack: 'cad', limit: 5 },
    { kind: 'denial', at: 12, pack: 'cad', holder: 'eve', code: 'WAIT_TIMEOUT', waitedMs: 30_000 },
  ])
  t.same(await history.events(0, 100), [
    { kind: 'denial', at: 10, pack: 'cad', holder: 'bob', code: 'PACK_EXHAUSTED', waitedMs: 0 },
    { kind: 'limit', at: 11, pack: 'cad', limit: 5 },
    { kind: 'denial', at: 12, pack: 'cad', holder: 'eve', code: 'WAIT_TIMEOUT', waitedMs: 30_000 },
  ])
  await lead(url, 4, 'Lnx-AAAA-BBBB-CCCC-DDDD')
  await t.rejects(history.append([{ kind: 'limit', at: 13, pack: 'cad', limit: 6 }]), { code: 'NOT_LEADER' })
  term = undefined
  t.equal((await history.events(0, 100)).length, 3, 'a node whose term is over writes no history')
})

t.test('[OBS-3] rollups and checkpoints: saved in one transaction, read by day range, latest checkpoint at or before a day', async (t) => {
  const { history } = await opened(t)
  const DAY = 86_400_000
  t.equal(await history.checkpoint(), undefined)
  await history.saveDay([{ day: 0, pack: 'cad', rollup: { peak: 3, nested: [1, { x: 'ü' }] } }, { day: 0, pack: 'cam', rollup: 7 }], { day: DAY, state: { open: ['l1'] } })
  await history.saveDay([{ day: DAY, pack: 'cad', rollup: null }], { day: 2 * DAY, state: 'two' })
  // saving a day again replaces it
  await history.saveDay([{ day: DAY, pack: 'cad', rollup: { peak: 4 } }], { day: 2 * DAY, state: 'two again' })
  t.same(await history.rollups(0, DAY), [
    { day: 0, pack: 'cad', rollup: { peak: 3, nested: [1, { x: 'ü' }] } },
    { day: 0, pack: 'cam', rollup: 7 },
  ])
  t.same(await history.rollups(0, 3 * DAY), [
    { day: 0, pack: 'cad', rollup: { peak: 3, nested: [1, { x: 'ü' }] } },
    { day: 0, pack: 'cam', rollup: 7 },
    { day: DAY, pack: 'cad', rollup: { peak: 4 } },
  ])
  t.same(await history.checkpoint(), { day: 2 * DAY, state: 'two again' })
  t.same(await history.checkpoint(2 * DAY - 1), { day: DAY, state: { open: ['l1'] } })
  t.equal(await history.checkpoint(DAY - 1), undefined)
})

t.test('[OBS-2] the sweep deletes at most max old rows per call, and keeps the latest checkpoint before the cut', async (t) => {
  const { store, history } = await opened(t)
  for (let i = 0; i < 5; i++) await store.put(leaseRecord(i, { grantedAt: 100 + i }))
  await history.saveDay([{ day: 50, pack: 'cad', rollup: 1 }], { day: 60, state: 'a' })
  await history.saveDay([], { day: 70, state: 'b' })
  await history.saveDay([], { day: 200, state: 'kept' })
  t.equal(await history.sweep(103, 2), 2, 'max 2')
  t.equal(await history.sweep(103, 100), 1 + 1 + 1, 'the third old event, the old rollup, the older of the two old checkpoints')
  t.equal(await history.sweep(103, 100), 0, 'nothing left to sweep')
  t.same((await history.events(0, 1_000)).map((e) => e.at), [103, 104])
  t.same(await history.checkpoint(100), { day: 70, state: 'b' }, 'the latest checkpoint before the cut stays')
  t.same(await history.checkpoint(), { day: 200, state: 'kept' })
})

t.test('[OBS-2] a clock stepped back writes in order, and so does the next leader, whose clock may be behind', async (t) => {
  const url = await freshDatabase(t)
  const T0 = 1_700_000_000_000
  let store = await openPgLeaseStore({ url, hostId: HOST })
  const a = leaseRecord(1, { grantedAt: T0 + 5_000 })
  const b = leaseRecord(2, { grantedAt: T0 + 1_000 }) // the clock went back 4 s
  await store.put(a)
  await store.put(b)
  await store.close()
  // another node (a new leader) opens the same database
  store = await openPgLeaseStore({ url, hostId: 'Lnx-AAAA-BBBB-CCCC-DDDD' })
  t.teardown(() => store.close())
  await store.remove(b.lease, { how: 'released', at: T0 + 2_000, record: b })
  const events = await store.history.events(0, T0 + 10_000)
  t.same(events.map((e) => `${e.kind} ${'lease' in e ? e.lease : ''} ${e.at - T0}`), [`grant ${a.lease} 5000`, `grant ${b.lease} 5000`, `end ${b.lease} 5000`], 'write order kept, times never go back')
  t.same((await store.load()).map((r) => r.lease), [a.lease], 'the leases themselves as before')
})
