// A held lease ([WIRE-5], [WIRE-6]): renewed at TTL/3 by the client that took it, kept
// usable through the server's grace period while the server is unreachable ([WIRE-4]).
import { EventEmitter } from 'node:events'
import { FlrError, isFlrError } from '../errors.js'
import type { LeaseAnswer } from '../protocol/replies.js'
import type { FlrClient } from './client.js'

/**
 * A held lease. Events: `renewed`, `licenses` (the pack's <licenses> changed, [SRV-4]),
 * `revoked` (reason), `lost` (FlrError: the server no longer knows it, or the grace period ran out).
 */
export class Lease extends EventEmitter {
  readonly id: string
  readonly pack: string
  readonly holder: string
  licenses: string
  /** local time until which the lease is usable: the server's expiry or, while unreachable, the grace period */
  usableUntil = 0
  private lastConfirmed = 0
  private ttlMs = 0
  private timer: NodeJS.Timeout | undefined
  private graceTimer: NodeJS.Timeout | undefined
  private ended = false

  constructor(
    private readonly client: FlrClient,
    grant: LeaseAnswer,
  ) {
    super()
    this.id = grant.lease
    this.pack = grant.pack
    this.holder = grant.holder
    this.licenses = grant.licenses
    this.confirmed(grant.ttlMs)
    this.schedule()
  }

  /** Usable now: confirmed within its TTL, or within the server's grace period while it is unreachable. */
  get usable(): boolean {
    return !this.ended && Date.now() < this.graceDeadline()
  }

  /** [WIRE-6] Gives the seat back. */
  async release(): Promise<void> {
    this.stop()
    this.client.forget(this)
    await this.client.request('release', { lease: this.id })
  }

  /** @internal renews at once (after a reconnect) */
  async renewNow(): Promise<void> {
    if (this.ended) return
    try {
      // while the server is unreachable this waits for the reconnect; the grace timer decides meanwhile
      const reply = await this.client.request('renew', { lease: this.id })
      if (this.ended) return
      this.confirmed(reply.ttlMs)
      if (reply.licenses !== this.licenses) {
        this.licenses = reply.licenses
        this.emit('licenses', this.licenses)
      }
      this.emit('renewed', reply)
    } catch (e) {
      if (isFlrError(e, 'LEASE_UNKNOWN') || isFlrError(e, 'NOT_SERVING')) return this.end('lost', e)
      // unreachable, a missed deadline, no leader yet (NOT_LEADER, [HA-6]): keep the lease while the grace period lasts, keep trying
      if (!this.usable) return this.end('lost', new FlrError('CONNECTION_LOST', 'the server stayed unreachable past the grace period'))
    } finally {
      this.schedule()
    }
  }

  /** @internal */
  revoked(reason: string): void {
    this.end('revoked', reason)
  }

  /** @internal stops renewing without telling the server */
  stop(): void {
    this.ended = true
    clearTimeout(this.timer)
    clearTimeout(this.graceTimer)
  }

  /** The server vouched for the lease just now. */
  private confirmed(ttlMs: number): void {
    this.lastConfirmed = Date.now()
    this.ttlMs = ttlMs
    this.usableUntil = this.lastConfirmed + ttlMs
    this.armGrace()
  }

  private graceDeadline(): number {
    return Math.max(this.usableUntil, this.lastConfirmed + (this.client.hello?.graceMs ?? 0))
  }

  /**
   * [WIRE-4] graceMs: with no word from the server for that long, the lease is lost. A timer of
   * its own, because a renewal waiting for the server to come back never settles before then.
   */
  private armGrace(): void {
    clearTimeout(this.graceTimer)
    // setTimeout holds at most 2^31 - 1 ms (24.8 days); a longer grace is waited out in steps
    const wait = Math.min(Math.max(0, this.graceDeadline() - Date.now()), MAX_TIMER_MS)
    this.graceTimer = setTimeout(() => {
      if (this.usable) return this.armGrace()
      this.end('lost', new FlrError('CONNECTION_LOST', 'the server stayed unreachable past the grace period'))
    }, wait)
    this.graceTimer.unref()
  }

  private schedule(): void {
    clearTimeout(this.timer)
    if (this.ended) return
    // [LEASE-3] clients renew at TTL/3; [HA-6] after a renewal that found no server or no
    // leader, sooner: a new leader should see every lease again within seconds of taking over
    const unconfirmed = Date.now() - this.lastConfirmed >= this.ttlMs / 3
    this.timer = setTimeout(() => void this.renewNow(), Math.max(100, unconfirmed ? Math.min(RETRY_MS, this.ttlMs / 3) : this.ttlMs / 3))
    this.timer.unref()
  }

  private end(event: 'lost' | 'revoked', detail: unknown): void {
    if (this.ended) return
    this.stop()
    this.client.forget(this)
    this.emit(event, detail)
  }
}

/** how soon a renewal that failed is tried again (each attempt waits up to its deadline for a server) */
const RETRY_MS = 1_000

/** setTimeout holds at most this (24.8 days) */
const MAX_TIMER_MS = 2 ** 31 - 1
