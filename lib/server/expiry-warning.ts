// [OBS-5] An LPF that expires stops every lease at that instant ([SRV-6]); admins coming from
// FlexLM learn it from lmstat's "expires in N days" or from users. flr warns in its log from 30
// days before, once a day, and status and health say how many days are left (expiresInDays).
// Clock-driven: the daemon's clock, so that tests move through the month without waiting.
import { every, type Cancel, type Clock } from '../util/clock.js'
import type { LicensePlan } from '../lpf/plan.js'

export const WARN_DAYS = 30
const DAY_MS = 86_400_000
/**
 * How often the expiry is looked at: often enough that the first warning comes within the
 * hour the LPF crosses the 30-day line (or a new LPF expiring soon is applied), while the
 * warnings themselves stay a day apart.
 */
export const CHECK_MS = 3_600_000

/** Whole days left before `expiresAt` (0 on the last day, negative once past); undefined for an LPF that never expires. */
export function expiresInDays(expiresAt: number | null | undefined, now: number): number | undefined {
  if (expiresAt === null || expiresAt === undefined) return undefined
  return Math.floor((expiresAt - now) / DAY_MS)
}

export interface ExpiryWarningOptions {
  clock: Clock
  log: { warn(obj: object, msg: string): void }
  /** the LPF in force, if any */
  plan(): Pick<LicensePlan, 'expiresAt' | 'expiration'> | undefined
}

export class ExpiryWarning {
  private timer: Cancel | undefined
  /** the last warning: for which expiry, and when */
  private last: { expiresAt: number; at: number } | undefined

  constructor(private readonly opts: ExpiryWarningOptions) {}

  /** Looks now, then every CHECK_MS until stop(). */
  start(): void {
    if (this.timer) return
    this.check()
    this.timer = every(this.opts.clock, CHECK_MS, () => this.check())
  }

  stop(): void {
    this.timer?.()
    this.timer = undefined
  }

  /** Warns when the LPF expires within WARN_DAYS and no warning about that expiry was logged in the last day. */
  check(): void {
    const plan = this.opts.plan()
    const expiresAt = plan?.expiresAt
    const now = this.opts.clock.now()
    // past the instant, [SRV-6] has stopped serving and logged why: nothing left to warn of
    if (!plan || expiresAt === null || expiresAt === undefined || expiresAt <= now) return
    if (expiresAt - now > WARN_DAYS * DAY_MS) return
    const last = this.last
    if (last && last.expiresAt === expiresAt && now - last.at < DAY_MS) return
    this.last = { expiresAt, at: now }
    const days = expiresInDays(expiresAt, now)!
    const when = new Date(expiresAt).toISOString()
    const left = days === 0 ? 'within a day' : `in ${days} day${days === 1 ? '' : 's'}`
    this.opts.log.warn(
      { expiration: plan.expiration, expiresAt: when, expiresInDays: days },
      `the LPF expires ${left} (${when}): every lease stops then; ask the vendor for a new LPF and drop it in the license directory`,
    )
  }
}
