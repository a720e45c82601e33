// [OBS-3] The usage report: per pack and period, from the day rollups (rollup.ts) for the whole
// days already rolled, and from the events themselves for the rest (today, or hours). The
// figures are exact: the same fold (fold.ts) makes both, and a brute-force recomputation in
// the tests (test/report/) must agree with every one of them.
import type { LeaseHistory } from '../engine/types.js'
import { Fold, type Bucket, type FoldState } from './fold.js'
import { bytesToHashes } from './holder-hash.js'
import { DAY_MS, HOUR_MS, periodEnd, periodStart, type Period } from './periods.js'
import type { Roller } from './rollup.js'

export interface ReportQuery {
  /** epoch ms, inclusive */
  from: number
  /** epoch ms, exclusive */
  to: number
  by: Period
  pack?: string
}

/** One row of GET /api/1.0/report (shared-interfaces item 5). */
export interface ReportRow {
  pack: string
  /** ISO start of the period, UTC */
  period: string
  limit: number
  peakInUse: number
  meanInUse: number
  leaseHours: number
  grants: number
  denials: { PACK_EXHAUSTED: number; WAIT_TIMEOUT: number }
  meanWaitMs: number
  maxWaitMs: number
  /** distinct holders who held a seat in the period */
  holders: number
}

export interface Report {
  from: string
  to: string
  by: Period
  rows: ReportRow[]
}

/** Periods are whole: `from` goes back to the start of its period, `to` forward to the end of its. */
export async function usageReport(history: LeaseHistory, roller: Roller, asked: ReportQuery, now: number): Promise<Report> {
  const from = periodStart(asked.from, asked.by)
  const query = { ...asked, from, to: Math.max(from, periodEnd(periodStart(asked.to - 1, asked.by), asked.by)) }
  const buckets = query.by === 'hour' ? await fromEvents(history, roller, query, now) : await fromRollups(history, roller, query, now)
  const wanted = buckets.filter((b) => query.pack === undefined || b.pack === query.pack)
  const periods = query.by === 'month' ? months(wanted, now) : wanted
  periods.sort((a, b) => a.start - b.start || (a.pack < b.pack ? -1 : a.pack > b.pack ? 1 : 0))
  return { from: iso(query.from), to: iso(query.to), by: query.by, rows: periods.map(rowOf) }
}

/** Days and months: the rolled days' rollups, and a fold of the events after them. */
async function fromRollups(history: LeaseHistory, roller: Roller, query: ReportQuery, now: number): Promise<Bucket[]> {
  await roller.catchUp(now)
  const from = periodStart(query.from, query.by)
  const to = Math.min(query.to, now)
  const start = await roller.startAt()
  if (!start || to <= from) return []
  const rolled = start.day
  const buckets = (await history.rollups(from, Math.min(to, rolled))).map((row) => {
    const bucket = row.rollup as Bucket
    return { ...bucket, holders: bytesToHashes(bucket.holders) }
  })
  if (to > rolled) buckets.push(...(await fold(history, start.state as FoldState, rolled, to, 'day', now)))
  return buckets.filter((b) => b.start >= from && b.start < to)
}

/** Hours: a fold of the events from the checkpoint of the first day. */
async function fromEvents(history: LeaseHistory, roller: Roller, query: ReportQuery, now: number): Promise<Bucket[]> {
  const from = periodStart(query.from, 'hour')
  const to = Math.min(query.to, now)
  const start = await roller.startAt(periodStart(from, 'day'))
  if (!start || to <= from) return []
  const buckets = await fold(history, start.state as FoldState, start.day, to, 'hour', now)
  return buckets.filter((b) => b.start >= from)
}

/** Folds the events of [from, to) a day at a time (a month of events is never all in memory). */
async function fold(history: LeaseHistory, state: FoldState, from: number, to: number, by: Period, now: number): Promise<Bucket[]> {
  const folding = new Fold(state, from, by, now)
  for (let day = from; day < to; day += DAY_MS) {
    folding.feed(await history.events(day, Math.min(day + DAY_MS, to)))
  }
  folding.closeUntil(to)
  const rows = folding.rows
  if (folding.position < to) rows.push(...folding.partial(to))
  return rows
}

/** A month of days; its mean in use is over the whole month so far, as an hour's or a day's is over the whole period. */
function months(days: readonly Bucket[], now: number): Bucket[] {
  const merged = new Map<string, { bucket: Bucket; holders: Set<number> }>()
  for (const day of days) {
    const start = periodStart(day.start, 'month')
    const key = `${start} ${day.pack}`
    const into = merged.get(key)
    if (!into) {
      const coveredMs = Math.min(periodEnd(start, 'month'), now) - start
      merged.set(key, { bucket: { ...day, start, coveredMs }, holders: new Set(day.holders) })
      continue
    }
    const b = into.bucket
    b.limit = Math.max(b.limit, day.limit)
    b.peak = Math.max(b.peak, day.peak)
    b.areaMs += day.areaMs
    b.grants += day.grants
    b.exhausted += day.exhausted
    b.timeouts += day.timeouts
    b.waitSumMs += day.waitSumMs
    b.waitMaxMs = Math.max(b.waitMaxMs, day.waitMaxMs)
    for (const holder of day.holders) into.holders.add(holder)
  }
  return [...merged.values()].map(({ bucket, holders }) => ({ ...bucket, holders: Float64Array.from(holders) }))
}

export function rowOf(b: Bucket): ReportRow {
  return {
    pack: b.pack,
    period: iso(b.start),
    limit: b.limit,
    peakInUse: b.peak,
    meanInUse: b.coveredMs > 0 ? b.areaMs / b.coveredMs : 0,
    leaseHours: b.areaMs / HOUR_MS,
    grants: b.grants,
    denials: { PACK_EXHAUSTED: b.exhausted, WAIT_TIMEOUT: b.timeouts },
    meanWaitMs: b.grants > 0 ? b.waitSumMs / b.grants : 0,
    maxWaitMs: b.waitMaxMs,
    holders: b.holders.length,
  }
}

function iso(t: number): string {
  return new Date(t).toISOString()
}
