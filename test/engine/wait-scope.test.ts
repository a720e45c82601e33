// [WIRE-10] [LEASE-4] A connection's waits: at most 1,000 at once, all cancelled together when
// it closes, each joining and leaving in O(1) (a Set, not an AbortSignal listener per wait).
import t from 'tap'
import { MAX_WAITING, WaitScope } from '../../lib/engine/waiters.js'
import { ask, flush, pack, setup, track } from './harness.js'

t.test('[WIRE-10] past its limit a scope refuses the next wait with TOO_MANY_WAITING; others wait on', async (t) => {
  const { engine, waiting } = setup({ packs: [pack('station', 1)] })
  await engine.lease(ask('station', 'owner'))
  const scope = new WaitScope(3)
  const waits = [0, 1, 2].map((i) => track(engine.lease(ask('station', `w${i}`, { waitMs: 60_000, waits: scope }))))
  await t.rejects(engine.lease(ask('station', 'w3', { waitMs: 60_000, waits: scope })), { code: 'TOO_MANY_WAITING', details: { limit: 3 } })
  t.equal(scope.size, 3)
  // another connection's scope is not this one's
  const other = track(engine.lease(ask('station', 'x', { waitMs: 60_000, waits: new WaitScope(3) })))
  t.equal(waiting('station'), 4)
  // a request answered at once does not count: only those that wait
  await flush()
  t.ok(waits.every((w) => w.state === 'pending') && other.state === 'pending')
  t.equal(MAX_WAITING, 1_000, 'the default is the spec\'s')
  t.equal(new WaitScope().limit, 1_000)
})

t.test('[WIRE-10] a wait that leaves (timeout) gives its place back', async (t) => {
  const { engine, clock } = setup({ packs: [pack('station', 1)] })
  await engine.lease(ask('station', 'owner'))
  const scope = new WaitScope(1)
  const first = track(engine.lease(ask('station', 'a', { waitMs: 1_000, waits: scope })))
  await t.rejects(engine.lease(ask('station', 'b', { waitMs: 1_000, waits: scope })), { code: 'TOO_MANY_WAITING' })
  clock.advance(1_000)
  await flush()
  t.match(first.error, { code: 'WAIT_TIMEOUT' })
  t.equal(scope.size, 0)
  const again = track(engine.lease(ask('station', 'c', { waitMs: 1_000, waits: scope })))
  await flush()
  t.equal(again.state, 'pending', 'room again')
})

t.test('[LEASE-4] [WIRE-10] cancelling a scope rejects all its waits with the reason, frees their timers, and refuses later ones', async (t) => {
  const { engine, clock, waiting, inUse } = setup({ packs: [pack('station', 1)] })
  const held = await engine.lease(ask('station', 'owner'))
  const scope = new WaitScope()
  const mine = Array.from({ length: 1_000 }, (_, i) => track(engine.lease(ask('station', `m${i}`, { waitMs: 60_000, waits: scope }))))
  const theirs = track(engine.lease(ask('station', 'them', { waitMs: 60_000 })))
  t.equal(waiting('station'), 1_001)
  const reason = new Error('connection closed')
  scope.cancel(reason)
  await flush()
  t.ok(mine.every((w) => w.error === reason), 'every wait of the scope is rejected with the reason')
  t.equal(scope.size, 0)
  t.equal(waiting('station'), 1, 'only the other connection\'s wait is left')
  t.equal(clock.pendingTimers, 2, 'their deadline timers are gone (the lease\'s and the other wait\'s are left)')
  await t.rejects(engine.lease(ask('station', 'late', { waitMs: 60_000, waits: scope })), reason, 'a cancelled scope takes no more waits')
  await engine.release(held.lease)
  await flush()
  t.equal(theirs.value?.holder, 'them', 'the seat goes to the other connection\'s wait')
  t.equal(inUse('station'), 1)
})
