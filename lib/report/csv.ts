// [OBS-3] The report as CSV (RFC 4180): one header line, one line per row, figures as numbers.
// A field that a spreadsheet would run as a formula (=, +, -, @ first) is quoted with a
// leading apostrophe: a pack or holder name is not a formula.
import type { HolderRow } from './holders.js'
import type { ReportRow } from './report.js'

const ROW_COLUMNS = ['pack', 'period', 'limit', 'peakInUse', 'meanInUse', 'leaseHours', 'grants', 'deniedExhausted', 'deniedTimeout', 'meanWaitMs', 'maxWaitMs', 'holders']
const HOLDER_COLUMNS = ['pack', 'holder', 'grants', 'leaseHours', 'deniedExhausted', 'deniedTimeout', 'meanWaitMs', 'maxWaitMs']

export function reportCsv(rows: readonly ReportRow[]): string {
  const lines = rows.map((r) => [r.pack, r.period, r.limit, r.peakInUse, round(r.meanInUse), round(r.leaseHours), r.grants, r.denials.PACK_EXHAUSTED, r.denials.WAIT_TIMEOUT, round(r.meanWaitMs), r.maxWaitMs, r.holders])
  return toCsv(ROW_COLUMNS, lines)
}

export function holderCsv(rows: readonly HolderRow[]): string {
  const lines = rows.map((r) => [r.pack, r.holder, r.grants, round(r.leaseHours), r.denials.PACK_EXHAUSTED, r.denials.WAIT_TIMEOUT, round(r.meanWaitMs), r.maxWaitMs])
  return toCsv(HOLDER_COLUMNS, lines)
}

/** Figures to 3 decimals: a CSV is read by people and spreadsheets, the JSON keeps them whole. */
export function round(x: number): number {
  return Math.round(x * 1000) / 1000
}

function toCsv(header: readonly string[], lines: readonly (string | number)[][]): string {
  return [header, ...lines].map((fields) => fields.map(field).join(',')).join('\r\n') + '\r\n'
}

function field(value: string | number): string {
  if (typeof value === 'number') return String(value)
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}
