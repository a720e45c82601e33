// [HA-2] [LPF-2] [LPF-7] What the keeper makes of a cluster LPF and of the vendor's grace cap, on
// the fake clock with the real loader, engine and TCP front.
import t from 'tap'
import { freePort } from '../helpers/server.js'
import { DAY_MS, rig } from './keeper-harness.js'
import { HOST_ID } from '../helpers/server.js'

const OTHER = 'Lnx-OTHR-HOST-2345-6777'
const THIRD = 'Lnx-THRD-HOST-2345-6777'

t.test('[HA-2] a cluster LPF on a store the nodes do not share (LMDB, the default) is refused: LPF_NEEDS_SHARED_STORE, saying what to do', async (t) => {
  const r = await rig(t)
  r.disk.write(r.lpf({ hostId: OTHER, otherHosts: [{ hostId: HOST_ID, port: r.port }] }))
  await r.advance(10_000)
  const answer = await r.keeper.reload()
  t.match(answer, { applied: false, error: { code: 'LPF_NEEDS_SHARED_STORE' } })
  t.match(answer.error!.message, new RegExp(`cluster LPF for 2 hosts \\(${OTHER}, ${HOST_ID}\\)`), 'names the hosts')
  t.match(answer.error!.message, /--store postgres:\/\//, 'says what to do')
  t.match(r.keeper.state, { kind: 'waiting', why: { code: 'LPF_NEEDS_SHARED_STORE' } }, 'status says why nothing is served')
  t.equal(r.front.port, undefined, 'no lease port')
  t.notOk(r.engine.serving)
  t.equal(r.captured.matching(/^LPF rejected: .*cluster LPF/).length, 1, 'logged once')
})

t.test('[HA-2] a cluster LPF arriving while a plain one serves is refused and the plain one stays', async (t) => {
  const r = await rig(t)
  r.disk.write(r.lpf())
  await r.advance(10_000)
  t.same(await r.keeper.reload(), { applied: true })
  r.disk.write(r.lpf({ otherHosts: [{ hostId: OTHER, port: 19111 }] }))
  await r.advance(10_000)
  t.match(await r.keeper.reload(), { applied: false, error: { code: 'LPF_NEEDS_SHARED_STORE' } })
  t.match(r.keeper.pendingError, { code: 'LPF_NEEDS_SHARED_STORE' })
  t.match(r.keeper.state, { kind: 'serving', plan: { hosts: [{ hostId: HOST_ID }] } }, 'the LPF in force stays')
})

t.test('[HA-2] [LPF-2] [LPF-7] with a shared store each node serves a cluster LPF on the port of its own <flr> element', async (t) => {
  const r = await rig(t, { sharedStore: true })
  const mainPort = await freePort()
  r.disk.write(r.lpf({ hostId: OTHER, port: mainPort, otherHosts: [{ hostId: HOST_ID, port: r.port }, { hostId: THIRD, port: mainPort }] }))
  await r.advance(10_000)
  t.same(await r.keeper.reload(), { applied: true })
  t.match(r.keeper.state, { kind: 'serving', plan: { hostId: HOST_ID, port: r.port } })
  t.same(r.keeper.plan!.hosts.map((h) => h.hostId), [OTHER, HOST_ID, THIRD])
  t.equal(r.front.port, r.port, "this host's port, not the main host's")
})

t.test('[LPF-7] a cluster LPF that does not list this host is LPF_WRONG_HOST, naming every host it lists', async (t) => {
  const r = await rig(t, { sharedStore: true })
  r.disk.write(r.lpf({ hostId: OTHER, otherHosts: [{ hostId: THIRD, port: 19111 }] }))
  await r.advance(10_000)
  const answer = await r.keeper.reload()
  t.match(answer, { applied: false, error: { code: 'LPF_WRONG_HOST', message: new RegExp(`issued for hosts ${OTHER}, ${THIRD}, but this host is ${HOST_ID}`) } })
})

t.test('[LPF-2] [WIRE-4] the grace clients are told: the LPF\'s, 7d when it sets none, --grace only when shorter', async (t) => {
  const cases: [string, string | undefined, number | undefined, number][] = [
    ['no grace attribute, no --grace', undefined, undefined, 7 * DAY_MS],
    ['grace="30d", no --grace', '30d', undefined, 30 * DAY_MS],
    ['grace="30d", --grace 2d', '30d', 2 * DAY_MS, 2 * DAY_MS],
    ['grace="1d", --grace 1d', '1d', DAY_MS, DAY_MS],
    ['no grace attribute, --grace 36500d', undefined, 36_500 * DAY_MS, 7 * DAY_MS],
    ['grace="12h", --grace 7d', '12h', 7 * DAY_MS, 12 * 3_600_000],
  ]
  for (const [name, grace, graceMs, expected] of cases) {
    const r = await rig(t, { graceMs })
    r.disk.write(r.lpf({ grace }))
    await r.advance(10_000)
    t.same(await r.keeper.reload(), { applied: true }, name)
    t.equal(r.keeper.graceMs, expected, name)
    const fileGrace = { '30d': 30 * DAY_MS, '1d': DAY_MS, '12h': 12 * 3_600_000 }[grace ?? ''] ?? 7 * DAY_MS
    t.equal(r.keeper.plan!.grace, fileGrace, `${name}: the plan carries the file's grace`)
  }
})

t.test('[LPF-2] a longer --grace is ignored with a warning at start and whenever a new LPF lowers the cap, not at every reload', async (t) => {
  const r = await rig(t, { graceMs: 10 * DAY_MS })
  const warnings = () => r.captured.matching(/^--grace 10d is ignored/)
  r.disk.write(r.lpf({ grace: '5d' }))
  await r.advance(10_000)
  await r.keeper.reload()
  t.equal(r.keeper.graceMs, 5 * DAY_MS)
  t.equal(warnings().length, 1, 'warned when the first LPF came into force')
  t.match(warnings()[0], { level: 40, requestedGraceMs: 10 * DAY_MS, lpfGraceMs: 5 * DAY_MS, graceMs: 5 * DAY_MS, msg: /the LPF allows a grace period of at most 5d .*clients are told 5d/ })

  r.disk.write(r.lpf({ grace: '5d', packs: [{ name: 'station', limit: 3 }] }))
  await r.advance(10_000)
  t.same(await r.keeper.reload(), { applied: true }, 'a new LPF with the same cap')
  t.equal(warnings().length, 1, 'the same cap: no new warning')

  r.disk.write(r.lpf({ grace: '2d' }))
  await r.advance(10_000)
  t.same(await r.keeper.reload(), { applied: true })
  t.equal(r.keeper.graceMs, 2 * DAY_MS, 'the lower cap is in force at once')
  t.equal(warnings().length, 2, 'warned again: the new LPF lowered the cap')

  r.disk.write(r.lpf({ grace: '30d' }))
  await r.advance(10_000)
  t.same(await r.keeper.reload(), { applied: true })
  t.equal(r.keeper.graceMs, 10 * DAY_MS, 'an LPF allowing more: --grace holds')
  t.equal(warnings().length, 2, 'nothing to warn about')
})
