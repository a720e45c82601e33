// [OBS-3] The brute-force check of the report, shared by every store: random event streams
// written through the store's own write paths (put with the grant, remove with the end, append
// the notes), reported part-way (days rolled up, today folded from events) and again once the
// rest is written, every figure held to the recomputation of brute.ts. The stores must answer
// the same report from the same events: report-brute.test.ts (LMDB), store/pg-report.test.ts.
import type { Test } from 'tap'
import type { HistoryEvent, LeaseRecord, LeaseStore, LeaseHistory } from '../../lib/engine/types.js'
import { Roller } from '../../lib/report/rollup.js'
import { usageReport, type ReportRow } from '../../lib/report/report.js'
import type { Period } from '../../lib/report/periods.js'
import { bruteReport } from './brute.js'

/** What the check needs of a store: its writes, its history, and a way to close it. */
export type HistoryStore = LeaseStore & { history?: LeaseHistory; close(): Promise<void> }

const CASES = Number(process.env.FLR_REPORT_CASES ?? 12)

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

/** A random history: monotonic times, some equal, crossing days and a month boundary. */
function randomHistory(seed: number): HistoryEvent[] {
  const r = rng(seed)
  const packs = ['cad', 'cam', 'sim'].slice(0, 1 + Math.floor(r() * 3))
  const holders = ['ann', 'bob', 'cid', 'dee', 'eve', 'fay']
  const live = new Map<string, { pack: string; holder: string }>()
  const events: HistoryEvent[] = []
  let at = Date.UTC(2026, 0, 29, Math.floor(r() * 24), Math.floor(r() * 60))
  let n = 0
  for (const pack of packs) events.push({ kind: 'limit', at, pack, limit: 1 + Math.floor(r() * 4) })
  const steps = 80 + Math.floor(r() * 220)
  for (let i = 0; i < steps; i++) {
    const x = r()
    at += x < 0.15 ? 0 : x < 0.9 ? Math.floor(r() * 3 * 3_600_000) : Math.floor(r() * 2 * 86_400_000)
    const pack = packs[Math.floor(r() * packs.length)]
    const holder = holders[Math.floor(r() * holders.length)]
    const a = r()
    if (a < 0.05) events.push({ kind: 'limit', at, pack, limit: Math.floor(r() * 5) })
    else if (a < 0.5) {
      const lease = `L${seed}-${++n}`
      live.set(lease, { pack, holder })
      events.push({ kind: 'grant', at, lease, pack, holder, client: `${holder}-ws`, address: '10.0.0.1', waitedMs: r() < 0.6 ? 0 : Math.floor(r() * 90_000) })
    } else if (a < 0.85 && live.size > 0) {
      const [lease, l] = [...live][Math.floor(r() * live.size)]
      live.delete(lease)
      const hows = ['released', 'expired', 'revoked', 'pack-removed'] as const
      events.push({ kind: 'end', at, lease, pack: l.pack, holder: l.holder, how: hows[Math.floor(r() * 4)] })
    } else {
      events.push({ kind: 'denial', at, pack, holder, code: r() < 0.5 ? 'PACK_EXHAUSTED' : 'WAIT_TIMEOUT', waitedMs: Math.floor(r() * 60_000) })
    }
  }
  // an end whose grant never landed (a put that failed): the history has it, the figures ignore it
  events.push({ kind: 'end', at, lease: 'never-granted', pack: packs[0], holder: 'zed', how: 'revoked' })
  return events
}

/** Through the store's own write paths: put with the grant, remove with the end, append the notes. */
function write(store: HistoryStore, events: readonly HistoryEvent[]): Promise<unknown> {
  const writes: Promise<unknown>[] = []
  const records = new Map<string, LeaseRecord>()
  for (const e of events) {
    if (e.kind === 'grant') {
      const record = { lease: e.lease, pack: e.pack, holder: e.holder, client: e.client, address: e.address, grantedAt: e.at }
      records.set(e.lease, record)
      writes.push(store.put(record, e.waitedMs))
    } else if (e.kind === 'end') {
      const record = records.get(e.lease) ?? { lease: e.lease, pack: e.pack, holder: e.holder, client: '', address: '', grantedAt: e.at }
      writes.push(store.remove(e.lease, { how: e.how, at: e.at, record }))
    } else writes.push(store.history!.append([e]))
  }
  return Promise.all(writes)
}

function close(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b))
}

function agree(t: Test, got: ReportRow[], want: ReportRow[], what: string): void {
  const key = (r: ReportRow) => `${r.period} ${r.pack}`
  t.same(got.map(key), want.map(key), `${what}: the same packs and periods`)
  const mismatches: string[] = []
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    const g = got[i] as unknown as Record<string, unknown>
    const w = want[i] as unknown as Record<string, unknown>
    for (const field of Object.keys(w)) {
      const a = g[field]
      const b = w[field]
      const same = typeof b === 'number' ? close(a as number, b) : JSON.stringify(a) === JSON.stringify(b)
      if (!same) mismatches.push(`${key(want[i])} ${field}: report ${JSON.stringify(a)}, brute force ${JSON.stringify(b)}`)
    }
  }
  t.same(mismatches.slice(0, 5), [], `${what}: every figure agrees (${want.length} rows)`)
}

/** Runs CASES random histories through the store `open` gives for each seed. */
export async function reportAgreesWithBruteForce(t: Test, open: (t: Test, seed: number) => Promise<HistoryStore>): Promise<void> {
  for (let seed = 1; seed <= CASES; seed++) {
    const events = randomHistory(seed)
    const r = rng(seed * 7919)
    let split = 1 + Math.floor(r() * (events.length - 1))
    // nothing at or after `now` has happened: the first phase ends before events[split]'s instant
    while (split > 1 && events[split - 1].at === events[split].at) split--
    const store = await open(t, seed)
    const roller = new Roller(store.history!)
    const first = events[0].at
    const phases = [
      { written: events.slice(0, split), now: events[split].at },
      { written: events, now: events[events.length - 1].at + Math.floor(r() * 86_400_000) },
    ]
    let done = 0
    for (const phase of phases) {
      await write(store, phase.written.slice(done))
      done = phase.written.length
      for (const by of ['hour', 'day', 'month'] as Period[]) {
        const from = first - 86_400_000 + Math.floor(r() * (phase.now - first))
        const to = from + 1 + Math.floor(r() * (phase.now - from + 2 * 86_400_000))
        const pack = r() < 0.3 ? 'cad' : undefined
        const q = { from, to, by, pack }
        const report = await usageReport(store.history!, roller, q, phase.now)
        const period = (x: number) => new Date(x).toISOString()
        const brute = bruteReport(phase.written, { ...q, from: Date.parse(report.from), to: Date.parse(report.to) }, phase.now)
        agree(t, report.rows, brute, `seed ${seed} now ${period(phase.now)} by ${by} ${report.from}..${report.to} ${pack ?? ''}`)
      }
    }
    t.same(
      (await store.history!.events(0, Number.MAX_SAFE_INTEGER)).length,
      events.length,
      `seed ${seed}: every event written reads back`,
    )
    await store.close()
  }
}
