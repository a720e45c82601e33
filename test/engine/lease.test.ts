import t from 'tap'
import { SeatEngine, MAX_WAIT_MS } from '../../lib/engine/engine.js'
import { isFlrError } from '../../lib/errors.js'
import { FakeClock } from './fake-clock.js'
import { ManualStore } from './manual-store.js'
import { WaitScope } from '../../lib/engine/waiters.js'
import { TTL, ask, flush, pack, setup, track } from './harness.js'

t.test('[LEASE-1] never more leases than the limit', async (t) => {
  const { engine, inUse } = setup({ packs: [pack('station', 2)] })
  await engine.lease(ask('station', 'a'))
  await engine.lease(ask('station', 'b'))
  await t.rejects(engine.lease(ask('station', 'c')), { code: 'PACK_EXHAUSTED', details: { limit: 2, inUse: 2 } })
  t.equal(inUse('station'), 2)
})

t.test('[LEASE-1] concurrent requests cannot over-grant while writes are in flight', async (t) => {
  const { engine, store, inUse } = setup({ auto: false, packs: [pack('station', 3)] })
  const asks = Array.from({ length: 50 }, (_, i) => track(engine.lease(ask('station', `h${i}`))))
  t.equal(inUse('station'), 3, 'seats are counted when the grant is decided, before durability')
  t.equal(store.calls.length, 3)
  store.resolveAll()
  await flush()
  t.equal(asks.filter((a) => a.state === 'resolved').length, 3)
  t.equal(asks.filter((a) => a.state === 'rejected' && isFlrError(a.error, 'PACK_EXHAUSTED')).length, 47)
})

t.test('[LEASE-1] a pack with limit 0 grants nothing', async (t) => {
  const { engine } = setup({ packs: [pack('none', 0)] })
  await t.rejects(engine.lease(ask('none', 'a')), { code: 'PACK_EXHAUSTED', details: { limit: 0, inUse: 0 } })
})

t.test('[SRV-1] [WIRE-5] lease refuses NOT_SERVING before a plan and PACK_UNKNOWN for a missing pack', async (t) => {
  const { engine } = setup()
  t.equal(engine.serving, false)
  await t.rejects(engine.lease(ask('station', 'a')), { code: 'NOT_SERVING' })
  engine.applyPlan([pack('station', 1)])
  t.equal(engine.serving, true)
  await t.rejects(engine.lease(ask('nope', 'a')), { code: 'PACK_UNKNOWN' })
})

t.test('[LEASE-2] the same holder gets the same lease, renewed, without a seat or a write', async (t) => {
  const { engine, clock, store, inUse } = setup({ packs: [pack('station', 1)] })
  const first = await engine.lease(ask('station', 'alice', { owner: 'conn1' }))
  clock.advance(10_000)
  const again = await engine.lease(ask('station', 'alice', { client: 'other', owner: 'conn2' }))
  t.equal(again.lease, first.lease)
  t.equal(again.expiresAt, clock.now() + TTL, 'renewed')
  t.equal(inUse('station'), 1)
  t.same(store.log(), ['put L1'], 'no second write')
  t.equal(engine.get(first.lease)?.owner, 'conn2', 'the last requesting connection gets the pushes')
  t.equal(engine.get(first.lease)?.client, 'alice', 'the record keeps its granting client')
})

t.test('[LEASE-2] one holder, two packs: two leases', async (t) => {
  const { engine } = setup({ packs: [pack('station', 1), pack('wb', 1)] })
  const a = await engine.lease(ask('station', 'alice'))
  const b = await engine.lease(ask('wb', 'alice'))
  t.not(a.lease, b.lease)
})

t.test('[LEASE-2] concurrent waiting requests of one holder resolve to one lease', async (t) => {
  const { engine, store, inUse } = setup({ packs: [pack('station', 1)] })
  const held = await engine.lease(ask('station', 'alice'))
  const first = track(engine.lease(ask('station', 'bob', { waitMs: 60_000, owner: 'c1' })))
  const second = track(engine.lease(ask('station', 'bob', { waitMs: 60_000, owner: 'c2' })))
  await flush()
  t.equal(first.state, 'pending')
  t.equal(second.state, 'pending')
  await engine.release(held.lease)
  await flush()
  t.equal(first.state, 'resolved')
  t.equal(second.state, 'resolved')
  t.equal(first.value?.lease, second.value?.lease)
  t.equal(inUse('station'), 1)
  t.same(store.log(), ['put L1', 'remove L1', 'put L2'])
})

t.test('[LEASE-2] requests of one holder while its grant is being written share it', async (t) => {
  const { engine, store } = setup({ auto: false, packs: [pack('station', 5)] })
  const first = track(engine.lease(ask('station', 'alice')))
  const second = track(engine.lease(ask('station', 'alice')))
  await flush()
  t.equal(first.state, 'pending')
  t.equal(second.state, 'pending')
  t.equal(store.calls.length, 1)
  store.resolveAll()
  await flush()
  t.equal(first.value?.lease, 'L1')
  t.equal(second.value?.lease, 'L1')
})

t.test('[LEASE-3] a lease is freed at the end of its TTL, by one timer for all leases', async (t) => {
  const { engine, clock, store, inUse } = setup({ packs: [pack('station', 200)] })
  const grants = []
  for (let i = 0; i < 100; i++) {
    grants.push(await engine.lease(ask('station', `h${i}`)))
    clock.advance(97)
  }
  t.equal(clock.pendingTimers, 1, 'one expiry timer, not one per lease')
  const removedAt = new Map<string, number>()
  store.onCall = (call) => {
    if (call.op === 'remove') removedAt.set(call.lease, clock.now())
  }
  while (removedAt.size < grants.length) clock.advance(100)
  for (const grant of grants) {
    const at = removedAt.get(grant.lease)!
    t.ok(at >= grant.expiresAt && at <= grant.expiresAt + 1000, `${grant.lease} freed within 1 s of its expiry`)
  }
  t.equal(inUse('station'), 0)
  t.equal(clock.pendingTimers, 0)
})

t.test('[LEASE-3] the lease lives exactly its TTL: known one ms before, gone at expiry', async (t) => {
  const { engine, clock } = setup({ packs: [pack('station', 1)] })
  const grant = await engine.lease(ask('station', 'alice'))
  t.equal(grant.expiresAt, clock.now() + TTL)
  t.equal(grant.ttlMs, TTL)
  clock.advance(TTL - 1)
  t.ok(engine.get(grant.lease))
  clock.advance(1)
  t.equal(engine.get(grant.lease), undefined)
  t.throws(() => engine.renew(grant.lease), { code: 'LEASE_UNKNOWN' })
})

t.test('[LEASE-3] a lease past its TTL is gone even when the expiry timer is late', async (t) => {
  const { engine, clock, store, revoked } = setup({ packs: [pack('station', 1)] })
  const grant = await engine.lease(ask('station', 'alice'))
  clock.jump(TTL)
  t.throws(() => engine.renew(grant.lease), { code: 'LEASE_UNKNOWN' })
  t.same(store.log(), ['put L1', 'remove L1'])
  const next = await engine.lease(ask('station', 'bob'))
  clock.jump(TTL)
  engine.stopServing('lpf-removed')
  t.same(revoked, [], `${next.lease} had expired: nothing to revoke`)
})

t.test('[LEASE-3] renew extends the lease by a TTL from now', async (t) => {
  const { engine, clock } = setup({ packs: [pack('station', 1)] })
  const grant = await engine.lease(ask('station', 'alice'))
  clock.advance(20_000)
  const renewal = engine.renew(grant.lease)
  t.same(renewal, { lease: grant.lease, expiresAt: clock.now() + TTL, ttlMs: TTL, licenses: pack('station', 1).licenses })
  clock.advance(20_000)
  t.ok(engine.get(grant.lease), 'alive past the first expiry')
  clock.advance(10_000)
  t.equal(engine.get(grant.lease), undefined)
})

t.test('[LEASE-3] an expired lease serves a waiter and is removed from the store', async (t) => {
  const { engine, clock, store } = setup({ packs: [pack('station', 1)] })
  const held = await engine.lease(ask('station', 'alice'))
  const waiter = track(engine.lease(ask('station', 'bob', { waitMs: MAX_WAIT_MS })))
  clock.advance(TTL)
  await flush()
  t.equal(waiter.state, 'resolved')
  t.same(store.log(), ['put L1', `remove ${held.lease}`, 'put L2'])
})

t.test('[LEASE-4] default lease ids are 128 random bits in base64url', async (t) => {
  const engine = new SeatEngine({ clock: new FakeClock(), store: new ManualStore(true), ttlMs: TTL })
  engine.applyPlan([pack('station', 1000)])
  const ids = new Set<string>()
  for (let i = 0; i < 1000; i++) {
    const { lease } = await engine.lease(ask('station', `h${i}`))
    t.match(lease, /^[A-Za-z0-9_-]{22}$/)
    ids.add(lease)
  }
  t.equal(ids.size, 1000)
})

t.test('[LEASE-4] renew and release work by id alone; renew moves the push target', async (t) => {
  const { engine } = setup({ packs: [pack('station', 1)] })
  const grant = await engine.lease(ask('station', 'alice', { owner: 'conn1' }))
  engine.renew(grant.lease, 'conn2')
  t.equal(engine.get(grant.lease)?.owner, 'conn2')
  engine.renew(grant.lease)
  t.equal(engine.get(grant.lease)?.owner, 'conn2', 'a renew without owner keeps it')
  await engine.release(grant.lease)
  t.throws(() => engine.renew(grant.lease), { code: 'LEASE_UNKNOWN' })
  await t.rejects(engine.release(grant.lease), { code: 'LEASE_UNKNOWN' })
  await t.rejects(engine.release('never-granted'), { code: 'LEASE_UNKNOWN' })
})

t.test('[LEASE-5] waiters are served first come, first served', async (t) => {
  const { engine } = setup({ packs: [pack('station', 1)] })
  let current = await engine.lease(ask('station', 'a'))
  const waiters = ['b', 'c', 'd'].map((h) => engine.lease(ask('station', h, { waitMs: 60_000 })))
  t.equal(engine.packs()[0]!.waiting, 3)
  for (const [i, waiter] of waiters.entries()) {
    await engine.release(current.lease)
    current = await waiter
    t.equal(current.holder, ['b', 'c', 'd'][i])
  }
})

t.test('[LEASE-5] a newcomer never takes a seat freed for a waiter', async (t) => {
  const { engine, store } = setup({ auto: false, packs: [pack('station', 1)] })
  const first = engine.lease(ask('station', 'a'))
  store.resolveAll()
  const held = await first
  const waiter = track(engine.lease(ask('station', 'b', { waitMs: 60_000 })))
  void engine.release(held.lease)
  await t.rejects(engine.lease(ask('station', 'c')), { code: 'PACK_EXHAUSTED' })
  store.resolveAll()
  await flush()
  t.equal(waiter.value?.holder, 'b')
})

t.test('[LEASE-5] a waiter rejects WAIT_TIMEOUT at its deadline and others keep their place', async (t) => {
  const { engine, clock, waiting } = setup({ packs: [pack('station', 1)], ttlMs: 600_000 })
  const held = await engine.lease(ask('station', 'a'))
  const short = track(engine.lease(ask('station', 'b', { waitMs: 5000 })))
  const long = track(engine.lease(ask('station', 'c', { waitMs: 60_000 })))
  clock.advance(4999)
  await flush()
  t.equal(short.state, 'pending')
  clock.advance(1)
  await flush()
  t.equal(short.state, 'rejected')
  t.ok(isFlrError(short.error, 'WAIT_TIMEOUT'))
  t.equal(waiting('station'), 1)
  await engine.release(held.lease)
  await flush()
  t.equal(long.value?.holder, 'c')
})

t.test('[LEASE-5] waits are capped at 600000 ms', async (t) => {
  const { engine, clock } = setup({ packs: [pack('station', 1)], ttlMs: 10 * MAX_WAIT_MS })
  await engine.lease(ask('station', 'a'))
  const waiter = track(engine.lease(ask('station', 'b', { waitMs: 10_000_000 })))
  clock.advance(MAX_WAIT_MS - 1)
  await flush()
  t.equal(waiter.state, 'pending')
  clock.advance(1)
  await flush()
  t.ok(isFlrError(waiter.error, 'WAIT_TIMEOUT'))
})

t.test('[LEASE-5] a wait with a free seat is granted at once; no wait on a full pack is refused', async (t) => {
  const { engine } = setup({ packs: [pack('station', 1)] })
  const grant = await engine.lease(ask('station', 'a', { waitMs: 60_000 }))
  t.equal(grant.holder, 'a')
  await t.rejects(engine.lease(ask('station', 'b', { waitMs: 0 })), { code: 'PACK_EXHAUSTED' })
})

t.test('[LEASE-4] [LEASE-5] cancelling the wait scope cancels the wait with its reason', async (t) => {
  const { engine, clock, waiting } = setup({ packs: [pack('station', 1)] })
  const held = await engine.lease(ask('station', 'a'))
  const scope = new WaitScope()
  const aborted = track(engine.lease(ask('station', 'b', { waitMs: 60_000, waits: scope })))
  const next = track(engine.lease(ask('station', 'c', { waitMs: 60_000 })))
  const reason = new Error('connection closed')
  scope.cancel(reason)
  await flush()
  t.equal(aborted.error, reason)
  t.equal(waiting('station'), 1)
  t.equal(clock.pendingTimers, 2, 'the aborted wait dropped its deadline timer')
  await engine.release(held.lease)
  await flush()
  t.equal(next.value?.holder, 'c')
})

t.test('[LEASE-4] an already cancelled wait scope takes no seat', async (t) => {
  const { engine, inUse } = setup({ packs: [pack('station', 1)] })
  const scope = new WaitScope()
  scope.cancel(new Error('gone'))
  await t.rejects(engine.lease(ask('station', 'a', { waits: scope })), { message: 'gone' })
  t.equal(inUse('station'), 0)
})

t.test('[LEASE-6] every lease answer carries the licenses', async (t) => {
  const station = pack('station', 1, '<licenses><license product="station" seats="1"/></licenses>')
  const { engine } = setup({ packs: [station] })
  const grant = await engine.lease(ask('station', 'a'))
  t.equal(grant.licenses, station.licenses)
  t.equal((await engine.lease(ask('station', 'a'))).licenses, station.licenses, 'repeated request')
  t.equal(engine.renew(grant.lease).licenses, station.licenses, 'renew')
  const waiter = engine.lease(ask('station', 'b', { waitMs: 1000 }))
  await engine.release(grant.lease)
  t.equal((await waiter).licenses, station.licenses, 'granted after a wait')
})

t.test('[LEASE-7] a grant is answered only once store.put is durable', async (t) => {
  const { engine, store, clock } = setup({ auto: false, packs: [pack('station', 1)] })
  const pending = track(engine.lease(ask('station', 'alice', { client: 'app', address: '10.0.0.1' })))
  await flush()
  t.equal(pending.state, 'pending')
  t.same(store.calls[0]!.record, { lease: 'L1', pack: 'station', holder: 'alice', client: 'app', address: '10.0.0.1', grantedAt: clock.now() })
  t.same(engine.leases(), [], 'a pending grant is not a lease yet')
  clock.advance(500)
  store.calls[0]!.resolve()
  await flush()
  t.equal(pending.state, 'resolved')
  t.equal(pending.value?.expiresAt, clock.now() + TTL, 'the TTL counts from the acknowledgement')
})

t.test('[LEASE-7] a failed put frees the seat and rejects the request', async (t) => {
  const { engine, store, inUse } = setup({ auto: false, packs: [pack('station', 1)] })
  const failing = track(engine.lease(ask('station', 'alice')))
  const waiter = track(engine.lease(ask('station', 'bob', { waitMs: 1000 })))
  const boom = new Error('disk full')
  store.calls[0]!.fail(boom)
  await flush()
  t.equal(failing.error, boom)
  t.same(store.log(), ['put L1', 'remove L1', 'put L2'], 'cleanup remove issued before the reuse')
  t.equal(inUse('station'), 1)
  store.resolveAll()
  await flush()
  t.equal(waiter.value?.holder, 'bob')
})

t.test('[LEASE-7] release frees the seat at once and resolves once the removal is durable', async (t) => {
  const { engine, store, inUse } = setup({ auto: false, packs: [pack('station', 1)] })
  const granting = engine.lease(ask('station', 'alice'))
  store.resolveAll()
  const grant = await granting
  const releasing = track(engine.release(grant.lease))
  t.equal(inUse('station'), 0, 'seat free before durability')
  await flush()
  t.equal(releasing.state, 'pending')
  const next = track(engine.lease(ask('station', 'bob')))
  t.same(store.log(), ['put L1', 'remove L1', 'put L2'], 'the remove is issued before the put that reuses the seat')
  store.resolveAll()
  await flush()
  t.equal(releasing.state, 'resolved')
  t.equal(next.state, 'resolved')
})

t.test('[LEASE-7] renewals write nothing', async (t) => {
  const { engine, store } = setup({ packs: [pack('station', 1)] })
  const grant = await engine.lease(ask('station', 'alice'))
  for (let i = 0; i < 5; i++) engine.renew(grant.lease)
  t.same(store.log(), ['put L1'])
})

t.test('[LEASE-3] a failed removal after expiry is reported through onStoreError', async (t) => {
  const clock = new FakeClock()
  const store = new ManualStore(false)
  const failures: [unknown, string, string][] = []
  const engine = new SeatEngine({ clock, store, ttlMs: TTL, onStoreError: (e, op, lease) => failures.push([e, op, lease]) })
  engine.applyPlan([pack('station', 1)])
  const granting = engine.lease(ask('station', 'alice'))
  store.resolveAll()
  const grant = await granting
  clock.advance(TTL)
  const boom = new Error('io')
  store.calls[1]!.fail(boom)
  await flush()
  t.same(failures, [[boom, 'remove', grant.lease]])
})

t.test('[LEASE-3] the TTL option must be a positive duration', async (t) => {
  t.throws(() => new SeatEngine({ clock: new FakeClock(), store: new ManualStore(), ttlMs: 0 }), /ttlMs/)
})
