// [OBS-3] What a report is asked for, read once for all three doors (the wire `report` op,
// GET /api/1.0/report, `flr report`): dates as YYYY-MM-DD (UTC days, `to` included), a
// period, a pack. Defaults: the last 30 days up to today, by day.
import { FlrError } from '../errors.js'
import { DAY_MS, periodStart, type Period } from './periods.js'
import type { ReportQuery } from './report.js'

export type ReportBy = Period | 'holder'
export const REPORT_BY: readonly ReportBy[] = ['hour', 'day', 'month', 'holder']
export const DEFAULT_DAYS = 30
/** hours are folded from the events themselves: a bound keeps one request from reading a year of them */
export const MAX_HOUR_DAYS = 93

export interface AskedReport {
  from?: string
  to?: string
  by?: string
  pack?: string
}

export interface ParsedReport extends Omit<ReportQuery, 'by'> {
  by: ReportBy
}

export function parseReportQuery(asked: AskedReport, now: number): ParsedReport {
  const by = (asked.by ?? 'day') as ReportBy
  if (!REPORT_BY.includes(by)) throw bad(`"by" must be one of ${REPORT_BY.join(', ')}`)
  const to = asked.to === undefined ? periodStart(now, 'day') + DAY_MS : day(asked.to, 'to') + DAY_MS
  const from = asked.from === undefined ? to - DEFAULT_DAYS * DAY_MS : day(asked.from, 'from')
  if (from >= to) throw bad(`"from" (${asked.from ?? 'default'}) must be a day before or on "to" (${asked.to ?? 'today'})`)
  if (by === 'hour' && to - from > MAX_HOUR_DAYS * DAY_MS) {
    throw bad(`a report by hour covers at most ${MAX_HOUR_DAYS} days; ask by day or month for longer, or narrow "from" and "to"`)
  }
  const query: ParsedReport = { from, to, by }
  if (asked.pack !== undefined && asked.pack !== '') query.pack = asked.pack
  return query
}

/** A UTC day: YYYY-MM-DD, or a full ISO time (its day is taken). */
function day(text: string, name: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(T.*)?$/.exec(text)
  const t = m ? Date.parse(m[4] ? text : `${text}T00:00:00Z`) : NaN
  if (!Number.isFinite(t)) throw bad(`"${name}" must be a date as YYYY-MM-DD (UTC), got ${JSON.stringify(text.slice(0, 40))}`)
  return periodStart(t, 'day')
}

function bad(message: string): FlrError {
  return new FlrError('BAD_REQUEST', message)
}
