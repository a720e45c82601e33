// The seat engine: the one place that decides who gets a seat ([LEASE-1]..[LEASE-8], [SRV-4]).
// Pure: an injected clock and store, no sockets, no files, no timers of its own.
//
// Seats are counted the moment a grant is decided, synchronously inside the call, so no
// interleaving of requests can over-grant. Store calls are issued in the order of the
// decisions they record (a freed seat's remove before the put of the grant that reuses
// it), which the store relies on for crash safety ([LEASE-8]).
//
// Why this file is over ~300 lines (issue 12): what could stand alone has moved out (the plan
// diff, plan-diff.ts; the store calls, write-through.ts; refusals, refusals.ts; lease ids,
// lease-id.ts; callbacks after a decision, notices.ts). What is left is one state (packs in force, holders, pending grants, expiry
// queue, restored leases aside) that every path changes synchronously inside one call, so
// that [LEASE-1] no over-grant holds by construction; spread over files, that invariant would
// have no one place to be read and checked.

import type { FlrError } from '../errors.js'
import type { PackPlan } from '../lpf/plan.js'
import type { Grant, Lease, LeaseRequest, PackStatus, Renewal, RevokeReason } from './contract.js'
import { ExpiryQueue } from './expiry-queue.js'
import { LeaseEntry } from './lease-entry.js'
import { randomLeaseId } from './lease-id.js'
import type { PackSeats } from './pack-seats.js'
import { diffPlan } from './plan-diff.js'
import { exhausted, leaseUnknown, notServing, packUnknown, waitTimeout } from './refusals.js'
import type { Clock } from '../util/clock.js'
import type { DenialCode, EngineObserver, LeaseEndHow, LeaseRecord, LeaseStore } from './types.js'
import { Waiter, type Reply } from './waiters.js'
import { endOf, Notices, type Revocation } from './notices.js'
import { WriteThrough } from './write-through.js'
import { MAX_WAIT_MS } from '../protocol/fields.js'

export type { Grant, Lease, LeaseRequest, PackStatus, Renewal, RevokeReason } from './contract.js'

// [LEASE-5] the longest a lease request may wait for a seat: the wire's rule for `wait`
// (protocol/fields.ts, a leaf of constants), declared there once and capped here
export { MAX_WAIT_MS }

export interface EngineOptions {
  clock: Clock
  store: LeaseStore
  /** [LEASE-3] */
  ttlMs: number
  /** default: 128 random bits, base64url ([LEASE-4]) */
  newLeaseId?: () => string
  /** the server turns it into a `revoked` push ([WIRE-9]) */
  onRevoked?: (lease: Lease, reason: RevokeReason) => void
  /** a store write nobody awaits failed (expiry, revoke, cleanup); the server logs it */
  onStoreError?: (error: unknown, op: 'put' | 'remove', lease: string) => void
  /** metrics, [OBS-2] history: told of every grant (once durable), end of a lease and denial */
  observers?: EngineObserver[]
}

export class SeatEngine {
  readonly ttlMs: number
  private readonly clock: Clock
  /** every store call goes through it, in decision order ([LEASE-8]) */
  private readonly store: WriteThrough
  private readonly newLeaseId: () => string
  private readonly notices: Notices
  private readonly expiry: ExpiryQueue
  private packsInForce = new Map<string, PackSeats>()
  private readonly pendingIds = new Set<string>()
  /** restored leases whose pack is not in force yet ([LEASE-8]); settled by applyPlan */
  private readonly aside = new Map<string, LeaseEntry>()
  private isServing = false
  private closed = false

  constructor(opts: EngineOptions) {
    if (!Number.isFinite(opts.ttlMs) || opts.ttlMs <= 0) {
      throw new RangeError(`ttlMs must be a positive number of milliseconds, got ${opts.ttlMs}`)
    }
    this.ttlMs = opts.ttlMs
    this.clock = opts.clock
    this.store = new WriteThrough(opts.store, opts.onStoreError ?? (() => {}))
    this.newLeaseId = opts.newLeaseId ?? randomLeaseId
    this.notices = new Notices(opts.observers, opts.onRevoked ?? (() => {}))
    this.expiry = new ExpiryQueue(this.clock, this.ttlMs, () => this.expireDue())
  }

  get serving(): boolean {
    return this.isServing
  }

  // ---- plan ----------------------------------------------------------------------------

  /** [SRV-4]: start serving `packs`, or apply the difference to the packs in force. */
  applyPlan(packs: readonly PackPlan[]): void {
    if (this.closed) return
    // a lease past its TTL whose timer is late has expired: it is not one to revoke or keep
    this.expireDue()
    const revoked: Revocation[] = []
    // [SRV-4] a changed <licenses> block reaches holders with their next renew or lease answer
    const { next, removed } = diffPlan(this.packsInForce, packs)
    for (const pack of removed) this.dropPack(pack, 'pack-removed', packUnknown(pack.name), revoked)
    this.packsInForce = next
    this.isServing = true
    this.notices.planned(next.values(), this.clock.now())
    // restored leases take their seats before any waiter: they were acknowledged first
    this.settleAside(true, revoked)
    for (const pack of next.values()) this.drain(pack)
    this.notices.revoked(revoked)
  }

  /** [SRV-3]/[SRV-6]: revoke every lease, fail every waiter, refuse leases until applyPlan. */
  stopServing(reason: 'lpf-removed' | 'lpf-expired'): void {
    this.expireDue()
    const revoked: Revocation[] = []
    for (const pack of this.packsInForce.values()) this.dropPack(pack, reason, notServing(), revoked)
    this.packsInForce = new Map()
    // restored leases still aside are leases too, once serving; before that, they wait for a plan
    if (this.isServing) {
      for (const entry of this.aside.values()) {
        this.end(entry, endOf(reason))
        revoked.push([entry.snapshot(), reason])
      }
      this.aside.clear()
    }
    this.isServing = false
    this.notices.planned([], this.clock.now())
    this.notices.revoked(revoked)
  }

  /**
   * [LEASE-8]: put stored leases back with a fresh TTL from now, without writing them.
   * Records of packs not in force wait aside for the next applyPlan. Returns how many
   * records were taken (ids already known are skipped).
   */
  restore(records: readonly LeaseRecord[]): number {
    if (this.closed) return 0
    let taken = 0
    const expiresAt = this.clock.now() + this.ttlMs
    for (const record of records) {
      if (this.knows(record.lease)) continue
      const entry = LeaseEntry.fromRecord(record)
      entry.expiresAt = expiresAt
      this.aside.set(entry.lease, entry)
      taken++
    }
    if (this.isServing) this.settleAside(false, [])
    return taken
  }

  // ---- leases --------------------------------------------------------------------------

  /** [LEASE-1,2,5,6,7]: resolves once the grant is durable. */
  lease(req: LeaseRequest): Promise<Grant> {
    return new Promise<Grant>((resolve, reject) => this.ask(req, { resolve, reject }))
  }

  /** [LEASE-3,4]: by id from anywhere; no store write ([LEASE-7] renewals need not be durable). */
  renew(leaseId: string, owner?: unknown): Renewal {
    this.expireDue()
    const entry = this.expiry.get(leaseId)
    if (!entry) throw leaseUnknown()
    if (owner !== undefined) entry.owner = owner
    this.expiry.touch(entry)
    const pack = this.packOf(entry)
    return { lease: entry.lease, expiresAt: entry.expiresAt, ttlMs: this.ttlMs, licenses: pack.licenses }
  }

  /** [LEASE-7]: frees the seat now; resolves once the removal is durable. */
  release(leaseId: string): Promise<void> {
    try {
      return this.free(leaseId, 'released')[1]
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** [WIRE-8] admin revoke: a release that also tells the lease's connection. */
  async revoke(leaseId: string): Promise<void> {
    const [entry, durable] = this.free(leaseId, 'revoked')
    this.notices.revoked([[entry.snapshot(), 'admin']])
    return durable
  }

  packs(): PackStatus[] {
    this.expireDue()
    return [...this.packsInForce.values()].map((pack) => pack.status())
  }

  /** Acknowledged leases, soonest expiry first; pending grants are not leases yet. */
  leases(pack?: string): Lease[] {
    this.expireDue()
    const live: Lease[] = []
    for (const entry of this.expiry.values()) {
      if (pack === undefined || entry.pack === pack) live.push(entry.snapshot())
    }
    return live
  }

  get(leaseId: string): Lease | undefined {
    this.expireDue()
    return this.expiry.get(leaseId)?.snapshot()
  }

  /** Stop the timers and fail every waiter; leases stay stored, for the next start. */
  close(): void {
    this.closed = true
    this.isServing = false
    this.expiry.stop()
    for (const pack of this.packsInForce.values()) {
      for (const waiter of pack.waiters.takeAll()) waiter.reply.reject(notServing())
    }
  }

  // ---- deciding a request ---------------------------------------------------------------

  private ask(req: LeaseRequest, reply: Reply): void {
    if (req.waits?.aborted) return reply.reject(req.waits.abortReason)
    this.expireDue()
    const pack = this.packFor(req.pack)
    const held = pack.holders.get(req.holder)
    // [LEASE-2] one lease per holder and pack: a repeated request gets the same lease, renewed
    if (held) return this.join(pack, held, req, reply)
    // [LEASE-10] a grant the store cannot record is refused before a seat is taken or a wait begins
    const down = this.store.down()
    if (down) throw down
    // [LEASE-5] a free seat goes to a newcomer only when nobody waits before it
    if (pack.waiters.size === 0 && pack.hasFreeSeat) return this.grant(pack, req, reply)
    const waitMs = cappedWait(req.waitMs)
    if (waitMs === 0) {
      this.deny(pack, req, 'PACK_EXHAUSTED', 0)
      throw exhausted(pack)
    }
    this.enqueue(pack, req, reply, waitMs)
  }

  private packFor(name: string): PackSeats {
    if (!this.isServing) throw notServing()
    const pack = this.packsInForce.get(name)
    if (!pack) throw packUnknown(name)
    return pack
  }

  private join(pack: PackSeats, entry: LeaseEntry, req: LeaseRequest, reply: Reply): void {
    if (req.owner !== undefined) entry.owner = req.owner
    if (entry.state === 'pending') {
      entry.replies!.push(reply)
      return
    }
    this.expiry.touch(entry)
    reply.resolve(pack.grantOf(entry, this.ttlMs))
  }

  private grant(pack: PackSeats, req: LeaseRequest, reply: Reply, waitedMs = 0): void {
    // [LEASE-10] a waiter whose seat came while the store cannot write is told so; the seat stays free
    const down = this.store.down()
    if (down) return reply.reject(down)
    const entry = new LeaseEntry(this.freshId(), pack.name, req.holder, req.client, req.address, this.clock.now(), req.owner)
    entry.replies = [reply]
    entry.waitedMs = waitedMs
    pack.holders.set(entry.holder, entry)
    this.pendingIds.add(entry.lease)
    for (const waiter of pack.waiters.takeHolder(entry.holder)) this.join(pack, entry, waiter.request, waiter.reply)
    this.store.put(entry, entry.waitedMs).then(
      () => this.acknowledge(entry),
      (error: unknown) => this.putFailed(entry, error),
    )
  }

  /** [LEASE-7] the answer leaves only now; the TTL counts from here ([LEASE-3]). */
  private acknowledge(entry: LeaseEntry): void {
    if (entry.state !== 'pending') return
    const pack = this.packOf(entry)
    const replies = entry.replies!
    this.pendingIds.delete(entry.lease)
    entry.replies = undefined
    entry.state = 'live'
    this.expiry.touch(entry)
    for (const reply of replies) reply.resolve(pack.grantOf(entry, this.ttlMs))
    this.notices.granted(entry, this.clock.now(), entry.waitedMs)
  }

  private putFailed(entry: LeaseEntry, error: unknown): void {
    if (entry.state !== 'pending') return
    const pack = this.packOf(entry)
    // a put whose acknowledgement was lost may still have landed: never restore a lease nobody was given
    this.cancelPending(pack, entry, error, 'revoked')
    this.drain(pack)
  }

  private enqueue(pack: PackSeats, req: LeaseRequest, reply: Reply, waitMs: number): void {
    const waiter = new Waiter(req, reply, this.clock.now())
    // [WIRE-10] first, so a request over its connection's cap is refused before it queues
    req.waits?.enter(waiter)
    pack.waiters.add(waiter)
    waiter.cancel = (reason) => {
      if (pack.waiters.remove(waiter)) reply.reject(reason)
    }
    const timer = this.clock.setTimeout(() => {
      if (!pack.waiters.remove(waiter)) return
      this.deny(pack, req, 'WAIT_TIMEOUT', this.clock.now() - waiter.since)
      reply.reject(waitTimeout(pack.name, waitMs))
    }, waitMs)
    waiter.onLeave(() => this.clock.clearTimeout(timer))
  }

  /** [LEASE-5] hand free seats to waiters in arrival order; [SRV-4] none while inUse ≥ limit. */
  private drain(pack: PackSeats): void {
    while (pack.hasFreeSeat) {
      const waiter = pack.waiters.first()
      if (!waiter) return
      pack.waiters.remove(waiter)
      const held = pack.holders.get(waiter.holder)
      if (held) this.join(pack, held, waiter.request, waiter.reply)
      else this.grant(pack, waiter.request, waiter.reply, this.clock.now() - waiter.since)
    }
  }

  // ---- freeing seats --------------------------------------------------------------------

  private free(leaseId: string, how: LeaseEndHow): [LeaseEntry, Promise<void>] {
    this.expireDue()
    const entry = this.expiry.get(leaseId)
    if (!entry) throw leaseUnknown()
    // [LEASE-10] a release the store cannot record is refused, and the lease stays as it was
    const down = this.store.down()
    if (down) throw down
    const pack = this.packOf(entry)
    this.expiry.delete(entry)
    this.forget(pack, entry)
    const durable = this.store.remove(entry, how, this.clock.now())
    this.notices.ended(entry, how, this.clock.now())
    this.drain(pack)
    return [entry, durable]
  }

  /** [LEASE-3] free every lease whose TTL has run out; each freed seat serves a waiter. */
  private expireDue(): void {
    const due = this.expiry.takeDue()
    if (due.length === 0) return
    const freed = new Set<PackSeats>()
    for (const entry of due) {
      const pack = this.packOf(entry)
      this.forget(pack, entry)
      this.end(entry, 'expired')
      freed.add(pack)
    }
    for (const pack of freed) this.drain(pack)
  }

  private dropPack(pack: PackSeats, reason: RevokeReason, refusal: FlrError, revoked: Revocation[]): void {
    for (const waiter of pack.waiters.takeAll()) waiter.reply.reject(refusal)
    for (const entry of [...pack.holders.values()]) {
      if (entry.state === 'pending') {
        this.cancelPending(pack, entry, refusal, endOf(reason))
        continue
      }
      this.expiry.delete(entry)
      this.forget(pack, entry)
      this.end(entry, endOf(reason))
      revoked.push([entry.snapshot(), reason])
    }
  }

  /** [OBS-2] `how`: a put that failed may still have landed, and its grant with it: the history ends it too */
  private cancelPending(pack: PackSeats, entry: LeaseEntry, error: unknown, how: LeaseEndHow): void {
    const replies = entry.replies ?? []
    entry.replies = undefined
    this.forget(pack, entry)
    this.store.removeQuietly(entry, how, this.clock.now())
    for (const reply of replies) reply.reject(error)
  }

  /** [OBS-2] an acknowledged lease ends: its removal carries how, and the observers are told */
  private end(entry: LeaseEntry, how: LeaseEndHow): void {
    const now = this.clock.now()
    this.store.removeQuietly(entry, how, now)
    this.notices.ended(entry, how, now)
  }

  private forget(pack: PackSeats, entry: LeaseEntry): void {
    entry.state = 'gone'
    if (pack.holders.get(entry.holder) === entry) pack.holders.delete(entry.holder)
    this.pendingIds.delete(entry.lease)
  }

  /**
   * Restored leases join their pack as live leases with the TTL they were given at restore.
   * `final` (applyPlan): a lease whose pack is gone is revoked ([LEASE-8], [SRV-4]), and a
   * second lease of one holder and pack (impossible unless the store was tampered with) is
   * dropped. Otherwise they stay aside: restore never writes.
   */
  private settleAside(final: boolean, revoked: Revocation[]): void {
    const now = this.clock.now()
    // a Map may lose its current entry while it is iterated; a final pass empties it at once
    for (const entry of this.aside.values()) {
      const pack = this.packsInForce.get(entry.pack)
      const fits = pack !== undefined && !pack.holders.has(entry.holder)
      if (!fits && !final) continue
      if (!final) this.aside.delete(entry.lease)
      if (fits) {
        entry.state = 'live'
        pack.holders.set(entry.holder, entry)
        this.expiry.touch(entry, now)
        continue
      }
      this.end(entry, pack ? 'revoked' : 'pack-removed')
      if (!pack) revoked.push([entry.snapshot(), 'pack-removed'])
    }
    if (final) this.aside.clear()
  }

  // ---- small parts ----------------------------------------------------------------------

  private packOf(entry: LeaseEntry): PackSeats {
    // every pending or live entry's pack is in force: dropping a pack frees its entries first
    return this.packsInForce.get(entry.pack)!
  }

  /** [OBS-2] a refusal for want of a seat (not one of a pack that is not there) */
  private deny(pack: PackSeats, req: LeaseRequest, code: DenialCode, waitedMs: number): void {
    this.notices.denied({ pack: pack.name, holder: req.holder, code, waitedMs, at: this.clock.now() })
  }

  private knows(leaseId: string): boolean {
    return this.expiry.get(leaseId) !== undefined || this.pendingIds.has(leaseId) || this.aside.has(leaseId)
  }

  private freshId(): string {
    for (let attempt = 0; attempt < 3; attempt++) {
      const id = this.newLeaseId()
      if (!this.knows(id)) return id
    }
    throw new Error('newLeaseId returned an id already in use three times in a row')
  }
}

function cappedWait(waitMs: number | undefined): number {
  if (waitMs === undefined || !(waitMs > 0)) return 0
  return Math.min(waitMs, MAX_WAIT_MS)
}
