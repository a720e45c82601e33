// [OBS-2] denials and limits reach the history in batches, within a second; a batch the store
// refuses is kept and written later; retention deletes what is older than --history-days.
import t from 'tap'
import { openLeaseStore } from '../../lib/store/lease-store.js'
import { FLUSH_MS, HistoryRecorder } from '../../lib/store/history-recorder.js'
import { HistoryRetention, SWEEP_STEP } from '../../lib/store/history-retention.js'
import type { HistoryNote, LeaseHistory } from '../../lib/engine/types.js'
import { FakeClock } from '../engine/fake-clock.js'

const HOST = 'Lnx-7Q2M-K4DA-ZP9W-3HXE'

t.test('[OBS-2] denials are written within a second, in one batch', async (t) => {
  const store = await openLeaseStore({ stateDir: t.testdir(), hostId: HOST })
  t.teardown(() => store.close())
  const clock = new FakeClock()
  const recorder = new HistoryRecorder(store.history!, clock)
  const at = clock.now()
  for (let i = 0; i < 50; i++) recorder.denied({ pack: 'cad', holder: `h${i}`, code: 'PACK_EXHAUSTED', waitedMs: 0, at })
  t.same(await store.history!.events(0, Number.MAX_SAFE_INTEGER), [], 'not written one by one')
  clock.advance(FLUSH_MS)
  await recorder.flush() // the write the timer started
  t.equal((await store.history!.events(0, Number.MAX_SAFE_INTEGER)).length, 50, 'all 50 once the second is up')
})

t.test('[OBS-2] limits are written when they change; a pack that left gets limit 0', async (t) => {
  const store = await openLeaseStore({ stateDir: t.testdir(), hostId: HOST })
  t.teardown(() => store.close())
  const clock = new FakeClock()
  const recorder = new HistoryRecorder(store.history!, clock)
  recorder.planned([{ pack: 'cad', limit: 2 }, { pack: 'cam', limit: 1 }], 1)
  recorder.planned([{ pack: 'cad', limit: 2 }, { pack: 'cam', limit: 1 }], 2)
  recorder.planned([{ pack: 'cad', limit: 3 }], 3)
  recorder.planned([], 4)
  await recorder.close()
  const limits = (await store.history!.events(0, Number.MAX_SAFE_INTEGER)).map((e) => (e.kind === 'limit' ? `${e.at} ${e.pack}=${e.limit}` : e.kind))
  t.same(limits, ['1 cad=2', '1 cam=1', '3 cad=3', '3 cam=0', '4 cad=0'])
})

t.test('[OBS-2] a batch the store refuses is kept, in order, and written with the next', async (t) => {
  const written: HistoryNote[][] = []
  let refuse = true
  const history = {
    append: async (notes: readonly HistoryNote[]) => {
      if (refuse) throw new Error('STORE_UNAVAILABLE')
      written.push([...notes])
    },
  } as unknown as LeaseHistory
  const clock = new FakeClock()
  const errors: unknown[] = []
  const recorder = new HistoryRecorder(history, clock, (e) => errors.push(e))
  recorder.denied({ pack: 'cad', holder: 'a', code: 'WAIT_TIMEOUT', waitedMs: 5, at: 1 })
  await recorder.flush()
  t.equal(errors.length, 1)
  recorder.denied({ pack: 'cad', holder: 'b', code: 'PACK_EXHAUSTED', waitedMs: 0, at: 2 })
  refuse = false
  clock.advance(FLUSH_MS)
  await recorder.flush()
  t.same(written.flat().map((n) => (n.kind === 'denial' ? n.holder : '')), ['a', 'b'])
})

t.test('[OBS-2] retention: everything older than the days kept goes, in steps that yield', async (t) => {
  const store = await openLeaseStore({ stateDir: t.testdir(), hostId: HOST })
  t.teardown(() => store.close())
  const clock = new FakeClock(Date.UTC(2026, 5, 1))
  const day = 86_400_000
  const old = Array.from({ length: SWEEP_STEP * 2 + 10 }, (_, i) => ({ kind: 'limit' as const, at: clock.now() - 20 * day + i, pack: 'cad', limit: 1 }))
  await store.history!.append(old)
  await store.history!.append([{ kind: 'limit', at: clock.now() - 5 * day, pack: 'cad', limit: 2 }])
  const retention = new HistoryRetention(store.history!, clock, 10)
  let turns = 0
  const counting = setInterval(() => turns++, 0)
  const swept = await retention.sweep()
  clearInterval(counting)
  await retention.close()
  t.equal(swept, old.length, 'every event older than 10 days')
  t.same((await store.history!.events(0, Number.MAX_SAFE_INTEGER)).map((e) => e.at), [clock.now() - 5 * day], 'the newer one stays')
  t.ok(turns > 0, 'the event loop turned during the sweep')
})
