// [WIRE-8] The admin gate: one per server, shared by every channel, with the lock-out after
// three wrong passwords in a row.
import { FlrError } from '../errors.js'
import type { Clock } from '../util/clock.js'
import { verifyPassword } from './password.js'

export const MAX_WRONG_IN_A_ROW = 3
export const LOCKOUT_MS = 10 * 60_000

/** The part of a pino logger the gate uses; it logs events, never a password. */
export interface GateLog {
  warn(obj: object, msg?: string): void
}

export interface AdminGateOptions {
  stateDir: string
  clock: Pick<Clock, 'now'>
  log?: GateLog
}

export class AdminGate {
  private readonly stateDir: string
  private readonly clock: Pick<Clock, 'now'>
  private readonly log: GateLog | undefined
  private wrongInARow = 0
  private lockedUntil = 0
  // Checks run one at a time: parallel guesses would otherwise all pass the lock check before the
  // first wrong one is counted, and each scrypt check costs 128 MiB.
  private queue: Promise<unknown> = Promise.resolve()

  constructor(opts: AdminGateOptions) {
    this.stateDir = opts.stateDir
    this.clock = opts.clock
    this.log = opts.log
  }

  /**
   * Resolves when `password` is the admin password. Rejects with FlrError LOCKED_OUT {retryAfterMs}
   * (during a lock-out, whatever the password; also the answer to the third wrong one),
   * AUTH_FAILED, or ADMIN_PASSWORD_NOT_SET.
   */
  auth(password: string): Promise<void> {
    const turn = this.queue.then(() => this.check(password))
    this.queue = turn.catch(() => {})
    return turn
  }

  /** ms until the lock-out ends; 0 when not locked out */
  retryAfterMs(): number {
    return Math.max(0, this.lockedUntil - this.clock.now())
  }

  private async check(password: string): Promise<void> {
    this.refuseWhileLocked()
    const result = await verifyPassword(this.stateDir, password)
    if (result === 'not-set') throw new FlrError('ADMIN_PASSWORD_NOT_SET')
    if (result === 'ok') {
      this.wrongInARow = 0
      return
    }
    this.wrongInARow += 1
    if (this.wrongInARow < MAX_WRONG_IN_A_ROW) throw new FlrError('AUTH_FAILED')
    this.wrongInARow = 0
    this.lockedUntil = this.clock.now() + LOCKOUT_MS
    this.log?.warn({ wrongInARow: MAX_WRONG_IN_A_ROW, lockoutMs: LOCKOUT_MS }, 'admin locked out after 3 wrong passwords in a row')
    this.refuseWhileLocked()
  }

  private refuseWhileLocked(): void {
    const retryAfterMs = this.retryAfterMs()
    if (retryAfterMs > 0) {
      const minutes = Math.ceil(retryAfterMs / 60_000)
      throw new FlrError(
        'LOCKED_OUT',
        `${MAX_WRONG_IN_A_ROW} wrong admin passwords in a row: admin access is locked for ${minutes} more minute(s)`,
        { retryAfterMs },
      )
    }
  }
}
