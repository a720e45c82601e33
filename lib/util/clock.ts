import type { Clock } from '../engine/types.js'

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
