// [LPF-2] [HA-2] The rules for the host list and the grace attribute, on values already read from
// the signed content. Shared by parse.ts and the fast-xml-parser oracle of
// test/lpf/parse-equivalence.test.ts, so that both readers give the same plan and the same
// refusal for what they read.
import { FlrError } from '../errors.js'
import type { HostPlan } from './plan.js'

/** [HA-2] a cluster LPF lists two to five hosts */
export const MAX_HOSTS = 5
/** [LPF-2] the grace period when the LPF has no `grace` attribute */
export const DEFAULT_GRACE_MS = 7 * 86_400_000
/** [LPF-2] the longest grace period a vendor may allow */
export const MAX_GRACE_MS = 30 * 86_400_000

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
// plain decimal digits and one unit: values are exactly what was signed (no spaces, signs,
// fractions or leading zeros), as for every number in an LPF
const GRACE = /^(0|[1-9][0-9]{0,11})(ms|s|m|h|d)$/

/** [LPF-2] how many `<flr>` elements: one, or two to five for a cluster LPF; `fix` says what to do */
export function checkHostCount(count: number, fix: string): void {
  if (count < 1 || count > MAX_HOSTS) {
    throw malformed(
      `an LPF has one <flr hostId="…" port="…"/>, or two to ${MAX_HOSTS} for a cluster LPF (one per node), this one has ${count}; ${fix}`,
    )
  }
}

/** [HA-2] distinct host ids: each node finds its own element by its host id */
export function checkDistinctHosts(hosts: readonly HostPlan[], fix: string): void {
  const seen = new Set<string>()
  for (const { hostId } of hosts) {
    if (seen.has(hostId)) throw malformed(`host id "${hostId}" appears in more than one <flr> element; the hosts of a cluster LPF are distinct; ${fix}`)
    seen.add(hostId)
  }
}

/** [LPF-2] the `grace` attribute of `<lpf>` in ms: a duration such as `7d`, at most `30d`; 7 days when absent */
export function graceOf(value: string | undefined, fix: string): number {
  if (value === undefined) return DEFAULT_GRACE_MS
  const m = GRACE.exec(value)
  if (!m) {
    throw malformed(`<lpf> grace "${value}" is not a duration: write whole units, such as grace="7d" (units ms, s, m, h, d; at most 30d); ${fix}`)
  }
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!
  if (ms > MAX_GRACE_MS) {
    throw malformed(`<lpf> grace "${value}" is longer than the 30 days an LPF may allow (grace="30d" at most); ${fix}`)
  }
  return ms
}

/** a grace period as an LPF would write it: the largest unit that divides it (`7d`, `36h`, `90s`) */
export function formatGrace(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms !== 0 && ms % UNIT_MS[unit]! === 0) return `${ms / UNIT_MS[unit]!}${unit}`
  }
  return ms === 0 ? '0s' : `${ms}ms`
}

function malformed(message: string): FlrError {
  return new FlrError('LPF_MALFORMED', message)
}
