// Thousands of random, interleaved operations against the seat engine, with the invariants of
// [LEASE-1]..[LEASE-5], [LEASE-8] and [SRV-4] checked at every seat decision and after every step.
// Reproduce a failure with FLR_ENGINE_SEED=<seed> (and FLR_ENGINE_STEPS=<n>).

import t from 'tap'
import { seededRandom as prng } from '../helpers/random.js'
import { MAX_WAIT_MS, SeatEngine, type Grant, type Lease, type RevokeReason } from '../../lib/engine/engine.js'
import type { LeaseRecord } from '../../lib/engine/types.js'
import { WaitScope } from '../../lib/engine/waiters.js'
import { FlrError, isFlrError } from '../../lib/errors.js'
import type { PackPlan } from '../../lib/lpf/plan.js'
import { FakeClock } from './fake-clock.js'
import { flush } from './harness.js'
import { ManualStore } from './manual-store.js'

const TTL = 10_000
const PACKS = ['a', 'b', 'c', 'd']
const HOLDERS = 8
const STEPS = Number(process.env.FLR_ENGINE_STEPS ?? 10000)
const SEEDS = process.env.FLR_ENGINE_SEED ? [Number(process.env.FLR_ENGINE_SEED)] : [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
const STORE_FAILURE = new Error('store write failed (injected)')

/** One lease request as the test sees it. */
interface Ask {
  readonly seq: number
  readonly pack: string
  readonly holder: string
  readonly waits: boolean
  readonly deadline: number
  /** its connection's waits, for the asks whose connection closes ([LEASE-4]) */
  readonly scope?: WaitScope
  /** its promise has not settled yet */
  open: boolean
  /** a seat decision covers it (granted, joined a holding, or decided within the call) */
  decided: boolean
  issuing: boolean
  aborted: boolean
  /** a refusal with this code is legitimate */
  mayBe: Set<string>
}

interface Held {
  pack: string
  holder: string
  expiresAt: number
}

type Stats = Record<'grants' | 'joins' | 'renewals' | 'releases' | 'timeouts' | 'aborts' | 'exhausted' | 'putFailures' | 'revoked' | 'expired' | 'overLimit' | 'restarts', number>

class Run {
  readonly violations: string[] = []
  readonly stats: Stats = {
    grants: 0, joins: 0, renewals: 0, releases: 0, timeouts: 0, aborts: 0, exhausted: 0,
    putFailures: 0, revoked: 0, expired: 0, overLimit: 0, restarts: 0,
  }
  private readonly rnd: () => number
  private readonly clock = new FakeClock()
  private readonly store = new ManualStore(false)
  private engine!: SeatEngine
  private plan = new Map<string, PackPlan>()
  private serving = false
  private readonly granted = new Map<string, Held>()
  private asks: Ask[] = []
  private readonly ceiling = new Map<string, number>()
  private expectRevoke: RevokeReason | undefined
  private step = 0
  private seq = 0
  private ids = 0
  private version = 0

  constructor(readonly seed: number) {
    this.rnd = prng(seed)
    this.store.onCall = (call) => {
      if (call.op === 'put') this.checkDecision(call.record!)
    }
    this.engine = this.newEngine()
  }

  async play(steps: number): Promise<void> {
    this.applyPlan()
    for (this.step = 1; this.step <= steps && this.violations.length === 0; this.step++) {
      await this.randomOp()
      await flush()
      this.checkState()
    }
    for (const ask of this.asks) ask.mayBe.add('NOT_SERVING')
    this.engine.close()
    await flush()
    const open = this.asks.filter((ask) => ask.open && !ask.decided)
    if (open.length > 0) this.violation(`${open.length} waiting requests left unanswered by close()`)
  }

  private violation(message: string): void {
    this.violations.push(`seed ${this.seed} step ${this.step} t=${this.clock.now()}: ${message}`)
  }

  private int(n: number): number {
    return Math.floor(this.rnd() * n)
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items[this.int(items.length)]
  }

  private newEngine(): SeatEngine {
    return new SeatEngine({
      clock: this.clock,
      store: this.store,
      ttlMs: TTL,
      newLeaseId: () => `L${++this.ids}`,
      onRevoked: (lease, reason) => this.onRevoked(lease, reason),
    })
  }

  private async randomOp(): Promise<void> {
    const r = this.rnd()
    if (r < 0.3) return this.lease()
    if (r < 0.4) return this.renew()
    if (r < 0.48) return this.release(false)
    if (r < 0.5) return this.release(true)
    if (r < 0.53) return this.abort()
    if (r < 0.7) return this.advance()
    if (r < 0.9) return this.settleStore()
    if (r < 0.965) return this.applyPlan()
    if (r < 0.99) return this.stopServing()
    return this.restart()
  }

  // ---- operations -----------------------------------------------------------------------

  private lease(): void {
    const pack = this.rnd() < 0.05 ? 'zz' : this.pick(PACKS)!
    const holder = `h${this.int(HOLDERS)}`
    const waits = this.rnd() < 0.5
    const waitMs = waits ? 1 + this.int(this.rnd() < 0.05 ? 2 * MAX_WAIT_MS : 2 * TTL) : 0
    const scope = waits && this.rnd() < 0.3 ? new WaitScope() : undefined
    const ask: Ask = {
      seq: ++this.seq, pack, holder, waits, scope,
      deadline: this.clock.now() + Math.min(waitMs, MAX_WAIT_MS),
      open: true, decided: false, issuing: true, aborted: false, mayBe: new Set(),
    }
    if (!this.serving) ask.mayBe.add('NOT_SERVING')
    else if (!this.plan.has(pack)) ask.mayBe.add('PACK_UNKNOWN')
    if (!waits) ask.mayBe.add('PACK_EXHAUSTED')
    // [LEASE-2] a holder that holds (or is being granted) the pack joins that lease
    if (this.store.heldIn(pack).some((record) => record.holder === holder)) ask.decided = true
    this.asks.push(ask)
    this.engine
      .lease({ pack, holder, client: holder, address: '127.0.0.1', waitMs, owner: `conn-${holder}`, waits: scope })
      .then(
        (grant) => this.onGrant(ask, grant),
        (error: unknown) => this.onRefusal(ask, error),
      )
    ask.issuing = false
    if (!waits) ask.decided = true
  }

  private liveLease(id: string | undefined): Held | undefined {
    const held = id === undefined ? undefined : this.granted.get(id)
    return held && this.clock.now() < held.expiresAt ? held : undefined
  }

  private someLeaseId(): string {
    return this.rnd() < 0.9 ? (this.pick([...this.granted.keys()]) ?? 'none') : `bogus-${this.int(5)}`
  }

  private renew(): void {
    const id = this.someLeaseId()
    const live = this.liveLease(id)
    let renewal
    try {
      renewal = this.engine.renew(id, `conn-x${this.int(3)}`)
    } catch (error) {
      if (!isFlrError(error, 'LEASE_UNKNOWN')) this.violation(`renew threw ${String(error)}`)
      else if (live) this.violation(`[LEASE-3] live lease ${id} unknown to renew`)
      return
    }
    if (!live) return this.violation(`[LEASE-3] renew accepted ${id}, which is not live`)
    this.stats.renewals++
    if (renewal.expiresAt !== this.clock.now() + TTL) this.violation('[LEASE-3] renew did not restart the TTL')
    if (renewal.licenses !== this.plan.get(live.pack)?.licenses) this.violation('[LEASE-6] renew licenses are stale')
    live.expiresAt = renewal.expiresAt
  }

  private release(admin: boolean): void {
    const id = this.someLeaseId()
    const live = this.liveLease(id)
    if (admin) this.expectRevoke = 'admin'
    const done = admin ? this.engine.revoke(id) : this.engine.release(id)
    this.expectRevoke = undefined
    done.then(
      () => {
        if (!live) this.violation(`[LEASE-4] released ${id}, which is not live`)
      },
      (error: unknown) => {
        if (live || !isFlrError(error, 'LEASE_UNKNOWN')) this.violation(`release of ${id} failed: ${String(error)}`)
      },
    )
    if (live) {
      this.granted.delete(id)
      this.stats.releases++
    }
  }

  private abort(): void {
    const ask = this.pick(this.asks.filter((a) => a.scope && a.open && !a.aborted))
    if (!ask) return
    ask.aborted = true
    ask.scope!.cancel(new Error(`connection of ${ask.holder} closed`))
  }

  private advance(): void {
    const r = this.rnd()
    const next = this.clock.nextAt()
    if (r < 0.3 && next !== undefined) this.clock.advance(Math.max(0, next - this.clock.now()))
    else if (r < 0.6) this.clock.advance(this.int(1000))
    else this.clock.advance(this.int(TTL / 2))
  }

  private settleStore(): void {
    const pending = this.store.pending()
    const count = this.rnd() < 0.2 ? pending.length : this.int(pending.length + 1)
    for (let i = 0; i < count && pending.length > 0; i++) {
      const [call] = pending.splice(this.int(pending.length), 1)
      if (call!.op === 'put' && this.rnd() < 0.05) call!.fail(STORE_FAILURE)
      else call!.resolve()
    }
  }

  private applyPlan(): void {
    this.version++
    const next = new Map<string, PackPlan>()
    for (const name of PACKS) {
      if (name !== 'a' && this.rnd() < 0.15) continue
      const old = this.plan.get(name)
      const licenses = !old || this.rnd() < 0.3 ? `<licenses><license pack="${name}" v="${this.version}"/></licenses>` : old.licenses
      const limit = !old || this.rnd() < 0.6 ? this.int(5) : old.limit
      next.set(name, { name, limit, licenses })
    }
    for (const ask of this.asks) {
      if (!next.has(ask.pack)) ask.mayBe.add('PACK_UNKNOWN')
    }
    for (const [name, plan] of next) {
      // [SRV-4] a fallen limit may be exceeded by the leases already held, never by new grants
      this.ceiling.set(name, Math.max(plan.limit, this.store.heldIn(name).length))
    }
    this.plan = next
    this.serving = true
    this.expectRevoke = 'pack-removed'
    this.engine.applyPlan([...next.values()])
    this.expectRevoke = undefined
  }

  private stopServing(): void {
    const reason = this.rnd() < 0.5 ? 'lpf-removed' : 'lpf-expired'
    for (const ask of this.asks) ask.mayBe.add('NOT_SERVING')
    this.plan = new Map()
    this.serving = false
    this.expectRevoke = reason
    this.engine.stopServing(reason)
    this.expectRevoke = undefined
  }

  /** [LEASE-8] a clean restart: every acknowledged lease not released comes back, TTL restarted. */
  private async restart(): Promise<void> {
    this.store.resolveAll()
    await flush()
    for (const [id, held] of this.granted) {
      if (this.clock.now() < held.expiresAt && !this.store.held.has(id)) this.violation(`[LEASE-8] live lease ${id} is not stored`)
    }
    for (const ask of this.asks) ask.mayBe.add('NOT_SERVING')
    this.engine.close()
    await flush()
    this.stats.restarts++
    this.engine = this.newEngine()
    const records: LeaseRecord[] = [...this.store.held.values()]
    this.engine.restore(records)
    for (const record of records) {
      const held = this.granted.get(record.lease)
      if (held) held.expiresAt = this.clock.now() + TTL
      else this.granted.set(record.lease, { pack: record.pack, holder: record.holder, expiresAt: this.clock.now() + TTL })
    }
    for (const [id] of this.granted) if (!this.store.held.has(id)) this.granted.delete(id)
    if (!this.serving) return
    this.expectRevoke = 'pack-removed'
    this.engine.applyPlan([...this.plan.values()])
    this.expectRevoke = undefined
  }

  // ---- what the engine tells us -----------------------------------------------------------

  /** Runs synchronously inside the engine at every seat decision (store.put). */
  private checkDecision(record: LeaseRecord): void {
    const { pack, holder } = record
    const now = this.clock.now()
    const plan = this.plan.get(pack)
    if (!this.serving || !plan) return this.violation(`grant of ${pack}, which is not in force`)
    const held = this.store.heldIn(pack)
    if (held.length > plan.limit) this.violation(`[LEASE-1] [SRV-4] ${pack}: grant makes ${held.length} > limit ${plan.limit}`)
    if (held.filter((r) => r.holder === holder).length > 1) this.violation(`[LEASE-2] ${holder} holds two leases of ${pack}`)
    const mine = this.asks.filter((a) => a.pack === pack && a.holder === holder && a.open && !a.decided && !a.aborted && (a.issuing || now <= a.deadline))
    if (mine.length === 0) return this.violation(`grant of ${pack} to ${holder}, who is not asking`)
    const served = mine[0]!.seq
    const skipped = this.asks.find(
      (a) => a.pack === pack && a.holder !== holder && a.waits && a.open && !a.decided && !a.aborted && !a.issuing && now < a.deadline && a.seq < served,
    )
    if (skipped) this.violation(`[LEASE-5] ${pack}: ${holder} (ask ${served}) served before ${skipped.holder} (ask ${skipped.seq})`)
    for (const ask of mine) ask.decided = true
  }

  private onGrant(ask: Ask, grant: Grant): void {
    ask.open = false
    const now = this.clock.now()
    const plan = this.plan.get(ask.pack)
    if (grant.pack !== ask.pack || grant.holder !== ask.holder) this.violation(`grant ${grant.lease} answers another request`)
    if (!plan) return this.violation(`grant ${grant.lease} of ${ask.pack}, which is not in force`)
    if (grant.licenses !== plan.licenses) this.violation(`[LEASE-6] grant ${grant.lease} carries stale licenses`)
    if (grant.ttlMs !== TTL || grant.expiresAt !== now + TTL) this.violation(`[LEASE-3] grant ${grant.lease} expiry ${grant.expiresAt}`)
    if (grant.limit !== plan.limit) this.violation(`grant ${grant.lease} limit ${grant.limit} != ${plan.limit}`)
    for (const [id, held] of this.granted) {
      if (id !== grant.lease && held.pack === ask.pack && held.holder === ask.holder && now < held.expiresAt) {
        this.violation(`[LEASE-2] ${ask.holder} got ${grant.lease} while holding ${id}`)
      }
    }
    if (this.granted.has(grant.lease)) this.stats.joins++
    else this.stats.grants++
    this.granted.set(grant.lease, { pack: ask.pack, holder: ask.holder, expiresAt: grant.expiresAt })
  }

  private onRefusal(ask: Ask, error: unknown): void {
    ask.open = false
    if (ask.aborted && error === ask.scope?.abortReason) {
      this.stats.aborts++
      return
    }
    if (error === STORE_FAILURE) {
      this.stats.putFailures++
      return
    }
    if (!(error instanceof FlrError)) return this.violation(`ask ${ask.seq} refused with ${String(error)}`)
    if (error.code === 'WAIT_TIMEOUT' && ask.waits && this.clock.now() >= ask.deadline) {
      this.stats.timeouts++
      return
    }
    if (error.code === 'PACK_EXHAUSTED') {
      const { limit, inUse } = error.details as { limit: number; inUse: number }
      if (inUse < limit) this.violation(`PACK_EXHAUSTED with a free seat (${inUse}/${limit})`)
      this.stats.exhausted++
    }
    if (!ask.mayBe.has(error.code)) this.violation(`ask ${ask.seq} (${ask.pack}, ${ask.holder}, waits ${ask.waits}) refused ${error.code}`)
  }

  private onRevoked(lease: Lease, reason: RevokeReason): void {
    if (reason !== this.expectRevoke) this.violation(`revoked ${lease.lease} as ${reason}, expected ${this.expectRevoke}`)
    if (!this.liveLease(lease.lease)) this.violation(`revoked ${lease.lease}, which was not live`)
    this.granted.delete(lease.lease)
    this.stats.revoked++
  }

  // ---- invariants after every step --------------------------------------------------------

  private checkState(): void {
    const now = this.clock.now()
    // read the store before any engine call, since engine reads sweep expired leases themselves
    for (const [id, held] of this.granted) {
      if (now < held.expiresAt) continue
      if (this.store.held.has(id) && now > held.expiresAt + 1000) this.violation(`[LEASE-3] ${id} outlived its TTL by ${now - held.expiresAt} ms`)
      if (!this.store.held.has(id)) {
        this.granted.delete(id)
        this.stats.expired++
      }
    }
    this.checkLeases(now)
    this.checkPacks()
    this.asks = this.asks.filter((ask) => ask.open)
  }

  private checkLeases(now: number): void {
    const leases = this.engine.leases()
    const pairs = new Set<string>()
    for (const lease of leases) {
      const held = this.granted.get(lease.lease)
      if (!held) this.violation(`engine holds ${lease.lease}, never handed out`)
      else if (held.expiresAt !== lease.expiresAt || held.pack !== lease.pack || held.holder !== lease.holder) {
        this.violation(`engine's ${lease.lease} differs from what the holder was told`)
      }
      if (lease.expiresAt <= now) this.violation(`[LEASE-3] ${lease.lease} listed after its expiry`)
      if (!this.store.held.has(lease.lease)) this.violation(`[LEASE-7] live ${lease.lease} is not stored`)
      const pair = `${lease.pack}/${lease.holder}`
      if (pairs.has(pair)) this.violation(`[LEASE-2] two leases for ${pair}`)
      pairs.add(pair)
    }
    const live = [...this.granted.keys()].filter((id) => this.liveLease(id))
    if (live.length !== leases.length) this.violation(`[LEASE-3] ${live.length} leases handed out and live, engine knows ${leases.length}`)
  }

  private checkPacks(): void {
    const packs = this.engine.packs()
    const names = packs.map((p) => p.name).join()
    if (names !== [...this.plan.keys()].join()) this.violation(`packs in force ${names}`)
    let seats = 0
    let waiting = 0
    for (const status of packs) {
      const plan = this.plan.get(status.name)
      const stored = this.store.heldIn(status.name).length
      seats += status.inUse
      waiting += status.waiting
      if (!plan || status.limit !== plan.limit) this.violation(`${status.name}: limit ${status.limit}`)
      if (status.inUse !== stored) this.violation(`[LEASE-7] ${status.name}: inUse ${status.inUse}, stored ${stored}`)
      const ceiling = Math.max(status.limit, Math.min(this.ceiling.get(status.name) ?? 0, status.inUse))
      if (status.inUse > ceiling) this.violation(`[LEASE-1] [SRV-4] ${status.name}: inUse ${status.inUse} over ${ceiling}`)
      this.ceiling.set(status.name, ceiling)
      if (status.inUse > status.limit) this.stats.overLimit++
      const asked = this.asks.filter((a) => a.pack === status.name && a.open && a.waits && !a.decided && !a.aborted).length
      if (status.waiting !== asked) this.violation(`[LEASE-5] ${status.name}: ${status.waiting} waiting, ${asked} asked`)
      if (status.waiting > 0 && status.inUse < status.limit) this.violation(`[LEASE-5] ${status.name}: a seat is idle while ${status.waiting} wait`)
    }
    if (this.store.held.size !== seats) this.violation(`store holds ${this.store.held.size} records for ${seats} seats`)
    if (this.clock.pendingTimers > 1 + waiting) this.violation(`${this.clock.pendingTimers} timers for ${waiting} waiters and one expiry`)
  }
}

for (const seed of SEEDS) {
  t.test(`[LEASE-1] [LEASE-2] [LEASE-3] [LEASE-5] [SRV-4] random operations, seed ${seed}`, async (t) => {
    const run = new Run(seed)
    await run.play(STEPS)
    t.same(run.violations.slice(0, 5), [], `no invariant broken (FLR_ENGINE_SEED=${seed} reproduces)`)
    t.comment(JSON.stringify(run.stats))
    // the run must have exercised what it claims to check
    for (const key of ['grants', 'joins', 'renewals', 'releases', 'timeouts', 'aborts', 'exhausted', 'putFailures', 'revoked', 'expired', 'overLimit'] as const) {
      t.ok(run.stats[key] > 0, `${key} happened (${run.stats[key]})`)
    }
  })
}
