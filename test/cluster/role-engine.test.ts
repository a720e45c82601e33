// The engine of a term, as the fronts see it on a cluster node: restored on a new term, dropped
// without a write on a lost one, and refusing (NOT_LEADER) whatever comes after the term ends.
import t from 'tap'
import { SeatEngine } from '../../lib/engine/engine.js'
import { isFlrError } from '../../lib/errors.js'
import { RoleEngine, notLeader } from '../../lib/server/role-engine.js'
import { FakeClock } from '../engine/fake-clock.js'
import { ManualStore } from '../engine/manual-store.js'
import { ask, flush, pack, track } from '../engine/harness.js'

function setup() {
  const clock = new FakeClock()
  const store = new ManualStore(false)
  let leading = true
  let next = 0
  const role = new RoleEngine({
    make: (termStore) => new SeatEngine({ clock, store: termStore, ttlMs: 10_000, newLeaseId: () => `L${++next}` }),
    store,
    leading: () => leading,
    refusal: () => notLeader({ address: 'b.example:19110', http: 'b.example:7070' }),
  })
  role.applyPlan([pack('cad', 2)])
  return { clock, store, role, setLeading: (v: boolean) => (leading = v) }
}

const record = (lease: string, holder: string) => ({ lease, pack: 'cad', holder, client: holder, address: '10.0.0.1:1', grantedAt: 1 })

t.test('[HA-4] a standby refuses every lease op with NOT_LEADER naming the leader', async (t) => {
  const { role } = setup()
  t.notOk(role.serving)
  await t.rejects(role.lease(ask('cad', 'ann')), { code: 'NOT_LEADER', details: { leader: 'b.example:19110', leaderHttp: 'b.example:7070' } })
  t.throws(() => role.renew('L1'), { code: 'NOT_LEADER' })
  await t.rejects(role.release('L1'), { code: 'NOT_LEADER' })
  t.same(role.packs(), [])
})

t.test('[HA-5] [LEASE-8] a new term restores every stored lease by id, with the plan in force', async (t) => {
  const { role, store } = setup()
  t.equal(role.lead([record('A', 'ann'), record('B', 'bob')]), 2)
  t.ok(role.serving)
  t.equal(role.packs()[0]!.inUse, 2)
  t.equal(role.renew('A').lease, 'A', 'a restored lease renews with its id')
  t.same(store.calls, [], 'restoring writes nothing')
  await t.rejects(role.lease(ask('cad', 'cy')), { code: 'PACK_EXHAUSTED' }, '[LEASE-1] restored leases hold their seats')
})

t.test('[HA-5] a lost term is dropped without a single write, and its timers never write later', async (t) => {
  const { role, store, clock, setLeading } = setup()
  role.lead([record('A', 'ann')])
  const release = track(role.release('A'))
  store.resolveAll()
  await flush()
  t.equal(release.state, 'resolved')
  const grant = track(role.lease(ask('cad', 'bob')))
  store.resolveAll()
  await flush()
  t.equal(grant.state, 'resolved')
  const before = store.log()
  setLeading(false)
  role.drop()
  clock.advance(60_000) // past every lease's TTL: a live engine would write the expiry
  await flush()
  t.same(store.log(), before, 'no expiry, revoke or cleanup written after the term')
  t.equal(clock.pendingTimers, 0, "the dropped engine's timers are gone")
})

t.test('[HA-3] a grant whose write lands after the term ended is not acknowledged, and nothing more is written', async (t) => {
  const { role, store, setLeading } = setup()
  role.lead([])
  const grant = track(role.lease(ask('cad', 'ann')))
  await flush()
  t.same(store.log(), ['put L1'])
  setLeading(false) // a pause: the fence time passed while the commit was in flight
  store.resolveAll()
  await flush()
  t.equal(grant.state, 'rejected')
  t.ok(isFlrError(grant.error, 'NOT_LEADER'), 'the holder hears NOT_LEADER and resumes on the new leader')
  t.same(store.log(), ['put L1'], 'no cleanup write either: the next leader owns the record')
})

t.test('[HA-3] a leader that stops leading refuses at once, before any timer has run', async (t) => {
  const { role, store, setLeading } = setup()
  role.lead([])
  setLeading(false)
  await t.rejects(role.lease(ask('cad', 'ann')), { code: 'NOT_LEADER' })
  t.same(store.calls, [], 'nothing was written')
  t.notOk(role.serving)
})
