// The LPF's life in a running server ([SRV-1]..[SRV-3], [SRV-5], [SRV-6]): one explicit state,
// changed in one place (enter), every timer on the injected clock, and the serialized reload
// written as named steps. It drives the engine (serving or not) and asks the TCP front for ports;
// it knows neither sockets nor files (reading and loading are injected).
// ~330 lines with a reason: the state, its transitions and the steps that drive them read best side by side.
import { isFlrError, type FlrError } from '../errors.js'
import type { LicensePlan } from '../lpf/plan.js'
import { every, timerAt, type Cancel } from '../util/clock.js'
import type { DatedProblem, Problem, ReloadAnswer } from '../protocol/replies.js'
import type { LpfFile } from './lpf-file.js'
import type { KeeperOptions, LicenseState } from './license-state.js'
import { clusterRefusal, GraceCap } from './license-policy.js'

/** What one reload run has found so far; each step reads it and adds to it. */
interface Run {
  file?: LpfFile
  plan?: LicensePlan
  problem?: FlrError
  portProblem?: Problem
}

/** [SRV-2] a reload, in order; each step returns the run's answer to stop, or nothing to go on. */
const STEPS = ['readFile', 'handleMissing', 'skipUnchanged', 'skipAlreadyJudged', 'load', 'settleIfYoung', 'reject', 'bindPort', 'apply'] as const

export class LicenseKeeper {
  private current: LicenseState = { kind: 'waiting', why: { code: 'LPF_MISSING', message: 'no LPF loaded yet' } }
  /** [SRV-2] the rejection of the file on disk, and that file's digest (a file is judged once) */
  private pending: DatedProblem | undefined
  private rejectedDigest: string | undefined
  /** [SRV-5] the port the plan names could not be bound; independent of the state */
  private portProblem: DatedProblem | undefined
  private names: readonly string[] = []
  private removalTimer: Cancel | undefined
  private expiryTimer: Cancel | undefined
  private settleTimer: Cancel | undefined
  private recheckTimer: Cancel | undefined
  private running: Promise<ReloadAnswer> | undefined
  private queued: Promise<ReloadAnswer> | undefined
  private closing: Promise<void> | undefined
  private readonly judging = new AbortController()
  private readonly wallNow: () => number
  private readonly grace: GraceCap

  constructor(private readonly opts: KeeperOptions) {
    this.wallNow = opts.wallNow ?? Date.now
    this.grace = new GraceCap(opts.graceMs, opts.log)
  }

  /** [LPF-2] [WIRE-4] the grace period hello advertises: the LPF's cap, or --grace if shorter */
  get graceMs(): number {
    return this.grace.effectiveMs
  }

  get state(): LicenseState {
    return this.current
  }

  get serving(): boolean {
    return this.current.kind === 'serving' || this.current.kind === 'grace'
  }

  get plan(): LicensePlan | undefined {
    return this.current.kind === 'waiting' ? undefined : this.current.plan
  }

  /** the plan's pack names, for every hello: built once per plan, not once per connection */
  get packNames(): readonly string[] {
    return this.names
  }

  get pendingError(): DatedProblem | undefined {
    return this.pending
  }

  get portError(): DatedProblem | undefined {
    return this.portProblem
  }

  /** [SRV-2] "re-checks the file every 60 s in case an event was missed" */
  startRechecks(): void {
    if (this.closing) return
    this.recheckTimer ??= every(this.opts.clock, this.opts.recheckMs, () => void this.reload())
  }

  /**
   * [SRV-2] Re-reads the file. One run at a time; a call made during a run gets the run after
   * it (shared by every such call), so its answer always reflects the file as it was when it
   * called. Never rejects: a failure is logged and answered as INTERNAL.
   */
  reload(): Promise<ReloadAnswer> {
    if (this.closing) return Promise.resolve({ applied: false })
    if (!this.running) return this.runOnce()
    this.queued ??= this.running.then(() => {
      this.queued = undefined
      return this.reload()
    })
    return this.queued
  }

  /** Resolves once no run is in flight or queued. */
  async idle(): Promise<void> {
    for (let next = this.queued ?? this.running; next; next = this.queued ?? this.running) await next
  }

  /** No more runs or timers; resolves once a run in flight (which may bind a port) is done. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.cancelTimers()
      // a judging in flight (up to its deadline, lpf/judge.ts) is ended rather than waited for
      this.judging.abort(new Error('the server is stopping'))
      await this.running
      this.cancelTimers()
    })()
    return this.closing
  }

  private runOnce(): Promise<ReloadAnswer> {
    const run: Promise<ReloadAnswer> = this.steps()
      .catch((e: unknown) => {
        this.opts.log.error({ err: e, file: this.opts.fileName }, 'LPF reload failed')
        return { applied: false, error: { code: 'INTERNAL' as const, message: e instanceof Error ? e.message : String(e) } }
      })
      .finally(() => {
        if (this.running === run) this.running = undefined
      })
    this.running = run
    return run
  }

  private async steps(): Promise<ReloadAnswer> {
    const run: Run = {}
    for (const step of STEPS) {
      const result = await this[step](run)
      if (result) return result
    }
    throw new Error('a reload ran past its last step')
  }

  // ---- the steps ----

  private async readFile(run: Run): Promise<ReloadAnswer | undefined> {
    try {
      run.file = await this.opts.read()
    } catch (e) {
      // there, but unreadable: a bad file, not a removed one ([SRV-2], not [SRV-3])
      this.endGrace()
      return this.rejected(flrErrorOrThrow(e))
    }
    return undefined
  }

  private handleMissing(run: Run): ReloadAnswer | undefined {
    if (!run.file) return this.missing()
    this.endGrace()
    return undefined
  }

  /** The file in force is on disk again: nothing to apply, a pending error is gone, a failed port move is retried. */
  private async skipUnchanged(run: Run): Promise<ReloadAnswer | undefined> {
    const state = this.current
    if (state.kind !== 'serving' || run.file!.digest !== state.plan.digest) return undefined
    this.clearPending()
    if (this.opts.ports.port === state.plan.port) return { applied: false }
    const error = await this.usePort(state.plan.port)
    return error ? { applied: false, error } : { applied: true }
  }

  /** A file already judged is not judged (and logged) again at every re-check. */
  private skipAlreadyJudged(run: Run): ReloadAnswer | undefined {
    if (run.file!.digest !== this.rejectedDigest || !this.pending) return undefined
    return { applied: false, error: problemOf(this.pending) }
  }

  private async load(run: Run): Promise<ReloadAnswer | undefined> {
    try {
      run.plan = await this.opts.load(run.file!.data, this.opts.clock.now(), this.judging.signal)
    } catch (e) {
      if (this.judging.signal.aborted) return { applied: false } // closing: judged again at the next start
      run.problem = flrErrorOrThrow(e)
    }
    // [HA-2] judged like the file itself: refused, shown in status, the LPF in force stays
    run.problem ??= clusterRefusal(run.plan!, this.opts.sharedStore ?? false, this.opts.fileName)
    return undefined
  }

  /**
   * [SRV-2] "once the write has finished": a file written moments ago may be half of one (a slow
   * copy pauses longer than the watcher's settle time), so it is judged again once it is quiet.
   */
  private settleIfYoung(run: Run): ReloadAnswer | undefined {
    if (!run.problem) return undefined
    const age = this.wallNow() - run.file!.mtimeMs
    if (!(age >= 0 && age < this.opts.quietMs)) return undefined
    this.settleTimer?.()
    const { clock } = this.opts
    this.settleTimer = timerAt(clock, clock.now() + Math.ceil(this.opts.quietMs - age) + 20, () => {
      this.settleTimer = undefined
      void this.reload()
    })
    this.opts.log.debug({ code: run.problem.code, file: this.opts.fileName, ageMs: Math.round(age) }, 'LPF not valid yet; it changed moments ago and may still be being written')
    return { applied: false, error: problemOf(run.problem), settling: true }
  }

  private reject(run: Run): ReloadAnswer | undefined {
    return run.problem ? this.rejected(run.problem, run.file) : undefined
  }

  /** [SRV-5] the new plan's port first: when the very first port cannot be bound, there is nothing to serve on. */
  private async bindPort(run: Run): Promise<ReloadAnswer | undefined> {
    run.portProblem = await this.usePort(run.plan!.port)
    if (this.opts.ports.port !== undefined) return undefined
    // every re-check tries again
    this.notServingBecause(run.portProblem!)
    return { applied: false, error: run.portProblem }
  }

  /** [SRV-4] the plan in force from now; the engine applies the difference. */
  private apply(run: Run): ReloadAnswer {
    const plan = run.plan!
    const previous = this.plan
    this.enter({ kind: 'serving', plan, loadedAt: this.isoNow() })
    this.clearPending()
    this.grace.apply(plan)
    this.opts.engine.applyPlan(plan.packs)
    this.names = plan.packs.map((p) => p.name)
    this.armExpiry(plan)
    this.opts.log.info(
      { vendor: plan.vendor, port: plan.port, packs: plan.packs.length, expiration: plan.expiration, graceMs: this.graceMs, digest: plan.digest, previousPort: previous?.port },
      previous ? 'new LPF applied' : 'LPF loaded: serving',
    )
    return run.portProblem ? { applied: true, error: run.portProblem } : { applied: true }
  }

  // ---- transitions ----

  /** The one place the state changes. */
  private enter(next: LicenseState): void {
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
  private missing(): ReloadAnswer {
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
        void this.reload()
      })
      return { applied: false, error }
    }
    this.stopServing('lpf-removed', { code: 'LPF_MISSING', message: `${fileName} was removed from ${licenseDir}` })
    return { applied: false, error }
  }

  /** The file is there (good, bad or unreadable): a removal grace is called off. */
  private endGrace(): void {
    this.removalTimer?.()
    this.removalTimer = undefined
    const state = this.current
    if (state.kind === 'grace') this.enter({ kind: 'serving', plan: state.plan, loadedAt: state.loadedAt })
  }

  private rejected(e: FlrError, file?: LpfFile): ReloadAnswer {
    const error = problemOf(e)
    // [SRV-2] the last valid LPF stays in force; the error shows in status until a good file arrives
    this.pending = { ...error, at: this.isoNow() }
    this.rejectedDigest = file?.digest
    this.notServingBecause(error)
    this.opts.log.warn({ code: e.code, file: this.opts.fileName }, `LPF rejected: ${e.message}`)
    return { applied: false, error }
  }

  /** While not serving, status says why: the latest reason replaces the one before. */
  private notServingBecause(why: Problem): void {
    const state = this.current
    if (state.kind === 'waiting' || state.kind === 'stopped') this.enter({ ...state, why })
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

  /** [SRV-6] at the expiration instant, however far (timerAt steps past setTimeout's 24.8 days). */
  private armExpiry(plan: LicensePlan): void {
    this.disarmExpiry()
    const { expiresAt } = plan
    if (expiresAt === null) return
    this.expiryTimer = timerAt(this.opts.clock, expiresAt, () => {
      this.expiryTimer = undefined
      if (this.plan !== plan) return
      this.stopServing('lpf-expired', { code: 'LPF_EXPIRED', message: `the LPF expired at ${new Date(expiresAt).toISOString()}` })
    })
  }

  private disarmExpiry(): void {
    this.expiryTimer?.()
    this.expiryTimer = undefined
  }

  private async usePort(port: number): Promise<Problem | undefined> {
    const error = await this.opts.ports.use(port)
    this.portProblem = error ? { ...error, at: this.isoNow() } : undefined
    this.opts.onChange?.()
    return error
  }

  private clearPending(): void {
    this.pending = undefined
    this.rejectedDigest = undefined
  }

  private cancelTimers(): void {
    for (const cancel of [this.recheckTimer, this.settleTimer, this.expiryTimer, this.removalTimer]) cancel?.()
    this.recheckTimer = this.settleTimer = this.expiryTimer = this.removalTimer = undefined
  }

  private isoNow(): string {
    return new Date(this.opts.clock.now()).toISOString()
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

function problemOf(e: Problem): Problem {
  return { code: e.code, message: e.message }
}

/** An FlrError is a judgement of the file; anything else is a bug, answered INTERNAL by the run. */
function flrErrorOrThrow(e: unknown): FlrError {
  if (!isFlrError(e)) throw e
  return e
}
