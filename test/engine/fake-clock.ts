// A clock that moves only when a test says so; timers fire in time order during advance().
// Like Node, it fires a timer longer than MAX_TIMER_MS (about 24.8 days) after 1 ms, so code that
// forgets to take a far instant in steps fails here as it would in production.

import { MAX_TIMER_MS, type Clock } from '../../lib/util/clock.js'

interface Timer {
  readonly at: number
  readonly seq: number
  readonly fn: () => void
}

export class FakeClock implements Clock {
  private current: number
  private seq = 0
  private readonly timers = new Map<number, Timer>()

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start
  }

  now(): number {
    return this.current
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const seq = ++this.seq
    const delay = ms > MAX_TIMER_MS ? 1 : Math.max(0, ms)
    this.timers.set(seq, { at: this.current + delay, seq, fn })
    return seq
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number)
  }

  /** How many timers are armed: the engine promises one for all leases. */
  get pendingTimers(): number {
    return this.timers.size
  }

  /** The time the next timer fires, if any. */
  nextAt(): number | undefined {
    return this.next(Infinity)?.at
  }

  /** Move time forward by `ms`, firing every timer that falls due, earliest (then oldest) first. */
  advance(ms: number): void {
    const target = this.current + ms
    for (let timer = this.next(target); timer; timer = this.next(target)) {
      this.timers.delete(timer.seq)
      this.current = Math.max(this.current, timer.at)
      timer.fn()
    }
    this.current = target
  }

  /** Move time forward without firing anything: a timer that is late, as real ones can be. */
  jump(ms: number): void {
    this.current += ms
  }

  private next(until: number): Timer | undefined {
    let best: Timer | undefined
    for (const timer of this.timers.values()) {
      if (timer.at > until) continue
      if (!best || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq)) best = timer
    }
    return best
  }
}
