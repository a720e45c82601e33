// [OBS-2] the engine tells its observers of every grant (once durable), end and denial.
import t from 'tap'
import { SeatEngine } from '../../lib/engine/engine.js'
import type { Denial, EngineObserver, LeaseEndHow, LeaseRecord } from '../../lib/engine/types.js'
import { FakeClock } from './fake-clock.js'
import { ManualStore } from './manual-store.js'
import { ask, flush, pack, track } from './harness.js'

const TTL = 30_000

function observed(opts: { auto?: boolean } = {}) {
  const clock = new FakeClock()
  const store = new ManualStore(opts.auto ?? true)
  const log: string[] = []
  const granted: { lease: LeaseRecord; at: number; waitedMs: number }[] = []
  const ended: { lease: LeaseRecord; how: LeaseEndHow; at: number }[] = []
  const denied: Denial[] = []
  const observer: EngineObserver = {
    granted: (lease, at, waitedMs) => {
      granted.push({ lease, at, waitedMs })
      log.push(`granted ${lease.holder}`)
    },
    ended: (lease, how, at) => {
      ended.push({ lease, how, at })
      log.push(`ended ${lease.holder} ${how}`)
    },
    denied: (denial) => {
      denied.push(denial)
      log.push(`denied ${denial.holder} ${denial.code}`)
    },
  }
  let next = 0
  const engine = new SeatEngine({ clock, store, ttlMs: TTL, newLeaseId: () => `L${++next}`, observers: [observer] })
  return { clock, store, engine, log, granted, ended, denied }
}

t.test('[OBS-2] a grant is told once it is durable, with its wait; a repeated request is not a new grant', async (t) => {
  const { clock, store, engine, granted } = observed({ auto: false })
  engine.applyPlan([pack('cad', 1)])
  const first = track(engine.lease(ask('cad', 'ann')))
  t.same(granted, [], 'not before the put is durable')
  clock.advance(5)
  store.resolveAll()
  await flush()
  t.equal(first.state, 'resolved')
  t.equal(granted.length, 1)
  t.equal(granted[0].lease.holder, 'ann')
  t.equal(granted[0].lease.pack, 'cad')
  t.equal(granted[0].at, clock.now(), 'told at the acknowledgement, by the injected clock')
  t.equal(granted[0].waitedMs, 0)
  await engine.lease(ask('cad', 'ann'))
  t.equal(granted.length, 1, '[LEASE-2] the same lease renewed is not a grant')
})

t.test('[OBS-2] a waiter granted a freed seat is told with how long it waited', async (t) => {
  const { clock, engine, granted, ended, log } = observed()
  engine.applyPlan([pack('cad', 1)])
  const a = await engine.lease(ask('cad', 'ann'))
  clock.advance(1_000)
  const bob = engine.lease(ask('cad', 'bob', { waitMs: 60_000 }))
  clock.advance(2_500)
  await engine.release(a.lease)
  await bob
  t.same(log, ['granted ann', 'ended ann released', 'granted bob'])
  t.equal(granted[1].waitedMs, 2_500)
  t.equal(ended[0].at, Date.UTC(2026, 0, 1) + 3_500)
})

t.test('[OBS-2] every way a lease ends is told: released, expired, revoked, pack-removed', async (t) => {
  const { clock, engine, ended } = observed()
  engine.applyPlan([pack('cad', 5), pack('cam', 5)])
  const a = await engine.lease(ask('cad', 'ann'))
  const b = await engine.lease(ask('cad', 'bob'))
  await engine.lease(ask('cad', 'cid'))
  await engine.lease(ask('cam', 'dee'))
  await engine.release(a.lease)
  await engine.revoke(b.lease)
  clock.advance(TTL + 1)
  t.same(engine.leases(), [], 'the TTL ran out')
  const c = await engine.lease(ask('cad', 'cid'))
  const e = await engine.lease(ask('cam', 'eve'))
  engine.applyPlan([pack('cad', 5)])
  engine.stopServing('lpf-expired')
  const hows = ended.map((end) => `${end.lease.holder} ${end.how}`)
  t.same(hows, ['ann released', 'bob revoked', 'cid expired', 'dee expired', 'eve pack-removed', 'cid pack-removed'])
  t.equal(ended[2].at, Date.UTC(2026, 0, 1) + TTL, 'when the expiry timer freed the seat')
  t.equal(ended[4].lease.lease, e.lease)
  t.equal(ended[5].lease.lease, c.lease, 'the LPF expired: every pack left the license in force')
})

t.test('[OBS-2] a grant that never became durable is neither granted nor ended', async (t) => {
  const { store, engine, granted, ended } = observed({ auto: false })
  engine.applyPlan([pack('cad', 1)])
  const a = track(engine.lease(ask('cad', 'ann')))
  store.pending()[0].fail(new Error('disk gone'))
  await flush()
  t.equal(a.state, 'rejected')
  t.same(granted, [])
  t.same(ended, [])
})

t.test('[OBS-2] denials: PACK_EXHAUSTED at once, WAIT_TIMEOUT after the wait', async (t) => {
  const { clock, engine, denied } = observed()
  engine.applyPlan([pack('cad', 1)])
  await engine.lease(ask('cad', 'ann'))
  await t.rejects(engine.lease(ask('cad', 'bob')), { code: 'PACK_EXHAUSTED' })
  const cid = engine.lease(ask('cad', 'cid', { waitMs: 4_000 }))
  clock.advance(4_000)
  await t.rejects(cid, { code: 'WAIT_TIMEOUT' })
  await t.rejects(engine.lease(ask('nope', 'dan')), { code: 'PACK_UNKNOWN' })
  const start = Date.UTC(2026, 0, 1)
  t.same(denied, [
    { pack: 'cad', holder: 'bob', code: 'PACK_EXHAUSTED', waitedMs: 0, at: start },
    { pack: 'cad', holder: 'cid', code: 'WAIT_TIMEOUT', waitedMs: 4_000, at: start + 4_000 },
  ], 'a pack that is not there is not a denial')
})

t.test('[OBS-2] an observer that throws changes no decision', async (t) => {
  const clock = new FakeClock()
  const boom = () => {
    throw new Error('observer bug')
  }
  const engine = new SeatEngine({ clock, store: new ManualStore(true), ttlMs: TTL, observers: [{ granted: boom, ended: boom, denied: boom }] })
  engine.applyPlan([pack('cad', 1)])
  const a = await engine.lease(ask('cad', 'ann'))
  await t.rejects(engine.lease(ask('cad', 'bob')), { code: 'PACK_EXHAUSTED' })
  await engine.release(a.lease)
  t.equal(engine.packs()[0].inUse, 0)
})

t.test('[OBS-2] the store is given each grant with its wait, and each end with how and when, in the same call as the write', async (t) => {
  const clock = new FakeClock()
  const calls: string[] = []
  const store = {
    put: async (record: LeaseRecord, waitedMs?: number) => void calls.push(`put ${record.holder} waited ${waitedMs}`),
    remove: async (lease: string, end?: { how: LeaseEndHow; at: number; record: LeaseRecord }) =>
      void calls.push(`remove ${lease} ${end?.record.holder} ${end?.how} +${(end?.at ?? 0) - Date.UTC(2026, 0, 1)}`),
  }
  let next = 0
  const engine = new SeatEngine({ clock, store, ttlMs: TTL, newLeaseId: () => `L${++next}` })
  engine.applyPlan([pack('cad', 1)])
  const a = await engine.lease(ask('cad', 'ann'))
  const bob = engine.lease(ask('cad', 'bob', { waitMs: 10_000 }))
  clock.advance(700)
  await engine.release(a.lease)
  await bob
  clock.advance(TTL)
  t.same(engine.leases(), [])
  t.same(calls, ['put ann waited 0', 'remove L1 ann released +700', 'put bob waited 700', `remove L2 bob expired +${700 + TTL}`])
})

t.test('[OBS-3] observers are told the limits in force each time a plan is applied, and none once not serving', async (t) => {
  const clock = new FakeClock()
  const plans: string[] = []
  const engine = new SeatEngine({
    clock,
    store: new ManualStore(true),
    ttlMs: TTL,
    observers: [{ planned: (packs, at) => plans.push(`${at - Date.UTC(2026, 0, 1)}: ${packs.map((p) => `${p.pack}=${p.limit}`).join(' ')}`) }],
  })
  engine.applyPlan([pack('cad', 2), pack('cam', 1)])
  clock.advance(10)
  engine.applyPlan([pack('cad', 3)])
  clock.advance(10)
  engine.stopServing('lpf-removed')
  t.same(plans, ['0: cad=2 cam=1', '10: cad=3', '20: '])
})
