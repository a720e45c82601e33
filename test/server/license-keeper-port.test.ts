// [SRV-5] [SRV-7] The ports the license keeper asks the TCP front for, on the fake clock: a busy
// new port keeps the old listener and is retried by the re-check; a busy first port leaves the
// server waiting until it frees; an LPF back on the port in use ends a failed move.
import t from 'tap'
import { freePort } from '../helpers/server.js'
import { PACKS, RECHECK_MS, holdLeases, holdPort, rig, serving } from './keeper-harness.js'

const withExtra = [...PACKS, { name: 'extra', limit: 1 }]

t.test('[SRV-5] a busy new port: the old listener stays, the rest of the plan applies, portError shows; the re-check moves once it frees', async (t) => {
  const r = await serving(t)
  await holdLeases(r)
  const busy = await freePort()
  const release = await holdPort(t, busy)
  r.keeper.startRechecks()
  r.disk.write(r.lpf({ port: busy, packs: withExtra }))
  t.match(await r.keeper.reload(), { applied: true, error: { code: 'PORT_IN_USE', message: new RegExp(String(busy)) } })
  t.match(r.keeper.portError, { code: 'PORT_IN_USE', at: new Date(r.clock.now()).toISOString() })
  t.equal(r.front.port, r.port, 'still on the old port')
  t.match(r.keeper.state, { kind: 'serving', plan: { port: busy } }, 'the plan in force names the new port')
  t.ok(r.engine.packs().some((p) => p.name === 'extra'), 'the rest of the new plan is in force')
  t.notOk(r.keeper.pendingError, 'the file itself is fine')
  const loadedAt = (r.keeper.state as { loadedAt: string }).loadedAt

  await r.advance(RECHECK_MS)
  t.equal(r.front.port, r.port, 'a re-check while the port is still held: no move')
  t.match(r.keeper.portError, { code: 'PORT_IN_USE' })

  await release()
  await r.advance(RECHECK_MS)
  t.equal(r.front.port, busy, 'the next re-check moved to the freed port')
  t.notOk(r.keeper.portError, 'the port error is gone')
  t.match(r.keeper.state, { kind: 'serving', loadedAt }, 'the plan was not applied again')
  t.same(r.revoked, [], 'no lease revoked')
})

t.test('[SRV-5] an LPF back on the port in use ends a failed move', async (t) => {
  const r = await serving(t)
  const busy = await freePort()
  await holdPort(t, busy)
  r.disk.write(r.lpf({ port: busy }))
  t.match(await r.keeper.reload(), { applied: true, error: { code: 'PORT_IN_USE' } })
  r.disk.write(r.lpf({ packs: withExtra }))
  t.same(await r.keeper.reload(), { applied: true })
  t.notOk(r.keeper.portError, 'on the port its LPF names')
  t.equal(r.front.port, r.port)
})

t.test('[SRV-1] [SRV-7] a first port held by another process: waiting with PORT_IN_USE, no lease port; the re-check serves once it frees', async (t) => {
  const r = await rig(t)
  const release = await holdPort(t, r.port)
  r.keeper.startRechecks()
  r.disk.write(r.lpf())
  t.match(await r.keeper.reload(), { applied: false, error: { code: 'PORT_IN_USE' } })
  t.match(r.keeper.state, { kind: 'waiting', why: { code: 'PORT_IN_USE' } })
  t.match(r.keeper.portError, { code: 'PORT_IN_USE' })
  t.equal(r.front.port, undefined)
  t.notOk(r.engine.serving)
  await release()
  await r.advance(RECHECK_MS)
  t.match(r.keeper.state, { kind: 'serving' })
  t.equal(r.front.port, r.port)
  t.notOk(r.keeper.portError)
})
