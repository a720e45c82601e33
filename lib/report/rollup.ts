// [OBS-3] Day rollups: every whole UTC day is folded once, from the checkpoint its previous day
// left, and its buckets and the next checkpoint are saved in one transaction. A report of a
// year then reads ~365 × packs rollups instead of millions of events. One day per step, with
// a turn of the event loop between steps: rolling a long backlog never stalls the server.
import type { Checkpoint, LeaseHistory } from '../engine/types.js'
import { EMPTY_STATE, Fold, type FoldState } from './fold.js'
import { hashesToBytes } from './holder-hash.js'
import { DAY_MS, periodStart } from './periods.js'

/** Days are rolled only once this long past their end: denials are written up to a second late, batched ([OBS-2]). */
export const ROLL_GRACE_MS = 5 * 60_000

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export class Roller {
  #running: Promise<unknown> = Promise.resolve()

  constructor(private readonly history: LeaseHistory) {}

  /** Rolls every day that ended ROLL_GRACE_MS before `now`; calls made meanwhile wait for the one running. */
  catchUp(now: number): Promise<void> {
    const run = this.#running.then(() => this.#roll(now))
    this.#running = run.catch(() => {})
    return run
  }

  /** Where a fold of the days from `day` on starts: the checkpoint at or before it, or the first event's day. */
  async startAt(day?: number): Promise<Checkpoint | undefined> {
    const checkpoint = await this.history.checkpoint(day)
    if (checkpoint) return checkpoint
    const [first] = await this.history.events(0, Number.MAX_SAFE_INTEGER, 1)
    return first && { day: periodStart(first.at, 'day'), state: EMPTY_STATE }
  }

  async #roll(now: number): Promise<void> {
    const until = periodStart(now - ROLL_GRACE_MS, 'day')
    const start = await this.startAt()
    if (!start) return
    let state = start.state as FoldState
    for (let day = start.day; day < until; day += DAY_MS) {
      const fold = new Fold(state, day, 'day', Number.POSITIVE_INFINITY)
      fold.feed(await this.history.events(day, day + DAY_MS))
      fold.closeUntil(day + DAY_MS)
      state = fold.state()
      await this.history.saveDay(
        fold.rows.map((bucket) => ({ day, pack: bucket.pack, rollup: { ...bucket, holders: hashesToBytes(bucket.holders) } })),
        { day: day + DAY_MS, state },
      )
      await turn()
    }
  }
}
