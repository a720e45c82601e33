// [LEASE-10] The engine while its store cannot write: a grant whose write fails frees the
// seat it had decided and the next waiter is served; while the store says it cannot write,
// grants and releases are refused before anything changes, and renewals and reads go on.
import t from 'tap'
import { FlrError } from '../../lib/errors.js'
import { ask, flush, pack, setup, track } from './harness.js'

const diskFull = (): FlrError => new FlrError('STORE_UNAVAILABLE', 'grants and releases cannot be recorded: the file system of /var/lib/flr is full')

t.test('[LEASE-10] [LEASE-1] a grant whose write fails is refused with the store error, frees its seat, and the waiter behind it gets the seat', async (t) => {
  const { engine, store, inUse, waiting } = setup({ auto: false, packs: [pack('cad', 1)] })
  const first = track(engine.lease(ask('cad', 'alice')))
  const second = track(engine.lease(ask('cad', 'bob', { waitMs: 60_000 })))
  t.equal(inUse('cad'), 1, 'the seat is taken the moment the grant is decided')
  t.equal(waiting('cad'), 1, 'bob waits behind it')
  const failure = diskFull()
  store.pending()[0]!.fail(failure)
  await flush()
  t.equal(first.state, 'rejected')
  t.equal(first.error, failure, 'alice is told what the store said (STORE_UNAVAILABLE, cause and place)')
  t.equal(waiting('cad'), 0, 'bob no longer waits: the freed seat went to him')
  t.equal(inUse('cad'), 1, '[LEASE-1] one seat, now decided for bob')
  t.same(store.log(), ['put L1', 'remove L1', 'put L2'], "alice's record is removed (it may have landed) before bob's is written")
  store.resolveAll()
  await flush()
  t.equal(second.state, 'resolved', 'bob is granted once his record is durable')
  t.equal((second.value as { lease: string }).lease, 'L2')
  t.same(engine.leases().map((l) => l.holder), ['bob'], 'no seat leaked to alice')
})

t.test('[LEASE-10] while the store cannot write: grants and releases refused up front, renewals and reads go on, then it resumes', async (t) => {
  const { engine, store, inUse, clock } = setup({ auto: true, packs: [pack('cad', 2)] })
  const held = await engine.lease(ask('cad', 'alice'))
  store.down = diskFull()
  const calls = store.calls.length

  await t.rejects(engine.lease(ask('cad', 'bob')), { code: 'STORE_UNAVAILABLE' }, 'a new grant is refused')
  await t.rejects(engine.lease(ask('cad', 'carol', { waitMs: 60_000 })), { code: 'STORE_UNAVAILABLE' }, 'a request that would wait is refused too')
  await t.rejects(engine.release(held.lease), { code: 'STORE_UNAVAILABLE' }, 'a release is refused')
  await t.rejects(engine.revoke(held.lease), { code: 'STORE_UNAVAILABLE' }, 'an admin revoke is refused')
  t.equal(store.calls.length, calls, 'nothing was sent to the store')
  t.equal(inUse('cad'), 1, 'no seat taken or freed')

  clock.advance(10_000)
  const renewed = engine.renew(held.lease)
  t.equal(renewed.expiresAt, clock.now() + 30_000, 'renewals work (they are not written, [LEASE-7])')
  const again = await engine.lease(ask('cad', 'alice'))
  t.equal(again.lease, held.lease, '[LEASE-2] the holder asking again gets the same lease, renewed: no write needed')
  t.same(engine.leases().map((l) => l.lease), [held.lease], 'the lease is still listed')
  t.same(engine.packs(), [{ name: 'cad', limit: 2, inUse: 1, waiting: 0 }], 'status reads work')

  store.down = undefined
  const granted = await engine.lease(ask('cad', 'bob'))
  t.equal(granted.holder, 'bob', 'the next grant after the store writes again succeeds')
  await engine.release(held.lease)
  t.equal(inUse('cad'), 1, 'and so does the next release')
})

t.test('[LEASE-10] [LEASE-5] a waiter whose seat frees while the store cannot write is told why, and the seat stays free', async (t) => {
  const { engine, store, inUse, waiting, clock } = setup({ auto: true, packs: [pack('cad', 1)] })
  await engine.lease(ask('cad', 'alice'))
  const bob = track(engine.lease(ask('cad', 'bob', { waitMs: 600_000 })))
  await flush()
  t.equal(waiting('cad'), 1)
  store.down = diskFull()
  clock.advance(31_000) // alice's lease expires: her seat frees while the store cannot write
  engine.packs()
  await flush()
  t.equal(bob.state, 'rejected', 'bob is not left waiting for a seat that cannot be recorded')
  t.match(bob.error, { code: 'STORE_UNAVAILABLE' })
  t.equal(inUse('cad'), 0, 'the seat is free, not leaked')
  store.down = undefined
  t.equal((await engine.lease(ask('cad', 'carol'))).holder, 'carol', 'and it is granted once the store writes again')
})
