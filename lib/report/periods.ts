// [OBS-3] The report's periods: UTC hours, days and calendar months.
export type Period = 'hour' | 'day' | 'month'

export const HOUR_MS = 3_600_000
export const DAY_MS = 86_400_000

/** The start of the period of `by` that contains `t` (epoch ms, UTC). */
export function periodStart(t: number, by: Period): number {
  if (by === 'hour') return Math.floor(t / HOUR_MS) * HOUR_MS
  if (by === 'day') return Math.floor(t / DAY_MS) * DAY_MS
  const d = new Date(t)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
}

/** The start of the period after the one that starts at `start`. */
export function periodEnd(start: number, by: Period): number {
  if (by === 'hour') return start + HOUR_MS
  if (by === 'day') return start + DAY_MS
  const d = new Date(start)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
}
