// [HA-3] Leadership as a state machine over an injected clock and an injected database port:
// follower → candidate → leader → (fenced | resigned) → follower. The database is the arbiter
// (its clock judges expiry); this side adds self-fencing: a leader stops serving once its last
// successful renewal, counted on its own monotonic clock from when that attempt STARTED, is
// older than TTL − margin, without waiting to learn that it lost. Nothing here knows SQL
// (pg-leadership.ts) or what serving means (the daemon's role, lib/server/role-*.ts).
import type { Clock } from '../util/clock.js'

/** Who leads, as the database says: the node's id and the lease address it advertises. */
export interface LeaderInfo {
  node: string
  /** `host:port` of its lease port */
  address: string
  /** `host:port` of its HTTP shim, when it has one ([HA-4] /request names it) */
  http?: string
}

/** An attempt to take the row: our new term, or who holds it (none when it is free but was lost to a race). */
export type AcquireResult = { term: string } | { leader?: LeaderInfo; /** when the holder's term runs out if not renewed, by the database's clock */ expiresInMs?: number }

/** The database side of leadership: pg-leadership.ts in production, a fake in unit tests. */
export interface LeadershipDb {
  /** takes the row when it is free or expired by the database's clock, for `ttlMs` */
  acquire(ttlMs: number): Promise<AcquireResult>
  /** extends our term by `ttlMs`; false when the row is no longer ours */
  renew(term: string, ttlMs: number): Promise<boolean>
  /** gives the term up at once: node null, expired now ([HA-5] a planned stop) */
  resign(term: string): Promise<void>
}

export type LeadershipState =
  | { kind: 'follower'; leader?: LeaderInfo }
  | { kind: 'candidate'; leader?: LeaderInfo }
  | { kind: 'leader'; term: string }
  /** stopped for good: resigned, or closed */
  | { kind: 'resigned' }

export interface LeadershipOptions {
  db: LeadershipDb
  clock: Clock
  /** [HA-3] --leader-ttl */
  ttlMs: number
  /** [HA-3] --leader-renew */
  renewMs: number
  /** every change of state, and every change of the known leader; called synchronously */
  onChange(state: LeadershipState, previous: LeadershipState): void
  /** an attempt that failed (database unreachable): logged by the daemon, never thrown */
  onError?(error: unknown, attempt: 'acquire' | 'renew' | 'resign'): void
}

/** [HA-3] the margin kept below the TTL: a renewal that is this late is as good as lost. */
export function fenceMargin(ttlMs: number, renewMs: number): number {
  return Math.max(renewMs, Math.min(1_000, ttlMs / 4))
}

/** Validates --leader-ttl and --leader-renew: renew must leave room for a failed attempt. */
export function checkLeaderTimes(ttlMs: number, renewMs: number): string | undefined {
  if (!(ttlMs > 0) || !(renewMs > 0)) return '--leader-ttl and --leader-renew must be positive durations'
  if (renewMs >= ttlMs / 2) return `--leader-renew (${renewMs} ms) must be under half of --leader-ttl (${ttlMs} ms)`
  return undefined
}

export class Leadership {
  private current: LeadershipState = { kind: 'follower' }
  /** when (monotonic) the last successful acquire or renewal started */
  private lastGoodStart = -Infinity
  private ticker: unknown
  private fenceTimer: unknown
  private expiryTimer: unknown
  private attempt: Promise<void> | undefined
  private readonly margin: number

  constructor(private readonly opts: LeadershipOptions) {
    const wrong = checkLeaderTimes(opts.ttlMs, opts.renewMs)
    if (wrong) throw new RangeError(wrong)
    this.margin = fenceMargin(opts.ttlMs, opts.renewMs)
  }

  get state(): LeadershipState {
    return this.current
  }

  /** The term this node may write under now, or undefined: the store's fence asks this ([HA-3]). */
  term(): string | undefined {
    return this.leading() ? (this.current as { term: string }).term : undefined
  }

  /**
   * [HA-3] true only while this node leads AND its last good renewal is recent enough on its
   * own monotonic clock. Asked synchronously before any grant or release is taken or
   * acknowledged: a process that wakes from a pause says no here before its timers have run.
   */
  leading(): boolean {
    if (this.current.kind !== 'leader') return false
    if (this.opts.clock.now() < this.fenceAt()) return true
    this.fence()
    return false
  }

  /** Starts trying: at once, then every --leader-renew. */
  start(): void {
    if (this.current.kind === 'resigned' || this.ticker !== undefined) return
    const loop = (): void => {
      this.ticker = this.opts.clock.setTimeout(loop, this.opts.renewMs)
      this.tick()
    }
    this.ticker = this.opts.clock.setTimeout(loop, 0)
  }

  /** Runs one attempt now (a standby woken by NOTIFY need not wait for its tick). */
  tick(): void {
    if (this.attempt || this.current.kind === 'resigned') return
    const started = this.opts.clock.now()
    const run = this.current.kind === 'leader' ? this.renewOnce(this.current.term, started) : this.acquireOnce(started)
    this.attempt = run.finally(() => {
      this.attempt = undefined
    })
  }

  /** [HA-5] A planned stop: stop serving at once, then give the term up in the database. */
  async resign(): Promise<void> {
    const was = this.current
    this.stopTimers()
    this.set({ kind: 'resigned' })
    // an attempt in flight may still take or renew the row: wait for it, then give up what it got
    await this.attempt?.catch(() => {})
    const term = was.kind === 'leader' ? was.term : this.lateTerm
    if (term === undefined) return
    try {
      await this.opts.db.resign(term)
    } catch (error) {
      // the row expires by itself within the TTL: a standby takes over then
      this.opts.onError?.(error, 'resign')
    }
  }

  /** Stops leading now without a word to the database (the store's fence saw the term gone). */
  stepDown(): void {
    if (this.current.kind === 'leader') this.set({ kind: 'follower' })
  }

  /** Stops without resigning (tests that play a crash; the daemon resigns). */
  close(): void {
    this.stopTimers()
    this.set({ kind: 'resigned' })
  }

  /** a term taken by an attempt that was in flight when resign() began */
  private lateTerm: string | undefined

  private async acquireOnce(started: number): Promise<void> {
    if (this.current.kind === 'follower') this.set({ kind: 'candidate', leader: this.current.leader })
    let result: AcquireResult
    try {
      result = await this.opts.db.acquire(this.opts.ttlMs)
    } catch (error) {
      this.opts.onError?.(error, 'acquire')
      if (this.current.kind === 'candidate') this.set({ kind: 'follower', leader: this.current.leader })
      return
    }
    if ('term' in result) {
      if (this.current.kind === 'resigned') {
        this.lateTerm = result.term
        return
      }
      this.lastGoodStart = started
      // a pause between the attempt and its answer may already have used the term up
      if (this.opts.clock.now() >= this.fenceAt()) return this.set({ kind: 'follower' })
      this.set({ kind: 'leader', term: result.term })
      this.armFence()
      return
    }
    if (this.current.kind === 'resigned') return
    this.set({ kind: 'follower', leader: result.leader })
    // [HA-5] a term about to run out is tried for right after, not at the next tick
    const left = result.expiresInMs
    if (left !== undefined && left >= 0 && left < this.opts.renewMs) {
      this.opts.clock.clearTimeout(this.expiryTimer)
      this.expiryTimer = this.opts.clock.setTimeout(() => this.tick(), left + 10)
    }
  }

  private async renewOnce(term: string, started: number): Promise<void> {
    let kept: boolean
    try {
      kept = await this.opts.db.renew(term, this.opts.ttlMs)
    } catch (error) {
      // unreachable: keep serving until the fence says otherwise ([HA-7])
      this.opts.onError?.(error, 'renew')
      return
    }
    if (this.current.kind !== 'leader' || this.current.term !== term) {
      if (this.current.kind === 'resigned' && kept) this.lateTerm = term
      return
    }
    if (!kept) return this.set({ kind: 'follower' })
    // [HA-3] counted from the START of the attempt: the database extended the row no earlier
    this.lastGoodStart = started
    if (!this.leading()) return
    this.armFence()
  }

  private fenceAt(): number {
    return this.lastGoodStart + this.opts.ttlMs - this.margin
  }

  /** [HA-3] a leader whose renewal is too old stops serving, without asking anyone. */
  private fence(): void {
    if (this.current.kind !== 'leader') return
    this.opts.clock.clearTimeout(this.fenceTimer)
    this.fenceTimer = undefined
    this.set({ kind: 'follower' })
  }

  private armFence(): void {
    this.opts.clock.clearTimeout(this.fenceTimer)
    const left = this.fenceAt() - this.opts.clock.now()
    this.fenceTimer = this.opts.clock.setTimeout(() => {
      this.fenceTimer = undefined
      this.leading()
    }, Math.max(0, left))
  }

  private stopTimers(): void {
    this.opts.clock.clearTimeout(this.ticker)
    this.opts.clock.clearTimeout(this.fenceTimer)
    this.opts.clock.clearTimeout(this.expiryTimer)
    this.ticker = undefined
    this.fenceTimer = undefined
  }

  private set(next: LeadershipState): void {
    const previous = this.current
    this.current = next
    if (next.kind !== 'leader') {
      this.opts.clock.clearTimeout(this.fenceTimer)
      this.fenceTimer = undefined
    }
    // follower ↔ candidate with the same leader known is no news to anyone
    if (!sameRole(previous, next)) this.opts.onChange(next, previous)
  }
}

function sameRole(a: LeadershipState, b: LeadershipState): boolean {
  const following = (s: LeadershipState): boolean => s.kind === 'follower' || s.kind === 'candidate'
  if (a.kind !== b.kind && !(following(a) && following(b))) return false
  if (a.kind === 'leader') return a.term === (b as { term: string }).term
  if (a.kind === 'resigned') return true
  const la = a.leader
  const lb = (b as { leader?: LeaderInfo }).leader
  return la?.node === lb?.node && la?.address === lb?.address
}
