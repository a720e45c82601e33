// Time as the server sees it. Every timer of the engine and the server goes through a Clock,
// so that their life cycles run on a fake clock in tests, without sleeps.

/** `now()` is monotonic but expressed as epoch ms. */
export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Cancels a timer made by timerAt or every. */
export type Cancel = () => void

/**
 * setTimeout's longest delay: 2^31-1 ms, about 24.8 days. Node fires a longer one after 1 ms
 * (with a TimeoutOverflowWarning), so a far instant ([SRV-6] an LPF expiring in a year) is
 * reached in steps (timerAt).
 */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** Wall time at start plus a monotonic offset: immune to the wall clock jumping. */
export function systemClock(): Clock {
  const wallAtStart = Date.now()
  const monoAtStart = performance.now()
  return {
    now: () => Math.round(wallAtStart + (performance.now() - monoAtStart)),
    setTimeout: (fn, ms) => {
      const h = setTimeout(fn, ms)
      h.unref()
      return h
    },
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  }
}

/**
 * Runs `fn` once, at the instant `at` of `clock` or as soon after it as the timer fires; an
 * instant already past fires on the next timer turn, never synchronously. Waits longer than
 * MAX_TIMER_MS are taken in steps, and a step that fires early waits for what is left.
 */
export function timerAt(clock: Clock, at: number, fn: () => void): Cancel {
  let handle: unknown
  const step = (): void => {
    const left = at - clock.now()
    if (left > 0) handle = clock.setTimeout(step, Math.min(left, MAX_TIMER_MS))
    else fn()
  }
  handle = clock.setTimeout(step, Math.min(Math.max(0, at - clock.now()), MAX_TIMER_MS))
  return () => clock.clearTimeout(handle)
}

/** Runs `fn` every `ms` (at most MAX_TIMER_MS) until cancelled: setInterval on `clock`. */
export function every(clock: Clock, ms: number, fn: () => void): Cancel {
  const period = Math.min(ms, MAX_TIMER_MS)
  let handle: unknown
  const tick = (): void => {
    handle = clock.setTimeout(tick, period)
    fn()
  }
  handle = clock.setTimeout(tick, period)
  return () => clock.clearTimeout(handle)
}
