import t from 'tap'
import { isFlrError } from '../../lib/errors.js'
import type { LeaseRecord } from '../../lib/engine/types.js'
import { TTL, ask, flush, pack, setup, track } from './harness.js'

function record(lease: string, packName: string, holder: string, grantedAt = 1): LeaseRecord {
  return { lease, pack: packName, holder, client: holder, address: '10.0.0.9', grantedAt }
}

t.test('[LEASE-8] restore puts leases back with a fresh TTL and writes nothing', async (t) => {
  const { engine, clock, store, inUse } = setup()
  t.equal(engine.restore([record('R1', 'station', 'alice'), record('R2', 'station', 'bob')]), 2)
  engine.applyPlan([pack('station', 5)])
  t.same(store.calls, [], 'no write')
  t.equal(inUse('station'), 2)
  const alice = engine.get('R1')
  t.match(alice, { pack: 'station', holder: 'alice', client: 'alice', address: '10.0.0.9', grantedAt: 1, expiresAt: clock.now() + TTL })
  clock.advance(TTL - 1)
  t.same(engine.renew('R1').lease, 'R1')
  t.same((await engine.lease(ask('station', 'bob'))).lease, 'R2', '[LEASE-2] holds across the restart')
  clock.advance(TTL)
  t.equal(inUse('station'), 0, 'restored leases expire like any other')
})

t.test('[LEASE-8] restored leases above a lowered limit are kept and block new grants', async (t) => {
  const { engine } = setup()
  engine.restore([record('R1', 'station', 'a'), record('R2', 'station', 'b'), record('R3', 'station', 'c')])
  engine.applyPlan([pack('station', 2)])
  t.equal(engine.leases('station').length, 3)
  await t.rejects(engine.lease(ask('station', 'd')), { code: 'PACK_EXHAUSTED', details: { limit: 2, inUse: 3 } })
  await engine.release('R1')
  await t.rejects(engine.lease(ask('station', 'd')), { code: 'PACK_EXHAUSTED' })
  await engine.release('R2')
  t.equal((await engine.lease(ask('station', 'd'))).holder, 'd')
})

t.test('[LEASE-8] a restored lease whose pack is gone is revoked as pack-removed', async (t) => {
  const { engine, store, revoked } = setup()
  engine.restore([record('R1', 'gone', 'alice'), record('R2', 'station', 'bob')])
  t.same(store.calls, [])
  engine.applyPlan([pack('station', 5)])
  t.same(store.log(), ['remove R1'])
  t.same(revoked.map(([lease, reason]) => [lease.lease, reason]), [['R1', 'pack-removed']])
  t.equal(engine.get('R1'), undefined)
  t.ok(engine.get('R2'))
})

t.test('[LEASE-8] restore while serving keeps leases of packs not in force aside until the next plan', async (t) => {
  const { engine, store, revoked } = setup({ packs: [pack('station', 5)] })
  engine.restore([record('R1', 'later', 'alice'), record('R2', 'station', 'bob')])
  t.ok(engine.get('R2'), 'a pack in force takes its lease at once')
  t.equal(engine.get('R1'), undefined)
  t.same(store.calls, [], 'restore never writes')
  engine.applyPlan([pack('station', 5), pack('later', 1)])
  t.equal(engine.get('R1')?.holder, 'alice')
  t.same(revoked, [])
  await t.rejects(engine.lease(ask('later', 'carol')), { code: 'PACK_EXHAUSTED' })
})

t.test('[LEASE-8] [SRV-1] restored leases survive a start without a valid LPF', async (t) => {
  const { engine, store } = setup()
  engine.restore([record('R1', 'station', 'alice')])
  engine.stopServing('lpf-removed')
  t.same(store.calls, [], 'nothing was served, so nothing is revoked')
  engine.applyPlan([pack('station', 1)])
  t.equal(engine.get('R1')?.holder, 'alice')
})

t.test('[LEASE-8] restore skips ids it already knows and a second lease of one holder', async (t) => {
  const { engine, store } = setup({ packs: [pack('station', 5)] })
  const grant = await engine.lease(ask('station', 'alice'))
  t.equal(engine.restore([record(grant.lease, 'station', 'alice')]), 0)
  t.equal(engine.restore([record('R9', 'station', 'alice')]), 1)
  t.equal(engine.leases('station').length, 1, 'alice still holds one lease')
  engine.applyPlan([pack('station', 5)])
  t.equal(engine.get('R9'), undefined)
  t.same(store.log(), ['put L1', 'remove R9'], 'the duplicate is dropped once a plan settles it')
})

t.test('[SRV-4] a new pack is served at once', async (t) => {
  const { engine } = setup({ packs: [pack('station', 1)] })
  await t.rejects(engine.lease(ask('wb', 'a')), { code: 'PACK_UNKNOWN' })
  engine.applyPlan([pack('station', 1), pack('wb', 2)])
  t.equal((await engine.lease(ask('wb', 'a'))).pack, 'wb')
  t.same(engine.packs().map((p) => p.name), ['station', 'wb'])
})

t.test('[SRV-4] a raised limit serves waiters at once, in order', async (t) => {
  const { engine, inUse } = setup({ packs: [pack('station', 1)] })
  await engine.lease(ask('station', 'a'))
  const b = track(engine.lease(ask('station', 'b', { waitMs: 60_000 })))
  const c = track(engine.lease(ask('station', 'c', { waitMs: 60_000 })))
  const d = track(engine.lease(ask('station', 'd', { waitMs: 60_000 })))
  engine.applyPlan([pack('station', 3)])
  await flush()
  t.equal(b.state, 'resolved')
  t.equal(c.state, 'resolved')
  t.equal(d.state, 'pending')
  t.equal(inUse('station'), 3)
  t.equal(b.value?.limit, 3)
})

t.test('[SRV-4] a lowered limit keeps every lease and grants none until below it', async (t) => {
  const { engine, revoked } = setup({ packs: [pack('station', 3)] })
  const grants = [await engine.lease(ask('station', 'a')), await engine.lease(ask('station', 'b')), await engine.lease(ask('station', 'c'))]
  engine.applyPlan([pack('station', 1)])
  t.same(revoked, [])
  for (const grant of grants) t.ok(engine.renew(grant.lease), 'still renewable')
  const waiter = track(engine.lease(ask('station', 'd', { waitMs: 60_000 })))
  await engine.release(grants[0]!.lease)
  await engine.release(grants[1]!.lease)
  await flush()
  t.equal(waiter.state, 'pending', 'inUse 1 is not below limit 1')
  t.same(engine.packs()[0], { name: 'station', limit: 1, inUse: 1, waiting: 1 })
  await engine.release(grants[2]!.lease)
  await flush()
  t.equal(waiter.value?.holder, 'd')
})

t.test('[SRV-4] a removed pack has its leases revoked, its waiters and pending grants refused', async (t) => {
  const { engine, store, revoked } = setup({ auto: false, packs: [pack('station', 2), pack('wb', 1)] })
  const granting = [engine.lease(ask('station', 'a', { owner: 'conn-a' })), engine.lease(ask('wb', 'keep'))]
  store.resolveAll()
  const [held] = await Promise.all(granting)
  const pending = track(engine.lease(ask('station', 'b')))
  const waiter = track(engine.lease(ask('station', 'c', { waitMs: 60_000 })))
  engine.applyPlan([pack('wb', 1)])
  await flush()
  t.same(revoked.map(([lease, reason]) => [lease.lease, lease.owner, reason]), [[held!.lease, 'conn-a', 'pack-removed']])
  t.ok(isFlrError(pending.error, 'PACK_UNKNOWN'), 'the grant still being written is refused')
  t.ok(isFlrError(waiter.error, 'PACK_UNKNOWN'))
  t.same(store.log(), ['put L1', 'put L2', 'put L3', 'remove L1', 'remove L3'])
  store.resolveAll()
  await flush()
  t.equal(pending.state, 'rejected', 'a put landing later does not resurrect the grant')
  t.throws(() => engine.renew(held!.lease), { code: 'LEASE_UNKNOWN' })
  await t.rejects(engine.lease(ask('station', 'a')), { code: 'PACK_UNKNOWN' })
  t.same(engine.packs().map((p) => p.name), ['wb'])
})

t.test('[SRV-4] changed licenses reach holders on their next renew or lease answer', async (t) => {
  const { engine } = setup({ packs: [pack('station', 2, '<licenses>v1</licenses>')] })
  const grant = await engine.lease(ask('station', 'a'))
  t.equal(grant.licenses, '<licenses>v1</licenses>')
  engine.applyPlan([pack('station', 2, '<licenses>v2</licenses>')])
  t.equal(engine.renew(grant.lease).licenses, '<licenses>v2</licenses>')
  t.equal((await engine.lease(ask('station', 'a'))).licenses, '<licenses>v2</licenses>')
})

for (const reason of ['lpf-removed', 'lpf-expired'] as const) {
  t.test(`[SRV-3] [SRV-6] stopServing(${reason}) revokes every lease and refuses until a plan returns`, async (t) => {
    const { engine, store, revoked } = setup({ packs: [pack('station', 1), pack('wb', 1)] })
    const a = await engine.lease(ask('station', 'a'))
    const b = await engine.lease(ask('wb', 'b'))
    const waiter = track(engine.lease(ask('station', 'c', { waitMs: 60_000 })))
    engine.stopServing(reason)
    await flush()
    t.equal(engine.serving, false)
    t.same(revoked.map(([lease, r]) => [lease.lease, r]).sort(), [[a.lease, reason], [b.lease, reason]].sort())
    t.ok(isFlrError(waiter.error, 'NOT_SERVING'))
    t.same(store.log().slice(2).sort(), [`remove ${a.lease}`, `remove ${b.lease}`].sort())
    t.same(engine.leases(), [])
    t.same(engine.packs(), [])
    await t.rejects(engine.lease(ask('station', 'a')), { code: 'NOT_SERVING' })
    t.throws(() => engine.renew(a.lease), { code: 'LEASE_UNKNOWN' })
    engine.applyPlan([pack('station', 1)])
    t.equal(engine.serving, true)
    t.not((await engine.lease(ask('station', 'a'))).lease, a.lease, 'a fresh lease')
  })
}

t.test('[WIRE-8] admin revoke frees the seat, tells the holder and serves a waiter', async (t) => {
  const { engine, store, revoked } = setup({ packs: [pack('station', 1)] })
  const held = await engine.lease(ask('station', 'a', { owner: 'conn-a' }))
  const waiter = engine.lease(ask('station', 'b', { waitMs: 60_000 }))
  await engine.revoke(held.lease)
  t.same(revoked.map(([lease, reason]) => [lease.lease, lease.owner, reason]), [[held.lease, 'conn-a', 'admin']])
  t.equal((await waiter).holder, 'b')
  t.same(store.log(), ['put L1', 'remove L1', 'put L2'])
  await t.rejects(engine.revoke(held.lease), { code: 'LEASE_UNKNOWN' })
})

t.test('[SRV-8] close fails waiters, stops timers and keeps leases stored for the restart', async (t) => {
  const { engine, clock, store } = setup({ packs: [pack('station', 1)] })
  const held = await engine.lease(ask('station', 'a'))
  const waiter = track(engine.lease(ask('station', 'b', { waitMs: 60_000 })))
  engine.close()
  await flush()
  t.ok(isFlrError(waiter.error, 'NOT_SERVING'))
  t.equal(clock.pendingTimers, 0)
  t.equal(engine.serving, false)
  clock.advance(10 * TTL)
  t.same(store.log(), ['put L1'], 'no lease removed from the store')
  t.ok(store.held.has(held.lease))
  await t.rejects(engine.lease(ask('station', 'c')), { code: 'NOT_SERVING' })
})

t.test('[WIRE-8] leases() lists acknowledged leases by pack', async (t) => {
  const { engine } = setup({ packs: [pack('station', 2), pack('wb', 2)] })
  const a = await engine.lease(ask('station', 'a', { client: 'app-a', address: '10.1.1.1' }))
  await engine.lease(ask('wb', 'b'))
  t.same(engine.leases('station').map((l) => l.lease), [a.lease])
  t.equal(engine.leases().length, 2)
  t.same(engine.leases('nope'), [])
  t.match(engine.get(a.lease), { client: 'app-a', address: '10.1.1.1', expiresAt: a.expiresAt })
})
