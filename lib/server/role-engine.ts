// [HA-4] [HA-5] The seat engine as the fronts see it on a cluster node: the engine of the current
// term while this node leads, nothing while it stands by. A new term gets a fresh engine restored
// from the database ([LEASE-8]); a lost term's engine is dropped WITHOUT writing anything: its
// timers stop, and its store (a TermStore) refuses every write from the moment the term ends, so
// that no expiry, revoke or late grant of an old term reaches the database ([HA-3]; the store's
// fence check in the database is the second lock on the same door).
import { FlrError } from '../errors.js'
import type { SeatEngine, Grant, Lease, LeaseRequest, PackStatus, Renewal } from '../engine/engine.js'
import type { LeaseRecord, LeaseStore } from '../engine/types.js'
import type { PackPlan } from '../lpf/plan.js'

/** What the TCP and HTTP fronts and the license keeper use of an engine. */
export type FrontEngine = Pick<SeatEngine, 'serving' | 'lease' | 'renew' | 'release' | 'revoke' | 'leases' | 'packs' | 'get' | 'applyPlan' | 'stopServing'>

/** The store of one term: writes pass only while the term is current and this node still leads. */
export class TermStore implements LeaseStore {
  private open = true
  /** writes issued and not yet answered: a planned stop lets them finish ([HA-5]) */
  private readonly inFlight = new Set<Promise<void>>()

  constructor(
    private readonly inner: LeaseStore,
    private readonly leading: () => boolean,
    private readonly refusal: () => FlrError,
  ) {}

  /** Resolves once every write issued so far has been answered (or after `ms`). */
  async drain(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))
    await Promise.race([Promise.allSettled([...this.inFlight]), late])
    clearTimeout(timer)
  }

  /** The term is over: from now on nothing is written, and nothing in flight is acknowledged. */
  end(): void {
    this.open = false
  }

  put(record: LeaseRecord): Promise<void> {
    return this.write(() => this.inner.put(record))
  }

  remove(lease: string): Promise<void> {
    return this.write(() => this.inner.remove(lease))
  }

  unavailable(): Error | undefined {
    if (!this.current()) return this.refusal()
    return this.inner.unavailable?.()
  }

  private current(): boolean {
    return this.open && this.leading()
  }

  private write(fn: () => Promise<void>): Promise<void> {
    if (!this.current()) return Promise.reject(this.refusal())
    // [HA-3] a write that was durable before a pause is still not acknowledged after it: the
    // next leader restores it, and the holder hears NOT_LEADER and resumes there by id
    const done = fn().then(() => {
      if (!this.current()) throw this.refusal()
    })
    this.inFlight.add(done)
    const forget = (): void => void this.inFlight.delete(done)
    done.then(forget, forget)
    return done
  }
}

export interface RoleEngineOptions {
  /** a fresh engine over `store` (the daemon's options: TTL, clock, revoke pushes) */
  make(store: LeaseStore): SeatEngine
  /** the shared store (PostgreSQL) */
  store: LeaseStore
  /** [HA-3] asked synchronously before every grant, release or revoke, and before every acknowledgement */
  leading(): boolean
  /** NOT_LEADER naming the leader, when known */
  refusal(): FlrError
}

export class RoleEngine implements FrontEngine {
  private engine: SeatEngine | undefined
  private termStore: TermStore | undefined
  /** [HA-5] a planned stop: new requests are refused, writes in flight finish and are answered */
  private finishing = false
  /** what the license keeper asked for last: applied to each new term's engine */
  private plan: readonly PackPlan[] | undefined

  constructor(private readonly opts: RoleEngineOptions) {}

  get serving(): boolean {
    return this.engine !== undefined && !this.finishing && this.opts.leading() && this.engine.serving
  }

  get leads(): boolean {
    return this.engine !== undefined
  }

  /** [HA-5] [LEASE-8] a new term: every stored lease with a fresh TTL, then the plan in force. */
  lead(records: readonly LeaseRecord[]): number {
    this.drop()
    const termStore = new TermStore(this.opts.store, this.opts.leading, this.opts.refusal)
    const engine = this.opts.make(termStore)
    const restored = engine.restore(records)
    if (this.plan) engine.applyPlan(this.plan)
    this.engine = engine
    this.termStore = termStore
    return restored
  }

  /**
   * [HA-5] A planned stop (SIGTERM) while the term is still ours: refuse whatever comes from now
   * on, let the writes in flight commit and be acknowledged (so that a refusal means "not done"),
   * then drop. Resolves before the term is given up.
   */
  async finish(ms: number): Promise<void> {
    this.finishing = true
    await this.termStore?.drain(ms)
    this.drop()
  }

  /** The term is over: drop the engine's state, writing nothing, and fail its waiters. */
  drop(): void {
    this.termStore?.end()
    this.engine?.close()
    this.termStore = undefined
    this.engine = undefined
  }

  /** [SRV-8] the daemon stops: as drop(), nothing written */
  close(): void {
    this.drop()
  }

  applyPlan(packs: readonly PackPlan[]): void {
    this.plan = packs
    this.engine?.applyPlan(packs)
  }

  stopServing(reason: 'lpf-removed' | 'lpf-expired'): void {
    this.plan = undefined
    this.engine?.stopServing(reason)
  }

  lease(req: LeaseRequest): Promise<Grant> {
    try {
      return this.live().lease(req)
    } catch (e) {
      return Promise.reject(e)
    }
  }

  renew(leaseId: string, owner?: unknown): Renewal {
    return this.live().renew(leaseId, owner)
  }

  release(leaseId: string): Promise<void> {
    try {
      return this.live().release(leaseId)
    } catch (e) {
      return Promise.reject(e)
    }
  }

  revoke(leaseId: string): Promise<void> {
    try {
      return this.live().revoke(leaseId)
    } catch (e) {
      return Promise.reject(e)
    }
  }

  leases(pack?: string): Lease[] {
    return this.live().leases(pack)
  }

  packs(): PackStatus[] {
    return this.engine && this.opts.leading() ? this.engine.packs() : []
  }

  get(leaseId: string): Lease | undefined {
    return this.engine && this.opts.leading() ? this.engine.get(leaseId) : undefined
  }

  private live(): SeatEngine {
    // [HA-3] checked on every request: a process that wakes from a pause refuses before its timers run
    if (!this.engine || this.finishing || !this.opts.leading()) throw this.opts.refusal()
    return this.engine
  }
}

/** [HA-4] NOT_LEADER with the leader's lease address (and shim, for /request) when known. */
export function notLeader(leader?: { address: string; http?: string }): FlrError {
  if (!leader?.address) return new FlrError('NOT_LEADER', 'this node is a standby and no leader is known yet: try again shortly')
  return new FlrError('NOT_LEADER', `this node is a standby: the leader is ${leader.address}`, {
    leader: leader.address,
    ...(leader.http ? { leaderHttp: leader.http } : {}),
  })
}
