// [OBS-3] `--by holder`: who used which pack over [from, to), for admins only (it names
// people). Folded from the events of the range, from the checkpoint of its first day.
import type { LeaseHistory } from '../engine/types.js'
import type { FoldState } from './fold.js'
import { DAY_MS, HOUR_MS, periodStart } from './periods.js'
import type { Roller } from './rollup.js'

export interface HolderRow {
  pack: string
  holder: string
  grants: number
  leaseHours: number
  denials: { PACK_EXHAUSTED: number; WAIT_TIMEOUT: number }
  meanWaitMs: number
  maxWaitMs: number
}

export interface HolderReport {
  from: string
  to: string
  by: 'holder'
  rows: HolderRow[]
}

interface Acc {
  row: HolderRow
  waitSumMs: number
  areaMs: number
}

export async function holderReport(history: LeaseHistory, roller: Roller, query: { from: number; to: number; pack?: string }, now: number): Promise<HolderReport> {
  const to = Math.min(query.to, now)
  const accs = new Map<string, Acc>()
  const acc = (pack: string, holder: string): Acc => {
    const key = `${pack}\u0000${holder}`
    let a = accs.get(key)
    if (!a) {
      a = { row: { pack, holder, grants: 0, leaseHours: 0, denials: { PACK_EXHAUSTED: 0, WAIT_TIMEOUT: 0 }, meanWaitMs: 0, maxWaitMs: 0 }, waitSumMs: 0, areaMs: 0 }
      accs.set(key, a)
    }
    return a
  }
  const start = await roller.startAt(periodStart(query.from, 'day'))
  if (start && to > query.from) {
    /** lease → [pack, holder, since] */
    const live = new Map<string, [string, string, number]>()
    for (const [lease, pack, holder] of (start.state as FoldState).live) live.set(lease, [pack, holder, query.from])
    for (let day = start.day; day < to; day += DAY_MS) {
      for (const e of await history.events(day, Math.min(day + DAY_MS, to))) {
        const inRange = e.at >= query.from
        if (e.kind === 'grant' && !live.has(e.lease)) {
          live.set(e.lease, [e.pack, e.holder, Math.max(e.at, query.from)])
          if (!inRange) continue
          const a = acc(e.pack, e.holder)
          a.row.grants++
          a.waitSumMs += e.waitedMs
          a.row.maxWaitMs = Math.max(a.row.maxWaitMs, e.waitedMs)
        } else if (e.kind === 'end') {
          const held = live.get(e.lease)
          if (!held) continue
          live.delete(e.lease)
          if (inRange) acc(held[0], held[1]).areaMs += e.at - held[2]
        } else if (e.kind === 'denial' && inRange) {
          acc(e.pack, e.holder).row.denials[e.code]++
        }
      }
    }
    for (const [pack, holder, since] of live.values()) acc(pack, holder).areaMs += Math.max(0, to - since)
  }
  const rows = [...accs.values()]
    .filter((a) => query.pack === undefined || a.row.pack === query.pack)
    .filter((a) => a.areaMs > 0 || a.row.grants > 0 || a.row.denials.PACK_EXHAUSTED > 0 || a.row.denials.WAIT_TIMEOUT > 0)
    .map((a) => ({ ...a.row, leaseHours: a.areaMs / HOUR_MS, meanWaitMs: a.row.grants > 0 ? a.waitSumMs / a.row.grants : 0 }))
    .sort((a, b) => (a.pack < b.pack ? -1 : a.pack > b.pack ? 1 : b.leaseHours - a.leaseHours || (a.holder < b.holder ? -1 : 1)))
  return { from: new Date(query.from).toISOString(), to: new Date(query.to).toISOString(), by: 'holder', rows }
}
