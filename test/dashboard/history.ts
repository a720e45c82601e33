// A week of usage history for the dashboard tests, written before the daemon starts with the LMDB
// store's own put, remove and history.append (as the engine and the recorder write them), so
// the report API the charts read has something to show.
import { openLeaseStore } from '../../lib/store/lease-store.js'
import { HOST_ID } from '../helpers/server.js'

const HOUR_MS = 3_600_000

export interface WrittenHistory {
  /** when each denial of `pack` was written (epoch ms) */
  denialsAt(pack: string): number[]
}

/**
 * Office hours over the last 6 days: each working hour, as many leases of each pack as the hour
 * asks for (up to its limit), each held 50 minutes, and a denial for each one asked beyond it.
 */
export async function writeWeek(stateDir: string, packs: { name: string; limit: number }[], now = Date.now()): Promise<WrittenHistory> {
  const store = await openLeaseStore({ stateDir, hostId: HOST_ID })
  const start = Math.floor(now / HOUR_MS) * HOUR_MS - 6 * 24 * HOUR_MS
  const denials = new Map<string, number[]>(packs.map((p) => [p.name, []]))
  await store.history!.append(packs.map((p) => ({ kind: 'limit' as const, at: start - 1, pack: p.name, limit: p.limit })))
  let n = 0
  for (let at = start; at < now - 2 * HOUR_MS; at += HOUR_MS) {
    const hour = new Date(at).getUTCHours()
    const busy = hour >= 8 && hour < 18 ? 1 + Math.round(3 * Math.sin(((hour - 8) / 10) * Math.PI)) : 0
    // in the order it happened (the history is read in write order): every pack's grants and
    // denials of the hour's first minutes, then their ends 50 minutes on
    const writes: Promise<void>[] = []
    const ends: (() => Promise<void>)[] = []
    for (const pack of packs) {
      for (let i = 0; i < busy; i++) {
        const t = at + i * 60_000
        if (i >= pack.limit) {
          denials.get(pack.name)!.push(t)
          writes.push(store.history!.append([{ kind: 'denial', at: t, pack: pack.name, holder: `user-${i}`, code: 'PACK_EXHAUSTED', waitedMs: 0 }]))
          continue
        }
        const record = { lease: `week-${n++}`, pack: pack.name, holder: `user-${i}`, client: 'history', address: '10.0.0.1:1', grantedAt: t }
        writes.push(store.put(record, 0))
        ends.push(() => store.remove(record.lease, { how: 'released', at: t + 50 * 60_000, record }))
      }
    }
    await Promise.all(writes)
    await Promise.all(ends.map((end) => end()))
  }
  await store.close()
  return { denialsAt: (pack) => denials.get(pack) ?? [] }
}
