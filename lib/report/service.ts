// [OBS-2] [OBS-3] The usage history of a running server: the recorder (denials and limits, in
// batches), the retention sweep, the day rollups kept up to date in the background, and the
// report itself. The daemon makes one, hands its observer to the engine, and closes it.
import { FlrError } from '../errors.js'
import type { Clock } from '../util/clock.js'
import type { EngineObserver, LeaseHistory } from '../engine/types.js'
import { HistoryRecorder } from '../store/history-recorder.js'
import { DEFAULT_HISTORY_DAYS, HistoryRetention } from '../store/history-retention.js'
import { holderReport, type HolderReport } from './holders.js'
import { HOUR_MS } from './periods.js'
import { parseReportQuery, type AskedReport } from './query.js'
import { usageReport, type Report } from './report.js'
import { Roller } from './rollup.js'

export interface UsageOptions {
  history: LeaseHistory
  clock: Clock
  /** --history-days */
  historyDays?: number
  log: { warn(obj: object, msg?: string): void }
}

export class UsageService {
  readonly recorder: HistoryRecorder
  readonly roller: Roller
  readonly retention: HistoryRetention
  private readonly history: LeaseHistory
  private readonly clock: Clock
  private rollTimer: unknown
  private closed = false

  constructor(private readonly opts: UsageOptions) {
    this.history = opts.history
    this.clock = opts.clock
    const warn = (what: string) => (err: unknown) => opts.log.warn({ err }, `usage history: ${what} failed`)
    this.recorder = new HistoryRecorder(opts.history, opts.clock, warn('writing denials'))
    this.roller = new Roller(opts.history)
    this.retention = new HistoryRetention(opts.history, opts.clock, opts.historyDays ?? DEFAULT_HISTORY_DAYS, warn('the retention sweep'))
  }

  get observers(): EngineObserver[] {
    return [this.recorder]
  }

  /** Sweeps and rolls up in the background: at start, then every day and every hour. */
  start(): void {
    this.retention.start()
    this.roll()
  }

  /** Public figures: no holder names ([OBS-3]). */
  async report(asked: AskedReport): Promise<Report> {
    const query = parseReportQuery(asked, this.clock.now())
    if (query.by === 'holder') {
      throw new FlrError('BAD_REQUEST', 'a report by holder names people: it is not public; an admin asks for it with flr report --by holder')
    }
    await this.recorder.flush()
    return usageReport(this.history, this.roller, { ...query, by: query.by }, this.clock.now())
  }

  /** Admin only: the caller has checked ([OBS-3] --by holder names people). */
  async adminReport(asked: AskedReport): Promise<Report | HolderReport> {
    const query = parseReportQuery(asked, this.clock.now())
    if (query.by !== 'holder') return this.report(asked)
    await this.recorder.flush()
    return holderReport(this.history, this.roller, query, this.clock.now())
  }

  async close(): Promise<void> {
    this.closed = true
    this.clock.clearTimeout(this.rollTimer)
    await this.recorder.close()
    await this.retention.close()
  }

  private roll(): void {
    if (this.closed) return
    this.roller.catchUp(this.clock.now()).catch((err: unknown) => this.opts.log.warn({ err }, 'usage history: rolling up days failed'))
    this.rollTimer = this.clock.setTimeout(() => this.roll(), HOUR_MS)
  }
}
