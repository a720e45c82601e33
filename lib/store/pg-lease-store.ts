// The lease store on PostgreSQL ([HA-1]): what the LMDB store is for one node, shared by a
// cluster. [LEASE-7] a put or remove resolves only after its transaction's COMMIT returned;
// writes are group-committed (pg-batch.ts): one transaction for every write issued in one event
// turn or while the previous commit ran, on the one client that writes, so that the database
// sees them in call order. [HA-3] with a fence, every transaction first checks the writer's
// term. [LEASE-10] a database that cannot be reached makes writes reject STORE_UNAVAILABLE
// (naming host:port/db and the cause, never the password) until a probe, once a second,
// commits again; removals refused meanwhile are owed and committed first.
import type { LeaseEnd, LeaseRecord, LeaseStore } from '../engine/types.js'
import { FlrError, isFlrError } from '../errors.js'
import { storeUnavailable, type StoreFault, type StoreFaultListener } from './store-fault.js'
import { netEffect, readLeases, recordOf, notLeader, type PgFence, type Write } from './pg-batch.js'
import { migrate, type Migrated } from './pg-schema.js'
import { describeDatabase, redactUrl } from './pg-url.js'
import { classifyPgFault } from './pg-fault.js'
import { PgHistory } from './pg-history.js'
import { PgWriter } from './pg-writer.js'

export type { PgFence }

export interface PgStoreOptions {
  /** postgres://user:password@host:port/db */
  url: string
  hostId: string
  /** [HA-3] without one, writes are not fenced (a store no cluster shares: tests, tools) */
  fence?: PgFence
  /** how long a connection attempt or a statement may take before the database counts as unreachable */
  timeoutMs?: number
  /**
   * [HA-3] [HA-5] a session idle inside a transaction this long is ended by the server: a leader
   * frozen (SIGSTOP, VM pause) in the middle of a fenced write holds a lock on flr_leader, which
   * would keep every standby from taking over. The daemon gives its --leader-ttl.
   */
  idleInTransactionMs?: number
  /** [LEASE-10] while the database cannot be reached, how often to try again */
  probeIntervalMs?: number
}

/** Opens the store at `url`, creating or upgrading its schema; rejects STORE_NEWER, STORE_DAMAGED or STORE_UNAVAILABLE. */
export async function openPgLeaseStore(opts: PgStoreOptions): Promise<PgLeaseStore> {
  const store = new PgLeaseStore(opts)
  try {
    await store.migrated
    return store
  } catch (e) {
    await store.close()
    throw e
  }
}

interface Batch {
  writes: Write[]
  done: Promise<void>
  resolve(): void
  reject(e: unknown): void
}

export class PgLeaseStore implements LeaseStore {
  /** host:port/db, for logs and messages */
  readonly where: string
  /** the URL with its password masked, for a config snapshot */
  readonly redactedUrl: string
  readonly hostId: string
  /** resolves once the schema is in place (openPgLeaseStore awaits it) */
  readonly migrated: Promise<Migrated>
  /** [OBS-2] [OBS-3] the usage history, in the same database */
  readonly history: PgHistory
  readonly #url: string
  readonly #db: PgWriter
  readonly #fence: PgFence | undefined
  readonly #probeIntervalMs: number
  /** writes issued since the running commit began: the next commit */
  #open: Batch | undefined
  #committing: Promise<void> | undefined
  #fault: StoreFault | undefined
  /** removals refused while the database could not be reached, with the end each records ([OBS-2]) */
  readonly #unremoved = new Map<string, LeaseEnd | undefined>()
  #listener: StoreFaultListener | undefined
  #probeTimer: NodeJS.Timeout | undefined
  #closing: Promise<void> | undefined
  #commits = 0
  #writes = 0

  /** Use openPgLeaseStore. */
  constructor(opts: PgStoreOptions) {
    this.#url = opts.url
    this.where = describeDatabase(opts.url)
    this.redactedUrl = redactUrl(opts.url)
    this.hostId = opts.hostId
    this.#fence = opts.fence
    this.#probeIntervalMs = opts.probeIntervalMs ?? 1_000
    // a connection the server cut (restart, failover) is a sign that the next write may fail:
    // find out now ([LEASE-10])
    this.#db = new PgWriter({ url: opts.url, hostId: opts.hostId, timeoutMs: opts.timeoutMs ?? 5_000, idleInTransactionMs: opts.idleInTransactionMs }, () => this.#scheduleProbe(0))
    this.migrated = this.#migrate()
    this.history = new PgHistory(this.#db.pool, () => this.#db.connect(), (notes) => this.#write({ notes }))
  }

  async #migrate(): Promise<Migrated> {
    try {
      const client = await this.#db.connect()
      try {
        return await migrate(client, this.where, this.hostId)
      } finally {
        client.release()
      }
    } catch (e) {
      // [HA-1] a driver error at open is told as STORE_UNAVAILABLE: where, the cause, no password
      if (e instanceof FlrError) throw e
      throw storeUnavailable(classifyPgFault(this.where, this.#url, e, new Date().toISOString()))
    }
  }

  /** [LEASE-7] resolves once the record is committed; [OBS-2] with its grant event. */
  put(record: LeaseRecord, waitedMs?: number): Promise<void> {
    if (typeof record.lease !== 'string' || record.lease === '') return Promise.reject(new TypeError('not storing a lease without an id'))
    return this.#write({ put: recordOf(record), ...(waitedMs !== undefined ? { waitedMs } : {}) })
  }

  /** [LEASE-7] resolves once the removal is committed, [OBS-2] with its end; removing an unknown lease is not an error. */
  remove(lease: string, end?: LeaseEnd): Promise<void> {
    return this.#write({ remove: lease, ...(end ? { end: { how: end.how, at: end.at, record: recordOf(end.record) } } : {}) })
  }

  /** [LEASE-10] [HA-3] the refusal a write would get now, or undefined. */
  unavailable(): Error | undefined {
    if (this.#fault) return storeUnavailable(this.#fault)
    if (this.#fence && this.#fence.term() === undefined) return notLeader('this node holds no leadership term')
    return undefined
  }

  fault(): StoreFault | undefined {
    return this.#fault
  }

  observe(listener: StoreFaultListener): void {
    this.#listener = listener
  }

  healthy(): boolean {
    return !this.#closing && !this.#fault
  }

  /** How many transactions wrote leases, and how many writes they held (group commit, for tests and benches). */
  stats(): { commits: number; writes: number } {
    return { commits: this.#commits, writes: this.#writes }
  }

  /** [LEASE-8] every stored lease, read after every write issued so far has been committed (or failed). */
  async load(): Promise<LeaseRecord[]> {
    await this.#settled()
    return readLeases(this.#db.pool)
  }

  /** Number of stored leases. */
  async count(): Promise<number> {
    const r = await this.#db.pool.query<{ n: string }>('SELECT count(*) AS n FROM flr_leases')
    return Number(r.rows[0]!.n)
  }

  /** [SRV-8] waits for every write issued so far to be committed (or to have failed), then closes the pool. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#probeTimer)
      await this.migrated.catch(() => {})
      await this.#settled()
      await this.#db.end()
    })()
    return this.#closing
  }

  // ---- group commit ----

  #write(w: Write): Promise<void> {
    if (this.#closing) return Promise.reject(new Error(`the lease store ${this.where} is closed`))
    if (this.#fault) {
      // [LEASE-10] the engine has already forgotten the lease (expiry, cleanup): its removal is owed
      if ('remove' in w) this.#unremoved.set(w.remove, w.end)
      return Promise.reject(storeUnavailable(this.#fault))
    }
    let batch = this.#open
    if (!batch) {
      let resolve!: () => void
      let reject!: (e: unknown) => void
      const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)))
      batch = this.#open = { writes: [], done, resolve, reject }
      // every write of this turn joins it; a commit running now is followed by this one
      if (!this.#committing) setImmediate(() => this.#commitNext())
    }
    batch.writes.push(w)
    return batch.done
  }

  #commitNext(): void {
    const batch = this.#open
    if (!batch || this.#committing) return
    this.#open = undefined
    this.#serial(() => this.#commit(batch))
  }

  /** Runs `step` on the writing client once what runs there now is done: one statement stream, in call order. */
  #serial(step: () => Promise<void>): void {
    const run: Promise<void> = (this.#committing ?? Promise.resolve())
      .then(step)
      .catch(() => {}) // a step settles its own writes: nothing may reject here unhandled
      .finally(() => {
        if (this.#committing !== run) return
        this.#committing = undefined
        this.#commitNext()
      })
    this.#committing = run
  }

  async #commit(batch: Batch): Promise<void> {
    if (this.#fault) return this.#refuse(batch, storeUnavailable(this.#fault))
    const owed = new Map(this.#unremoved)
    try {
      await this.#db.commit(netEffect(batch.writes, owed), this.#fence)
    } catch (e) {
      if (isFlrError(e, 'NOT_LEADER')) {
        this.#lostLeadership()
        return this.#refuse(batch, e)
      }
      return this.#refuse(batch, this.#failed(e))
    }
    for (const lease of owed.keys()) this.#unremoved.delete(lease)
    this.#commits++
    this.#writes += batch.writes.length
    batch.resolve()
  }

  /** A failed commit rejects each of its writes; its removals are owed. */
  #refuse(batch: Batch, error: unknown): void {
    if (this.#fault) for (const w of batch.writes) if ('remove' in w) this.#unremoved.set(w.remove, w.end)
    batch.reject(error)
  }

  async #settled(): Promise<void> {
    for (; this.#committing || this.#open; this.#commitNext()) await this.#committing
  }

  /** [HA-3] the database refused this node's term: nothing it owed is its to write any more. */
  #lostLeadership(): void {
    this.#unremoved.clear()
    try {
      this.#fence?.lost()
    } catch {
      // the leadership's own trouble must not turn a refused write into an unhandled error
    }
  }

  // ---- [LEASE-10] the database cannot be reached, and then can again ----

  #failed(cause: unknown): FlrError {
    const fault = this.#fault ?? classifyPgFault(this.where, this.#url, cause, new Date().toISOString())
    if (!this.#fault) {
      this.#fault = fault
      this.#notify('fault', fault)
    }
    this.#scheduleProbe(this.#probeIntervalMs)
    return storeUnavailable(fault)
  }

  #scheduleProbe(delayMs: number): void {
    if (this.#probeTimer !== undefined || this.#closing) return
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined
      this.#serial(() => this.#probe())
    }, delayMs)
    this.#probeTimer.unref()
  }

  /**
   * Commits the owed removals (fenced, like any write), or just asks the writing connection a
   * `SELECT 1` when none is owed. Success ends the fault; a refused term ends what was owed.
   */
  async #probe(): Promise<void> {
    if (this.#closing) return
    const owed = new Map(this.#unremoved)
    try {
      if (owed.size > 0) await this.#db.commit(netEffect([], owed), this.#fence)
      else await this.#db.ping()
    } catch (e) {
      if (isFlrError(e, 'NOT_LEADER')) this.#lostLeadership()
      else {
        const fault = classifyPgFault(this.where, this.#url, e, this.#fault?.since ?? new Date().toISOString())
        if (fault.kind !== this.#fault?.kind) {
          this.#fault = fault
          this.#notify('fault', fault)
        }
        return this.#scheduleProbe(this.#probeIntervalMs)
      }
    }
    for (const lease of owed.keys()) this.#unremoved.delete(lease)
    const ended = this.#fault
    this.#fault = undefined
    if (ended) this.#notify('recovered', ended)
  }

  #notify(event: 'fault' | 'recovered', fault: StoreFault): void {
    try {
      this.#listener?.[event](fault)
    } catch {
      // a listener (the log) that fails must not turn a handled failure into an unhandled one
    }
  }
}
