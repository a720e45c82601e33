// [OBS-3] The report recomputed by brute force from the raw events, with none of the report's
// machinery (no fold, no rollups, no checkpoints): each figure straight from its definition.
import type { HistoryEvent } from '../../lib/engine/types.js'
import type { ReportRow } from '../../lib/report/report.js'

type By = 'hour' | 'day' | 'month'

function start(t: number, by: By): number {
  const d = new Date(t)
  if (by === 'hour') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours())
  if (by === 'day') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
}

function next(s: number, by: By): number {
  const d = new Date(s)
  if (by === 'hour') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1)
  if (by === 'day') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
}

interface Lease {
  pack: string
  holder: string
  g: number
  gi: number
  waitedMs: number
  end?: number
  ei?: number
}

/** `events` in the order they happened; `now`: nothing after it has happened. */
export function bruteReport(events: readonly HistoryEvent[], q: { from: number; to: number; by: By; pack?: string }, now: number): ReportRow[] {
  const leases = new Map<string, Lease>()
  const firstAt = new Map<string, number>()
  events.forEach((e, i) => {
    if (!firstAt.has(e.pack)) firstAt.set(e.pack, e.at)
    if (e.kind === 'grant' && !leases.has(e.lease)) leases.set(e.lease, { pack: e.pack, holder: e.holder, g: e.at, gi: i, waitedMs: e.waitedMs })
    if (e.kind === 'end') {
      const l = leases.get(e.lease)
      if (l && l.ei === undefined) Object.assign(l, { end: e.at, ei: i })
    }
  })
  const rows: ReportRow[] = []
  const to = Math.min(q.to, now)
  for (let s = start(q.from, q.by); s < to; s = next(s, q.by)) {
    const e = next(s, q.by)
    const c = Math.min(e, now)
    for (const [pack, first] of [...firstAt].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (q.pack !== undefined && pack !== q.pack) continue
      if (start(first, q.by) > s) continue
      const mine = [...leases.values()].filter((l) => l.pack === pack)
      const inPeriod = events.map((ev, i) => [ev, i] as const).filter(([ev]) => ev.pack === pack && ev.at >= s && ev.at < e)
      const live = (l: Lease, afterIndex: number) => l.gi <= afterIndex && (l.ei === undefined || l.ei > afterIndex)
      const before = events.findIndex((ev) => ev.at >= s)
      const lastBefore = before === -1 ? events.length - 1 : before - 1
      let peak = mine.filter((l) => live(l, lastBefore)).length
      for (const [, i] of inPeriod) peak = Math.max(peak, mine.filter((l) => live(l, i)).length)
      let area = 0
      for (const l of mine) area += Math.max(0, Math.min(l.end ?? Infinity, c) - Math.max(l.g, s))
      const limits = events.filter((ev) => ev.kind === 'limit' && ev.pack === pack)
      let limit = 0
      for (const ev of limits) if (ev.at < s && ev.kind === 'limit') limit = ev.limit
      for (const ev of limits) if (ev.at >= s && ev.at < e && ev.kind === 'limit') limit = Math.max(limit, ev.limit)
      const granted = mine.filter((l) => l.g >= s && l.g < e)
      const denials = inPeriod.map(([ev]) => ev).filter((ev) => ev.kind === 'denial')
      const holders = new Set(mine.filter((l) => l.g < e && (l.end === undefined || l.end >= s)).map((l) => l.holder))
      rows.push({
        pack,
        period: new Date(s).toISOString(),
        limit,
        peakInUse: peak,
        meanInUse: c > s ? area / (c - s) : 0,
        leaseHours: area / 3_600_000,
        grants: granted.length,
        denials: {
          PACK_EXHAUSTED: denials.filter((d) => d.kind === 'denial' && d.code === 'PACK_EXHAUSTED').length,
          WAIT_TIMEOUT: denials.filter((d) => d.kind === 'denial' && d.code === 'WAIT_TIMEOUT').length,
        },
        meanWaitMs: granted.length ? granted.reduce((sum, l) => sum + l.waitedMs, 0) / granted.length : 0,
        maxWaitMs: granted.reduce((m, l) => Math.max(m, l.waitedMs), 0),
        holders: holders.size,
      })
    }
  }
  return rows
}
