// [WIRE-8] The admin gate: one per server, shared by every channel. Three wrong passwords in a
// row from one peer address lock that address out for 10 minutes, and only that address:
// nobody on the network can lock the admin out. Loopback peers (the server host) are never
// locked out. The state is kept in the state directory, so a restart does not clear it.
//
// What a correct login resets: the count of the address it came from, and nothing else. A
// right password from one address says nothing about the guesses made from another one (the
// old single counter let an attacker make two guesses per admin login without ever tripping
// the lock-out). A lock-out in force ends only with time: during it, even the right password
// from that address is refused.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FlrError } from '../errors.js'
import type { Clock } from '../util/clock.js'
import { writePrivateFile } from '../util/private-files.js'
import { verifyPassword } from './password.js'
import { isLoopback, peerAddress } from './peer-address.js'

export const MAX_WRONG_IN_A_ROW = 3
export const LOCKOUT_MS = 10 * 60_000
export const LOCKOUT_FILE = 'admin-lockout.json'
/** addresses remembered at most; beyond it the oldest that are not locked out are forgotten */
const MAX_ADDRESSES = 10_000

/** The part of a pino logger the gate uses; it logs events, never a password. */
export interface GateLog {
  warn(obj: object, msg?: string): void
}

export interface AdminGateOptions {
  stateDir: string
  clock: Pick<Clock, 'now'>
  log?: GateLog
}

interface AddressState {
  wrong: number
  /** epoch ms; 0 when not locked out */
  lockedUntil: number
  /** epoch ms of the last wrong password */
  last: number
}

export class AdminGate {
  private readonly stateDir: string
  private readonly clock: Pick<Clock, 'now'>
  private readonly log: GateLog | undefined
  private readonly byAddress: Map<string, AddressState>
  // Checks run one at a time: parallel guesses would otherwise all pass the lock check before the
  // first wrong one is counted, and each scrypt check costs 128 MiB.
  private queue: Promise<unknown> = Promise.resolve()

  constructor(opts: AdminGateOptions) {
    this.stateDir = opts.stateDir
    this.clock = opts.clock
    this.log = opts.log
    this.byAddress = this.load()
  }

  /**
   * Resolves when `password` is the admin password. Rejects with FlrError LOCKED_OUT {retryAfterMs}
   * (during a lock-out of this address, whatever the password; also the answer to the third wrong
   * one), AUTH_FAILED, or ADMIN_PASSWORD_NOT_SET.
   */
  auth(password: string, remoteAddress: string): Promise<void> {
    const address = peerAddress(remoteAddress)
    const turn = this.queue.then(() => this.check(password, address))
    this.queue = turn.catch(() => {})
    return turn
  }

  /** ms until the lock-out of `address` ends; 0 when it is not locked out */
  retryAfterMs(remoteAddress: string): number {
    const state = this.byAddress.get(peerAddress(remoteAddress))
    return state ? Math.max(0, state.lockedUntil - this.clock.now()) : 0
  }

  private async check(password: string, address: string): Promise<void> {
    this.refuseWhileLocked(address)
    const result = await verifyPassword(this.stateDir, password)
    if (result === 'not-set') throw new FlrError('ADMIN_PASSWORD_NOT_SET')
    const state = this.byAddress.get(address)
    if (result === 'ok') {
      if (state) {
        this.byAddress.delete(address)
        this.save()
      }
      return
    }
    if (isLoopback(address)) {
      this.log?.warn({ address }, `wrong admin password from ${address} (the server host: never locked out)`)
      throw new FlrError('AUTH_FAILED')
    }
    const now = this.clock.now()
    const next: AddressState = { wrong: (state?.wrong ?? 0) + 1, lockedUntil: 0, last: now }
    if (next.wrong >= MAX_WRONG_IN_A_ROW) {
      next.wrong = 0
      next.lockedUntil = now + LOCKOUT_MS
    }
    this.byAddress.delete(address) // re-inserted last: the map's order is the age of the last failure
    this.byAddress.set(address, next)
    this.bound()
    this.save()
    if (next.lockedUntil === 0) {
      this.log?.warn({ address, wrongInARow: next.wrong }, `wrong admin password from ${address} (${next.wrong} of ${MAX_WRONG_IN_A_ROW} in a row)`)
      throw new FlrError('AUTH_FAILED')
    }
    this.log?.warn(
      { address, wrongInARow: MAX_WRONG_IN_A_ROW, lockoutMs: LOCKOUT_MS },
      `admin access from ${address} locked out for ${LOCKOUT_MS / 60_000} minutes after ${MAX_WRONG_IN_A_ROW} wrong passwords in a row`,
    )
    this.refuseWhileLocked(address)
  }

  private refuseWhileLocked(address: string): void {
    const retryAfterMs = this.retryAfterMs(address)
    if (retryAfterMs > 0) {
      const minutes = Math.ceil(retryAfterMs / 60_000)
      throw new FlrError(
        'LOCKED_OUT',
        `${MAX_WRONG_IN_A_ROW} wrong admin passwords in a row from ${address}: admin access from this address is locked ` +
          `for ${minutes} more minute(s). Wait, or log in on the server host itself (it is never locked out)`,
        { retryAfterMs },
      )
    }
  }

  /** one attacker with many addresses (an IPv6 range) cannot grow the map, or the file, without bound */
  private bound(): void {
    const now = this.clock.now()
    for (const [address, state] of this.byAddress) {
      if (this.byAddress.size <= MAX_ADDRESSES) break
      if (state.lockedUntil <= now) this.byAddress.delete(address)
    }
  }

  private load(): Map<string, AddressState> {
    const map = new Map<string, AddressState>()
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(join(this.stateDir, LOCKOUT_FILE), 'utf8'))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log?.warn({ err: String(e) }, `${LOCKOUT_FILE} is unreadable: starting with no lock-out in force`)
      return map
    }
    const addresses = (parsed as { addresses?: Record<string, Partial<AddressState>> })?.addresses ?? {}
    const entries = Object.entries(addresses)
      .filter(([, s]) => Number.isInteger(s?.wrong) && Number.isFinite(s?.lockedUntil) && Number.isFinite(s?.last))
      .sort(([, a], [, b]) => a.last! - b.last!)
    for (const [address, s] of entries) map.set(address, { wrong: s.wrong!, lockedUntil: s.lockedUntil!, last: s.last! })
    return map
  }

  private save(): void {
    try {
      writePrivateFile(join(this.stateDir, LOCKOUT_FILE), JSON.stringify({ version: 1, addresses: Object.fromEntries(this.byAddress) }) + '\n')
    } catch (e) {
      // the lock-out still holds in memory; only a restart could clear it
      this.log?.warn({ err: String(e) }, `could not save ${LOCKOUT_FILE}: the lock-out state holds until the next restart`)
    }
  }
}
