// [OBS-2] Denials and limits reach the history in batches: a denial is not acknowledged to
// anyone, so it need not cost a write of its own; it is written within a second (FLUSH_MS).
// A batch that fails (the store cannot write, [LEASE-10]) is kept and tried again, up to
// MAX_PENDING notes; past that the oldest are dropped and counted, never the server's memory.
import type { Clock } from '../util/clock.js'
import type { EngineObserver, HistoryNote, LeaseHistory } from '../engine/types.js'

export const FLUSH_MS = 1_000
export const MAX_PENDING = 100_000

export class HistoryRecorder implements EngineObserver {
  #pending: HistoryNote[] = []
  #timer: unknown
  #flushing: Promise<void> | undefined
  #limits = new Map<string, number>()
  /** notes dropped because the store could not take them for too long */
  dropped = 0

  constructor(
    private readonly history: LeaseHistory,
    private readonly clock: Clock,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  denied(denial: { pack: string; holder: string; code: 'PACK_EXHAUSTED' | 'WAIT_TIMEOUT'; waitedMs: number; at: number }): void {
    this.#note({ kind: 'denial', ...denial })
  }

  /** [OBS-3] a limit is written when it changes; a pack gone from the plan gets limit 0 */
  planned(packs: readonly { pack: string; limit: number }[], at: number): void {
    const seen = new Set<string>()
    for (const { pack, limit } of packs) {
      seen.add(pack)
      if (this.#limits.get(pack) === limit) continue
      this.#limits.set(pack, limit)
      this.#note({ kind: 'limit', at, pack, limit })
    }
    for (const [pack, limit] of this.#limits) {
      if (seen.has(pack) || limit === 0) continue
      this.#limits.set(pack, 0)
      this.#note({ kind: 'limit', at, pack, limit: 0 })
    }
  }

  /** Writes what is pending now; resolves once it is durable (or has failed and is kept). */
  flush(): Promise<void> {
    this.#flushing ??= this.#write().finally(() => {
      this.#flushing = undefined
    })
    return this.#flushing
  }

  /** Stops the timer and writes what is pending ([SRV-8] a clean stop loses no denial). */
  async close(): Promise<void> {
    this.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#flushing
    await this.flush()
  }

  #note(note: HistoryNote): void {
    this.#pending.push(note)
    if (this.#pending.length > MAX_PENDING) {
      this.#pending.shift()
      this.dropped++
    }
    this.#timer ??= this.clock.setTimeout(() => {
      this.#timer = undefined
      void this.flush()
    }, FLUSH_MS)
  }

  async #write(): Promise<void> {
    const batch = this.#pending
    if (batch.length === 0) return
    this.#pending = []
    try {
      await this.history.append(batch)
    } catch (error) {
      // kept, in order, before anything noted since; tried again with the next flush
      this.#pending = [...batch, ...this.#pending].slice(-MAX_PENDING)
      this.onError(error)
      this.#timer ??= this.clock.setTimeout(() => {
        this.#timer = undefined
        void this.flush()
      }, FLUSH_MS)
    }
  }
}
