// Section 9: durations accept ms, s, m, h, d suffixes; a bare number is milliseconds.
const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text)
  if (!m) throw new Error(`"${text}" is not a duration: write a number with ms, s, m, h or d, e.g. 30s`)
  return Math.round(Number(m[1]) * UNIT[m[2] ?? 'ms']!)
}
