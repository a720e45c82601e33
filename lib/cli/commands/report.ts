// `flr report` ([OBS-3]): usage per pack and period, from the running server (the wire
// `report` op): the server owns the history, keeps its rollups current, and its state
// directory is locked while it runs. --by holder names people: it asks for the admin password.
import type { Command } from 'commander'
import type { ReportAnswer } from '../../protocol/replies.js'
import { holderCsv, reportCsv, round } from '../../report/csv.js'
import type { HolderRow } from '../../report/holders.js'
import type { ReportRow } from '../../report/report.js'
import { adminOptions, withAdmin, withClient, type AdminOptions } from '../admin-session.js'
import { CommandFailed, json, table, type CliIO } from '../io.js'

interface ReportOptions extends AdminOptions {
  from?: string
  to?: string
  pack?: string
  by: string
  json?: boolean
  csv?: boolean
}

export function register(program: Command, io: CliIO): void {
  adminOptions(
    program
      .command('report')
      .description('usage per pack and period: limit, peak and mean in use, lease-hours, grants, denials, waits, holders')
      .option('--from <date>', 'first day, YYYY-MM-DD (UTC); default: 30 days before --to')
      .option('--to <date>', 'last day, included, YYYY-MM-DD (UTC); default: today')
      .option('--pack <pack>', 'only this pack')
      .option('--by <period>', 'hour, day, month, or holder (admin: names people)', 'day')
      .option('--json', 'print the report as JSON')
      .option('--csv', 'print the report as CSV'),
  ).action(async (opts: ReportOptions) => {
    if (opts.json && opts.csv) throw new CommandFailed('--json and --csv: choose one', 2)
    const asked = {
      ...(opts.from ? { from: opts.from } : {}),
      ...(opts.to ? { to: opts.to } : {}),
      ...(opts.pack ? { pack: opts.pack } : {}),
      by: opts.by,
    }
    const report =
      opts.by === 'holder'
        ? await withAdmin(opts, io, (c) => c.request('report', asked))
        : await withClient(opts, io, 'flr-report', (c) => c.request('report', asked))
    if (opts.json) return io.out(json(report))
    if (opts.csv) return io.out(report.by === 'holder' ? holderCsv(report.rows as unknown as HolderRow[]).trimEnd() : reportCsv(report.rows as unknown as ReportRow[]).trimEnd())
    io.out(render(report))
  })
}

export function render(report: ReportAnswer): string {
  const span = `${report.from.slice(0, 10)} to ${report.to.slice(0, 10)} (exclusive), by ${report.by}`
  if (report.rows.length === 0) return `No usage recorded from ${span}.`
  if (report.by === 'holder') {
    const rows = report.rows as unknown as HolderRow[]
    return `Usage from ${span}\n\n${table(
      ['Pack', 'Holder', 'Grants', 'Lease-hours', 'Denied (full)', 'Denied (timeout)', 'Mean wait', 'Max wait'],
      rows.map((r) => [r.pack, r.holder, r.grants, round(r.leaseHours), r.denials.PACK_EXHAUSTED, r.denials.WAIT_TIMEOUT, ms(r.meanWaitMs), ms(r.maxWaitMs)]),
    )}`
  }
  const rows = report.rows as unknown as ReportRow[]
  const period = (iso: string) => (report.by === 'month' ? iso.slice(0, 7) : report.by === 'day' ? iso.slice(0, 10) : `${iso.slice(0, 13)}:00Z`)
  return `Usage from ${span}\n\n${table(
    ['Pack', 'Period', 'Limit', 'Peak', 'Mean', 'Lease-hours', 'Grants', 'Denied (full)', 'Denied (timeout)', 'Mean wait', 'Max wait', 'Holders'],
    rows.map((r) => [r.pack, period(r.period), r.limit, r.peakInUse, round(r.meanInUse), round(r.leaseHours), r.grants, r.denials.PACK_EXHAUSTED, r.denials.WAIT_TIMEOUT, ms(r.meanWaitMs), ms(r.maxWaitMs), r.holders]),
  )}`
}

function ms(x: number): string {
  return x < 1000 ? `${Math.round(x)} ms` : `${round(x / 1000)} s`
}
