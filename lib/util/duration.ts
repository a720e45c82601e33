// Section 9: durations accept ms, s, m, h, d suffixes. A bare number is refused: `--lease-ttl 30`
// once meant 30 ms and every lease was lost at once; the message suggests the likely unit.
const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

export function parseDuration(text: string): number {
  const bare = /^\s*(\d+(?:\.\d+)?)\s*$/.exec(text)
  if (bare) throw new Error(`"${text}" has no unit: did you mean ${bare[1]}s? (write ms, s, m, h or d, e.g. 30s)`)
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text)
  if (!m) throw new Error(`"${text}" is not a duration: write a number with ms, s, m, h or d, e.g. 30s`)
  return Math.round(Number(m[1]) * UNIT[m[2]!]!)
}

/** ms as the shortest exact text with a unit: 3600000 → "1h", 1500 → "1500ms" */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) if (ms !== 0 && ms % UNIT[unit]! === 0) return `${ms / UNIT[unit]!}${unit}`
  return `${ms}ms`
}
