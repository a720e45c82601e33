// [SRV-3] removal of the LPF and [SRV-6] its expiry, on the fake clock: the grace, the file coming
// back before and after it, the expiration instant, and instants past setTimeout's 24.8 days.
import t from 'tap'
import { FakeClock } from '../engine/fake-clock.js'
import { MAX_TIMER_MS } from '../../lib/util/clock.js'
import { DAY_MS, GRACE_MS, PACKS, START, holdLeases, isoAt, serving } from './keeper-harness.js'

const withExtra = [...PACKS, { name: 'extra', limit: 1 }]

t.test('[SRV-3] removed and still removed after the grace: every lease revoked (lpf-removed), port kept, NOT_SERVING; the file back later serves again', async (t) => {
  const r = await serving(t)
  const leases = await holdLeases(r)
  const bytes = r.lpf()
  r.disk.remove()
  t.match(await r.keeper.reload(), { applied: false, error: { code: 'LPF_MISSING' } })
  t.match(r.keeper.state, { kind: 'grace', until: r.clock.now() + GRACE_MS })
  t.equal(r.captured.matching(/^LPF removed/).length, 1)
  await r.advance(GRACE_MS - 1)
  t.same(r.revoked, [], 'nothing revoked within the grace')
  t.ok(r.keeper.serving)
  await r.advance(1)
  t.same(r.revoked, leases.map((l) => [l, 'lpf-removed']), 'every lease revoked at the end of the grace')
  t.match(r.keeper.state, { kind: 'stopped', why: { code: 'LPF_MISSING', message: /was removed from \/licenses/ } })
  t.notOk(r.engine.serving)
  t.equal(r.front.port, r.port, 'the listener stays bound')
  await t.rejects(r.engine.lease({ pack: 'station', holder: 'late', client: 'c', address: 'a' }), { code: 'NOT_SERVING' })
  await r.advance(10 * GRACE_MS)
  t.equal(r.revoked.length, 2, 'revoked once')

  r.disk.write(bytes)
  t.same(await r.keeper.reload(), { applied: true }, 'the same file back after the grace')
  t.match(r.keeper.state, { kind: 'serving' })
  t.match(await r.engine.lease({ pack: 'station', holder: 'late', client: 'c', address: 'a' }), { inUse: 1 }, 'granting again; the revoked leases are not back')
})

t.test('[SRV-3] the same file back within the grace: nothing changes, before or after the grace would have ended', async (t) => {
  const r = await serving(t)
  await holdLeases(r)
  const before = r.keeper.state
  const bytes = r.lpf()
  r.disk.remove()
  await r.keeper.reload()
  await r.advance(GRACE_MS - 1)
  r.disk.write(bytes)
  t.same(await r.keeper.reload(), { applied: false }, 'nothing to apply')
  t.same(r.keeper.state, before, 'serving the same plan, load time included')
  await r.advance(10 * GRACE_MS)
  t.same(r.revoked, [], 'nothing revoked')
  t.equal(r.captured.matching(/applied|stopped serving/).length, 0, 'nothing applied, nothing stopped')
})

t.test('[SRV-3] a new file within the grace is applied, and the removal revokes nothing', async (t) => {
  const r = await serving(t)
  await holdLeases(r)
  r.disk.remove()
  await r.keeper.reload()
  await r.advance(GRACE_MS / 2)
  r.disk.write(r.lpf({ packs: withExtra }))
  t.same(await r.keeper.reload(), { applied: true })
  await r.advance(10 * GRACE_MS)
  t.same(r.revoked, [])
  t.match(r.engine.packs(), [{ name: 'station', inUse: 1 }, { name: 'wb', inUse: 1 }, { name: 'extra' }])
})

t.test('[SRV-2] [SRV-3] a file there but unreadable (a directory in its place) is a bad file, not a removal: the grace is called off', async (t) => {
  const r = await serving(t)
  await holdLeases(r)
  r.disk.remove()
  await r.keeper.reload()
  r.disk.breakWith()
  t.match(await r.keeper.reload(), { applied: false, error: { code: 'LPF_MISSING', message: /cannot be read \(EISDIR\)/ } })
  t.match(r.keeper.pendingError, { code: 'LPF_MISSING' })
  await r.advance(10 * GRACE_MS)
  t.match(r.keeper.state, { kind: 'serving' })
  t.same(r.revoked, [])
})

t.test('[SRV-6] at the expiration instant: every lease revoked (lpf-expired); the expired file read again keeps it stopped; a renewed LPF serves', async (t) => {
  const r = await serving(t, (r) => r.lpf({ expiration: isoAt(3_600_000) }))
  const leases = await holdLeases(r)
  await r.advance(untilInstant(r.clock.now(), 3_600_000) - 1)
  t.ok(r.keeper.serving, 'serving a millisecond before the instant')
  t.same(r.revoked, [])
  await r.advance(1)
  t.same(r.revoked, leases.map((l) => [l, 'lpf-expired']), 'every lease revoked at the instant')
  t.match(r.keeper.state, { kind: 'stopped', why: { code: 'LPF_EXPIRED' } })
  t.equal(r.front.port, r.port, 'the listener stays bound')
  t.match(await r.keeper.reload(), { applied: false, error: { code: 'LPF_EXPIRED' } })
  t.match(r.keeper.state, { kind: 'stopped', why: { code: 'LPF_EXPIRED' } })
  r.disk.write(r.lpf({ expiration: '2099-12-31' }))
  t.same(await r.keeper.reload(), { applied: true })
  t.ok(r.engine.serving)
  t.notOk(r.keeper.pendingError, 'the renewed file cleared the pending error')
})

t.test('[SRV-6] an instant 40 days away (past setTimeout’s 24.8 days) is reached in steps: not early, not late', async (t) => {
  const r = await serving(t, (r) => r.lpf({ expiration: isoAt(40 * DAY_MS) }))
  await r.advance(1_000)
  t.ok(r.keeper.serving, 'still serving once a timer of more than 2^31-1 ms would have fired')
  await r.advance(untilInstant(r.clock.now(), 40 * DAY_MS) - 1)
  t.ok(r.keeper.serving, 'serving a millisecond before the instant')
  const leases = await holdLeases(r)
  await r.advance(1)
  t.same(r.revoked, leases.map((l) => [l, 'lpf-expired']), 'stopped at the instant')
  t.match(r.keeper.state, { kind: 'stopped', why: { code: 'LPF_EXPIRED' } })
})

t.test('[SRV-6] an LPF replaced before its instant does not expire at the old instant', async (t) => {
  const r = await serving(t, (r) => r.lpf({ expiration: isoAt(3_600_000) }))
  await holdLeases(r)
  r.disk.write(r.lpf({ expiration: isoAt(60 * DAY_MS) }))
  t.same(await r.keeper.reload(), { applied: true })
  await r.advance(30 * DAY_MS)
  t.ok(r.keeper.serving, 'serving past the old instant')
  t.same(r.revoked, [])
})

t.test('[SRV-3] [SRV-6] expiry during the removal grace stops with lpf-expired, once', async (t) => {
  const r = await serving(t, (r) => r.lpf({ expiration: isoAt(3_600_000) }))
  await holdLeases(r)
  await r.advance(untilInstant(r.clock.now(), 3_600_000) - GRACE_MS / 2)
  r.disk.remove()
  await r.keeper.reload()
  await r.advance(10 * GRACE_MS)
  t.same(r.revoked.map(([, reason]) => reason), ['lpf-expired', 'lpf-expired'])
  t.match(r.keeper.state, { kind: 'stopped', why: { code: 'LPF_EXPIRED' } })
})

t.test('the fake clock fires a timer longer than 2^31-1 ms after 1 ms, as Node does', async (t) => {
  const clock = new FakeClock()
  let fired = 0
  clock.setTimeout(() => fired++, MAX_TIMER_MS + 1)
  clock.advance(1)
  t.equal(fired, 1)
})

/** How far the clock at `now` still is from the instant START + ms. */
function untilInstant(now: number, ms: number): number {
  return START + ms - now
}
