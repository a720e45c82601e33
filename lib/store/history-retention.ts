// [OBS-2] Retention: history older than --history-days (default 400) is deleted at start and
// once a day, in steps of at most SWEEP_STEP deletions with a turn of the event loop between
// them, so that sweeping a year of backlog never stalls the server.
import type { Clock } from '../util/clock.js'
import type { LeaseHistory } from '../engine/types.js'

export const DEFAULT_HISTORY_DAYS = 400
export const SWEEP_STEP = 5_000
const DAY_MS = 86_400_000

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export class HistoryRetention {
  #timer: unknown
  #running: Promise<number> | undefined
  #closed = false

  constructor(
    private readonly history: LeaseHistory,
    private readonly clock: Clock,
    private readonly days: number,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Sweeps now, then every day. */
  start(): void {
    void this.sweep()
  }

  /** Deletes everything older than `days` before now; resolves to how many entries went. */
  sweep(): Promise<number> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = undefined
      if (!this.#closed) this.#timer = this.clock.setTimeout(() => void this.sweep(), DAY_MS)
    })
    return this.#running
  }

  async close(): Promise<void> {
    this.#closed = true
    this.clock.clearTimeout(this.#timer)
    await this.#running
  }

  async #sweep(): Promise<number> {
    this.clock.clearTimeout(this.#timer)
    const before = this.clock.now() - this.days * DAY_MS
    let total = 0
    try {
      for (;;) {
        if (this.#closed) return total
        const n = await this.history.sweep(before, SWEEP_STEP)
        total += n
        if (n < SWEEP_STEP) return total
        await turn()
      }
    } catch (error) {
      this.onError(error)
      return total
    }
  }
}
