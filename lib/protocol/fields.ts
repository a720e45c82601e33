// Field rules, declared once for every channel that takes them: the TCP validation
// (messages.ts) and the HTTP shim (server/http.ts) read the same limits and count the same
// way, so a value one channel accepts the other accepts too. No imports: the engine, the
// server, the client and the CLI can all take their limits from here.

/** A string field's length, in characters: Unicode code points, not UTF-16 units, not bytes ([WIRE-2]). */
export interface TextRule {
  readonly min: number
  readonly max: number
}

// The spec gives client and holder ([WIRE-4], [WIRE-5]) and the pack name ([LPF-3]); the
// others are ours, to keep logs sane.
export const CLIENT: TextRule = { min: 1, max: 128 }
export const HOLDER: TextRule = { min: 1, max: 128 }
export const APP: TextRule = { min: 0, max: 128 }
export const PACK: TextRule = { min: 1, max: 64 }
export const LEASE_ID: TextRule = { min: 1, max: 128 }
export const PASSWORD: TextRule = { min: 0, max: 256 }
/** the site's client token in hello (docs/security.md) */
export const TOKEN: TextRule = { min: 1, max: 256 }

/** [LEASE-5] the longest a lease request may wait for a seat, in ms. */
export const MAX_WAIT_MS = 600_000

/** [WIRE-4] the one protocol version this server speaks. */
export const PROTOCOL = 1

/** Whether `v` is a string whose length in code points lies within `rule`. */
export function fitsText(v: unknown, rule: TextRule): v is string {
  if (typeof v !== 'string') return false
  // Code points lie between half the UTF-16 length and the full one, so they are counted
  // only when that range straddles max: a busy server checks hundreds of thousands of
  // fields a second. Every minimum is 0 or 1, and a non-empty string has at least one point.
  if (v.length < rule.min) return false
  return v.length <= rule.max || (v.length <= 2 * rule.max && codePoints(v) <= rule.max)
}

/** "1–128" or "at most 128": the rule as error messages state it. */
export function describeRule(rule: TextRule): string {
  return rule.min > 0 ? `${rule.min}–${rule.max}` : `at most ${rule.max}`
}

/** Code points in `s`; a lone surrogate counts as one. */
export function codePoints(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) i++
    }
    n++
  }
  return n
}

/** The first `max` code points of `s`: a cut that never splits a surrogate pair (for logs). */
export function cutToCodePoints(s: string, max: number): string {
  if (s.length <= max) return s
  let end = 0
  for (let n = 0; n < max && end < s.length; n++) {
    const c = s.charCodeAt(end)
    const pair = c >= 0xd800 && c <= 0xdbff && end + 1 < s.length && (s.charCodeAt(end + 1) & 0xfc00) === 0xdc00
    end += pair ? 2 : 1
  }
  return s.slice(0, end)
}
