// The license's own life ([SRV-1], [SRV-3], [SRV-6]): the one explicit state, the one place it
// changes (enter), and the transitions the clock makes by itself, the removal grace and the
// expiry, both on the injected clock. Split from license-keeper.ts, which reads and judges the
// file one run at a time and tells this what it found: the state and its transitions read whole
// here, the reload's steps there. The keeper depends on this, never the reverse: a removal grace
// that must look at the file again calls the `recheck` it is given (the keeper's reload).
import type { LicensePlan } from '../lpf/plan.js'
import type { Problem, ReloadAnswer } from '../protocol/replies.js'
import { timerAt, type Cancel } from '../util/clock.js'
import type { KeeperOptions, LicenseState } from './license-state.js'

/** What the life needs of the keeper's options. */
export type LifeOptions = Pick<KeeperOptions, 'clock' | 'log' | 'engine' | 'fileName' | 'licenseDir' | 'removalGraceMs' | 'misnamed' | 'onChange'>

export class LicenseLife {
  private current: LicenseState = { kind: 'waiting', why: { code: 'LPF_MISSING', message: 'no LPF loaded yet' } }
  private removalTimer: Cancel | undefined
  private expiryTimer: Cancel | undefined

  constructor(
    private readonly opts: LifeOptions,
    /** [SRV-3] re-read the file: the removal grace ends through the serialized reload */
    private readonly recheck: () => void,
  ) {}

  get state(): LicenseState {
    return this.current
  }

  get serving(): boolean {
    return this.current.kind === 'serving' || this.current.kind === 'grace'
  }

  get plan(): LicensePlan | undefined {
    return this.current.kind === 'waiting' ? undefined : this.current.plan
  }

  /** The one place the state changes. */
  enter(next: LicenseState): void {
    const before = this.current
    this.current = next
    // [SRV-1] at start and at every change, the log says why nothing is served (a stop from
    // serving logs its own line: stopServing)
    if ((next.kind === 'waiting' || next.kind === 'stopped') && before.kind === next.kind && !sameProblem(before.why, next.why)) {
      const { fileName, licenseDir } = this.opts
      this.opts.log.warn({ code: next.why.code, expected: fileName, licenseDir, misnamed: this.opts.misnamed?.() }, `not serving: ${next.why.message}`)
    }
    this.opts.onChange?.()
  }

  /**
   * [SRV-3] A removed file starts the grace; the timer ends it through reload(), so the decision
   * to stop serving is taken in the same serialized run that would see a returning file.
   */
  missing(): ReloadAnswer {
    const { fileName, licenseDir, clock } = this.opts
    const error: Problem = { code: 'LPF_MISSING', message: missingMessage(fileName, licenseDir, this.opts.misnamed?.() ?? []) }
    const state = this.current
    if (state.kind === 'waiting') this.enter({ kind: 'waiting', why: error })
    if (state.kind === 'waiting' || state.kind === 'stopped') return { applied: false, error }
    if (state.kind === 'serving') {
      this.opts.log.warn({ file: fileName }, `LPF removed; leases are revoked if it stays removed for ${this.opts.removalGraceMs} ms`)
      this.enter({ kind: 'grace', plan: state.plan, loadedAt: state.loadedAt, until: clock.now() + this.opts.removalGraceMs })
    }
    const { until } = this.current as Extract<LicenseState, { kind: 'grace' }>
    if (clock.now() < until) {
      this.removalTimer ??= timerAt(clock, until, () => {
        this.removalTimer = undefined
        this.recheck()
      })
      return { applied: false, error }
    }
    this.stopServing('lpf-removed', { code: 'LPF_MISSING', message: `${fileName} was removed from ${licenseDir}` })
    return { applied: false, error }
  }

  /** The file is there (good, bad or unreadable): a removal grace is called off. */
  endGrace(): void {
    this.removalTimer?.()
    this.removalTimer = undefined
    const state = this.current
    if (state.kind === 'grace') this.enter({ kind: 'serving', plan: state.plan, loadedAt: state.loadedAt })
  }

  /** While not serving, status says why: the latest reason replaces the one before. */
  notServingBecause(why: Problem): void {
    const state = this.current
    if (state.kind === 'waiting' || state.kind === 'stopped') this.enter({ ...state, why })
  }

  /** [SRV-6] at the expiration instant, however far (timerAt steps past setTimeout's 24.8 days). */
  armExpiry(plan: LicensePlan): void {
    this.disarmExpiry()
    const { expiresAt } = plan
    if (expiresAt === null) return
    this.expiryTimer = timerAt(this.opts.clock, expiresAt, () => {
      this.expiryTimer = undefined
      if (this.plan !== plan) return
      this.stopServing('lpf-expired', { code: 'LPF_EXPIRED', message: `the LPF expired at ${new Date(expiresAt).toISOString()}` })
    })
  }

  /** No more removal grace or expiry. */
  cancelTimers(): void {
    for (const cancel of [this.expiryTimer, this.removalTimer]) cancel?.()
    this.expiryTimer = this.removalTimer = undefined
  }

  /** [SRV-3] removed / [SRV-6] expired: every lease revoked, the listener stays bound. */
  private stopServing(reason: 'lpf-removed' | 'lpf-expired', why: Problem): void {
    const state = this.current
    if (state.kind !== 'serving' && state.kind !== 'grace') return
    this.removalTimer?.()
    this.removalTimer = undefined
    this.disarmExpiry()
    this.enter({ kind: 'stopped', plan: state.plan, loadedAt: state.loadedAt, why })
    this.opts.log.warn({ reason, code: why.code }, `stopped serving: ${why.message}; every lease is revoked`)
    this.opts.engine.stopServing(reason)
  }

  private disarmExpiry(): void {
    this.expiryTimer?.()
    this.expiryTimer = undefined
  }
}

/** [SRV-1] what is expected, where, and any LPF there under another name */
function missingMessage(fileName: string, licenseDir: string, misnamed: string[]): string {
  const base = `no ${fileName} in ${licenseDir}`
  if (misnamed.length === 0) return `${base}: put the LPF from the vendor there, named ${fileName} after this host's id (flr host-id)`
  const list = misnamed.slice(0, 5).join(', ') + (misnamed.length > 5 ? ', …' : '')
  return `${base}, but ${list} is there: an LPF is read only under this host's name, ${fileName}; rename it if it was made for this host (flr inspect shows its hostId)`
}

function sameProblem(a: Problem, b: Problem): boolean {
  return a.code === b.code && a.message === b.message
}
