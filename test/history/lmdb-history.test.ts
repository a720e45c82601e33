// [OBS-2] the usage history in the LMDB store: each grant and end is written with the lease,
// notes come in batches, events read back in time order across a reopen, retention sweeps.
import t from 'tap'
import { openLeaseStore } from '../../lib/store/lease-store.js'
import { leaseRecord } from '../store/fixtures.js'

const HOST = 'Lnx-7Q2M-K4DA-ZP9W-3HXE'
const T0 = 1_700_000_000_000

t.test('[OBS-2] a put writes the grant and a removal its end, with the lease', async (t) => {
  const stateDir = t.testdir()
  const store = await openLeaseStore({ stateDir, hostId: HOST })
  const a = leaseRecord(1)
  await store.put(a, 250)
  await store.remove(a.lease, { how: 'expired', at: T0 + 60_000, record: a })
  await store.history!.append([
    { kind: 'denial', at: T0 + 61_000, pack: 'cad', holder: 'bob', code: 'WAIT_TIMEOUT', waitedMs: 900 },
    { kind: 'limit', at: T0 + 62_000, pack: 'cad', limit: 4 },
  ])
  t.same(await store.history!.events(T0, T0 + 100_000), [
    { kind: 'grant', at: a.grantedAt, lease: a.lease, pack: 'cad', holder: 'holder-1', client: 'ws-1.example.com', address: '10.0.0.1', waitedMs: 250 },
    { kind: 'end', at: T0 + 60_000, lease: a.lease, pack: 'cad', holder: 'holder-1', how: 'expired' },
    { kind: 'denial', at: T0 + 61_000, pack: 'cad', holder: 'bob', code: 'WAIT_TIMEOUT', waitedMs: 900 },
    { kind: 'limit', at: T0 + 62_000, pack: 'cad', limit: 4 },
  ])
  t.same(await store.history!.events(T0 + 60_000, T0 + 61_000), [
    { kind: 'end', at: T0 + 60_000, lease: a.lease, pack: 'cad', holder: 'holder-1', how: 'expired' },
  ], 'from is inclusive, to exclusive')
  await store.close()
})

t.test('[OBS-2] a clock stepped back writes in order; the order survives a reopen', async (t) => {
  const stateDir = t.testdir()
  let store = await openLeaseStore({ stateDir, hostId: HOST })
  const a = leaseRecord(1, { grantedAt: T0 + 5_000 })
  const b = leaseRecord(2, { grantedAt: T0 + 1_000 }) // the clock went back 4 s
  await store.put(a)
  await store.put(b)
  await store.close()
  store = await openLeaseStore({ stateDir, hostId: HOST })
  await store.remove(b.lease, { how: 'released', at: T0 + 2_000, record: b })
  const events = await store.history!.events(0, T0 + 10_000)
  t.same(events.map((e) => `${e.kind} ${'lease' in e ? e.lease : ''} ${e.at - T0}`), [
    `grant ${a.lease} 5000`,
    `grant ${b.lease} 5000`,
    `end ${b.lease} 5000`,
  ], 'write order kept, times never go back')
  t.same(store.load().map((r) => r.lease), [a.lease], 'the leases themselves as before')
  await store.close()
})

t.test('[OBS-2] without history, the store writes leases only', async (t) => {
  const stateDir = t.testdir()
  const store = await openLeaseStore({ stateDir, hostId: HOST, history: false })
  await store.put(leaseRecord(1))
  t.equal(store.history, undefined)
  await store.close()
  const again = await openLeaseStore({ stateDir, hostId: HOST })
  t.same(await again.history!.events(0, Infinity), [])
  await again.close()
})

t.test('[OBS-2] retention: the sweep deletes what is older than the cut, at most max per step', async (t) => {
  const stateDir = t.testdir()
  const store = await openLeaseStore({ stateDir, hostId: HOST })
  const h = store.history!
  await h.append(Array.from({ length: 25 }, (_, i) => ({ kind: 'limit' as const, at: T0 + i * 1_000, pack: 'cad', limit: i })))
  await h.saveDay([{ day: T0, pack: 'cad', rollup: { x: 1 } }], { day: T0 + 1, state: { s: 1 } })
  await h.saveDay([{ day: T0 + 1, pack: 'cad', rollup: { x: 2 } }], { day: T0 + 2, state: { s: 2 } })
  const steps: number[] = []
  for (let n = await h.sweep(T0 + 20_000, 8); n > 0; n = await h.sweep(T0 + 20_000, 8)) steps.push(n)
  t.same(steps, [8, 8, 7], '20 events, 2 rollups and 1 of 2 checkpoints in steps of at most 8')
  t.same((await h.events(0, Infinity)).map((e) => e.at - T0), [20_000, 21_000, 22_000, 23_000, 24_000])
  t.same(await h.rollups(0, Infinity), [])
  t.same(await h.checkpoint(), { day: T0 + 2, state: { s: 2 } }, 'the latest checkpoint stays')
  await store.close()
})
