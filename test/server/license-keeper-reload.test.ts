// [SRV-1] [SRV-2] The license keeper's reload on the fake clock: a first file, a file still being
// written, the periodic re-check, a file judged once, and one queued run for every call made
// during a run. No sleeps: time moves only when the test moves it.
import t from 'tap'
import { PACKS, QUIET_MS, RECHECK_MS, rig, serving } from './keeper-harness.js'

const limitThree = [{ name: 'station', limit: 3 }, PACKS[1]!]

t.test('[SRV-1] [SRV-2] no file: waiting (LPF_MISSING), no lease port; a valid file: serving on its port', async (t) => {
  const r = await rig(t)
  t.match(await r.keeper.reload(), { applied: false, error: { code: 'LPF_MISSING', message: /no .*\.lp in \/licenses/ } })
  t.match(r.keeper.state, { kind: 'waiting', why: { code: 'LPF_MISSING' } })
  t.equal(r.front.port, undefined, 'no lease port without an LPF')
  t.notOk(r.engine.serving)
  r.disk.write(r.lpf())
  t.same(await r.keeper.reload(), { applied: true })
  t.match(r.keeper.state, { kind: 'serving', plan: { port: r.port }, loadedAt: new Date(r.clock.now()).toISOString() })
  t.equal(r.front.port, r.port, 'listening on the port the LPF names')
  t.ok(r.engine.serving)
  t.same(r.keeper.packNames, ['station', 'wb'])
  t.equal(r.captured.matching(/^LPF loaded: serving$/).length, 1)
})

t.test('[SRV-2] a file that fails moments after its last write is judged again once quiet: the rest arriving in time is applied, never rejected', async (t) => {
  const r = await serving(t)
  const text = r.lpf({ packs: limitThree })
  r.disk.write(text.slice(0, text.length / 2))
  t.match(await r.keeper.reload(), { applied: false, settling: true, error: { code: String } }, 'half a file: settling')
  t.notOk(r.keeper.pendingError, 'not shown as a rejection')
  await r.advance(1_000)
  r.disk.write(text) // the slow writer's second half; suppose the watcher missed it
  await r.advance(QUIET_MS)
  t.equal(r.engine.packs()[0]!.limit, 3, 'the settle timer judged the whole file and applied it')
  t.equal(r.captured.matching(/^LPF rejected/).length, 0, 'no rejection logged')
  t.equal(r.captured.matching(/^new LPF applied$/).length, 1, 'applied once')
})

t.test('[SRV-2] a file that stays bad is rejected once quiet, logged once, and not judged again at every re-check', async (t) => {
  const r = await serving(t)
  const loadedAt = (r.keeper.state as { loadedAt: string }).loadedAt
  r.keeper.startRechecks()
  r.disk.write('<lpf>not signed</lpf>')
  t.match(await r.keeper.reload(), { settling: true })
  await r.advance(QUIET_MS + 20)
  const pending = r.keeper.pendingError
  const reads = r.disk.reads
  t.match(pending, { code: String, message: String, at: new Date(r.clock.now()).toISOString() }, 'rejected once quiet')
  await r.advance(5 * RECHECK_MS)
  t.equal(r.disk.reads, reads + 5, 'five re-checks read the file')
  t.equal(r.captured.matching(/^LPF rejected/).length, 1, 'one warning for one bad file')
  t.same(r.keeper.pendingError, pending, 'the pending error keeps the time it was first seen')
  t.match(r.keeper.state, { kind: 'serving', loadedAt }, 'the LPF in force stays')
  r.disk.write(r.lpf({ packs: limitThree }))
  t.same(await r.keeper.reload(), { applied: true }, 'a good file')
  t.notOk(r.keeper.pendingError, 'clears the pending error')
})

t.test('[SRV-2] the periodic re-check applies a change the watcher missed, and only at the re-check', async (t) => {
  const r = await serving(t)
  r.keeper.startRechecks()
  r.disk.write(r.lpf({ packs: limitThree }))
  await r.advance(RECHECK_MS - 1)
  t.equal(r.engine.packs()[0]!.limit, 2, 'not before the re-check')
  await r.advance(1)
  t.equal(r.engine.packs()[0]!.limit, 3, 'the re-check applied it')
})

t.test('[SRV-2] the re-check is harmless: the same file read again applies nothing and logs nothing', async (t) => {
  const r = await serving(t)
  r.keeper.startRechecks()
  const before = { state: r.keeper.state, lines: r.captured.lines.length, reads: r.disk.reads }
  await r.advance(10 * RECHECK_MS)
  t.equal(r.disk.reads, before.reads + 10, 'ten re-checks')
  t.equal(r.keeper.state, before.state, 'the state is the very same (load time included)')
  t.equal(r.captured.lines.length, before.lines, 'no log line')
  t.same(await r.keeper.reload(), { applied: false })
})

t.test('[SRV-2] calls made during a run share one queued run, which sees the file as it was when they called', async (t) => {
  const r = await serving(t)
  let open!: () => void
  r.disk.gate = new Promise((resolve) => (open = resolve))
  const reads = r.disk.reads
  const first = r.keeper.reload() // takes the file as it is, then waits
  r.disk.write(r.lpf({ packs: limitThree }))
  const during = Array.from({ length: 10 }, () => r.keeper.reload())
  t.equal(new Set(during).size, 1, 'ten calls, one queued run')
  t.not(during[0], first)
  r.disk.gate = undefined
  open()
  t.same(await first, { applied: false }, 'the run in flight saw the old file')
  t.same(await during[0], { applied: true }, 'the queued run saw the new one')
  t.equal(r.disk.reads, reads + 2, 'two reads for eleven calls')
  t.equal(r.captured.matching(/^new LPF applied$/).length, 1, 'applied once')
  t.same(await r.keeper.reload(), { applied: false }, 'a call after both runs gets a run of its own')
})

t.test('[SRV-2] a run that fails for a reason other than the file is answered INTERNAL and logged; the next run works', async (t) => {
  const r = await serving(t)
  r.disk.breakWith(new Error('disk on fire'))
  t.same(await r.keeper.reload(), { applied: false, error: { code: 'INTERNAL', message: 'disk on fire' } })
  t.equal(r.captured.matching(/^LPF reload failed$/).length, 1)
  r.disk.write(r.lpf({ packs: limitThree }))
  t.same(await r.keeper.reload(), { applied: true })
})

t.test('[SRV-8] a closed keeper runs nothing more and arms no timer', async (t) => {
  const r = await serving(t)
  r.keeper.startRechecks()
  await r.keeper.close()
  const reads = r.disk.reads
  t.same(await r.keeper.reload(), { applied: false })
  await r.advance(3 * RECHECK_MS)
  t.equal(r.disk.reads, reads, 'no re-check after close')
})
