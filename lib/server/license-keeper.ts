// The LPF's life in a running server ([SRV-1]..[SRV-3], [SRV-5], [SRV-6]): the serialized reload
// written as named steps, every timer on the injected clock. What a run finds goes to the state
// (license-life.ts: the one state, its transitions, the removal grace and the expiry); a rejected
// file and a port that could not be bound are kept here, beside it. It drives the engine (serving
// or not) and asks the TCP front for ports; it knows neither sockets nor files (reading and loading
// are injected).
import { isFlrError, type FlrError } from '../errors.js'
import type { LicensePlan } from '../lpf/plan.js'
import { every, timerAt, type Cancel } from '../util/clock.js'
import type { DatedProblem, Problem, ReloadAnswer } from '../protocol/replies.js'
import type { LpfFile } from './lpf-file.js'
import type { KeeperOptions, LicenseState } from './license-state.js'
import { LicenseLife } from './license-life.js'
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
  /** [SRV-2] the rejection of the file on disk, and that file's digest (a file is judged once) */
  private pending: DatedProblem | undefined
  private rejectedDigest: string | undefined
  /** [SRV-5] the port the plan names could not be bound; independent of the state */
  private portProblem: DatedProblem | undefined
  private names: readonly string[] = []
  private settleTimer: Cancel | undefined
  private recheckTimer: Cancel | undefined
  private running: Promise<ReloadAnswer> | undefined
  private queued: Promise<ReloadAnswer> | undefined
  private closing: Promise<void> | undefined
  private readonly judging = new AbortController()
  private readonly wallNow: () => number
  private readonly grace: GraceCap
  private readonly life: LicenseLife

  constructor(private readonly opts: KeeperOptions) {
    this.wallNow = opts.wallNow ?? Date.now
    this.grace = new GraceCap(opts.graceMs, opts.log)
    this.life = new LicenseLife(opts, () => void this.reload())
  }

  /** [LPF-2] [WIRE-4] the grace period hello advertises: the LPF's cap, or --grace if shorter */
  get graceMs(): number {
    return this.grace.effectiveMs
  }

  get state(): LicenseState {
    return this.life.state
  }

  get serving(): boolean {
    return this.life.serving
  }

  get plan(): LicensePlan | undefined {
    return this.life.plan
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
      this.life.endGrace()
      return this.rejected(flrErrorOrThrow(e))
    }
    return undefined
  }

  private handleMissing(run: Run): ReloadAnswer | undefined {
    if (!run.file) return this.life.missing()
    this.life.endGrace()
    return undefined
  }

  /** The file in force is on disk again: nothing to apply, a pending error is gone, a failed port move is retried. */
  private async skipUnchanged(run: Run): Promise<ReloadAnswer | undefined> {
    const state = this.life.state
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
    this.life.notServingBecause(run.portProblem!)
    return { applied: false, error: run.portProblem }
  }

  /** [SRV-4] the plan in force from now; the engine applies the difference. */
  private apply(run: Run): ReloadAnswer {
    const plan = run.plan!
    const previous = this.plan
    this.life.enter({ kind: 'serving', plan, loadedAt: this.isoNow() })
    this.clearPending()
    this.grace.apply(plan)
    this.opts.engine.applyPlan(plan.packs)
    this.names = plan.packs.map((p) => p.name)
    this.life.armExpiry(plan)
    this.opts.log.info(
      { vendor: plan.vendor, port: plan.port, packs: plan.packs.length, expiration: plan.expiration, graceMs: this.graceMs, digest: plan.digest, previousPort: previous?.port },
      previous ? 'new LPF applied' : 'LPF loaded: serving',
    )
    return run.portProblem ? { applied: true, error: run.portProblem } : { applied: true }
  }

  // ---- what the runs keep beside the state ----

  private rejected(e: FlrError, file?: LpfFile): ReloadAnswer {
    const error = problemOf(e)
    // [SRV-2] the last valid LPF stays in force; the error shows in status until a good file arrives
    this.pending = { ...error, at: this.isoNow() }
    this.rejectedDigest = file?.digest
    this.life.notServingBecause(error)
    this.opts.log.warn({ code: e.code, file: this.opts.fileName }, `LPF rejected: ${e.message}`)
    return { applied: false, error }
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
    for (const cancel of [this.recheckTimer, this.settleTimer]) cancel?.()
    this.recheckTimer = this.settleTimer = undefined
    this.life.cancelTimers()
  }

  private isoNow(): string {
    return new Date(this.opts.clock.now()).toISOString()
  }
}

function problemOf(e: Problem): Problem {
  return { code: e.code, message: e.message }
}

/** An FlrError is a judgement of the file; anything else is a bug, answered INTERNAL by the run. */
function flrErrorOrThrow(e: unknown): FlrError {
  if (!isFlrError(e)) throw e
  return e
}
