// The durable lease store: one LMDB file in the state directory. [LEASE-7] a put or remove
// resolves only once its transaction is flushed to disk; [LEASE-8] load() gives back what
// was acknowledged; [LEASE-9] the file is bound to a host id and refused, never wiped,
// when it belongs to another host or is damaged; [LEASE-10] a write that fails (disk full,
// I/O error, read-only) is refused with STORE_UNAVAILABLE, never an unhandled rejection,
// and the store finds out by itself when it can write again (the probe: store-probe.ts).
import fs from 'node:fs'
import path from 'node:path'
import type { RootDatabase } from 'lmdb'
import type { LeaseEnd, LeaseRecord, LeaseStore } from '../engine/types.js'
import { LmdbHistory, openHistoryTables } from './history-lmdb.js'
import { tupleOf, leaseValueCodec, decodeMeta } from './record-codec.js'
import { classifyFault, storeUnavailable, type StoreFault, type StoreFaultListener } from './store-fault.js'
import { STORE_FILE, type StoreScreen } from './store-screen.js'
import { closeQuietly, outcome, probeWrite, PROBE_INTERVAL_MS, reopenStore, type Committed } from './store-probe.js'
import {
  createTables,
  entryCount,
  META_KEY,
  openEnv,
  openExisting,
  readLeases,
  screen,
  type LeaseTable,
  type MetaTable,
  type Tables,
} from './store-open.js'

export { STORE_FILE, PROBE_INTERVAL_MS }
export type { StoreFault, StoreFaultListener }

export interface LeaseStoreOptions {
  stateDir: string
  hostId: string
  /** a screen of the file made earlier (screenStore); used if the file has not changed since */
  screened?: Promise<StoreScreen>
  /** [OBS-2] record the usage history (default true; false: leases only, as before) */
  history?: boolean
}

/** Opens (or creates) the store of `stateDir` for `hostId`; rejects STORE_WRONG_HOST or STORE_DAMAGED. */
export async function openLeaseStore(opts: LeaseStoreOptions): Promise<LmdbLeaseStore> {
  const stateDir = path.resolve(opts.stateDir)
  const file = path.join(stateDir, STORE_FILE)
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  const existed = await screen(file, opts.screened)
  const env = openEnv(file)
  try {
    const tables = existed ? await openExisting(env, file, opts.hostId) : await createTables(env, opts.hostId, file)
    const restored = readLeases(tables.leases, file)
    const store = new LmdbLeaseStore(env, tables, file, opts.hostId, restored)
    if (opts.history !== false) store.keepHistory(env)
    return store
  } catch (e) {
    await env.close()
    throw e
  }
}

interface Commit {
  committed: Committed
  durable: Promise<void>
  /** leases removed by this commit (and their ends): to remove again if it fails */
  removes: [string, LeaseEnd | undefined][]
}

export class LmdbLeaseStore implements LeaseStore {
  readonly file: string
  readonly hostId: string
  /** undefined while closed to be reopened ([LEASE-10]) */
  #env: RootDatabase | undefined
  #meta: MetaTable
  #leases: LeaseTable
  #snapshot: LeaseRecord[] | undefined
  #closing: Promise<void> | undefined
  /** the last write's commit, and the promise its writes were given */
  #commit: Commit | undefined
  /** [LEASE-10] set from the first failed write until a probe writes again */
  #fault: StoreFault | undefined
  /** leases whose removal failed (and their ends, [OBS-2]): removed by the probe that ends the fault, before anything else is acknowledged */
  readonly #unremoved = new Map<string, LeaseEnd | undefined>()
  #history: LmdbHistory | undefined
  #listener: StoreFaultListener | undefined
  #probeTimer: NodeJS.Timeout | undefined
  #probing: Promise<void> | undefined
  /** the file as it was when closed for a reopen: a file changed since is screened again */
  #closedIdentity: string | null | undefined

  /** Use openLeaseStore. */
  constructor(env: RootDatabase, tables: Tables, file: string, hostId: string, snapshot: LeaseRecord[]) {
    this.#env = env
    this.#meta = tables.meta
    this.#leases = tables.leases
    this.file = file
    this.hostId = hostId
    this.#snapshot = snapshot
  }

  /** [OBS-2] [OBS-3] the usage history, when kept */
  get history(): LmdbHistory | undefined {
    return this.#history
  }

  /** [OBS-2] from now on, every grant and end is written with the lease (openLeaseStore calls it). */
  keepHistory(env: RootDatabase): void {
    this.#history = new LmdbHistory(openHistoryTables(env), (write) => this.#durable(undefined, undefined, write))
  }

  /** [LEASE-7] resolves once the record is on disk (committed and flushed); [OBS-2] its grant with it. */
  put(record: LeaseRecord, waitedMs = 0): Promise<void> {
    // a record that would not decode again would make the next start refuse the store
    const tuple = tupleOf(record)
    const invalid = typeof record.lease === 'string' && record.lease !== '' ? leaseValueCodec.check(tuple) : 'has no lease id'
    if (invalid) return Promise.reject(new TypeError(`not storing lease ${String(record.lease)}: it ${invalid}`))
    const history = this.#history
    if (!history) return this.#durable(undefined, undefined, () => this.#leases.put(record.lease, tuple))
    return this.#durable(undefined, undefined, () =>
      this.#leases.batch(() => {
        this.#leases.put(record.lease, tuple)
        history.writeGrant(record, waitedMs)
      }),
    )
  }

  /** [LEASE-7] resolves once the removal is on disk; removing an unknown lease is not an error. [OBS-2] its end in the same transaction. */
  remove(lease: string, end?: LeaseEnd): Promise<void> {
    const history = this.#history
    if (!history || !end) return this.#durable(lease, end, () => this.#leases.remove(lease))
    return this.#durable(lease, end, () =>
      this.#leases.batch(() => {
        this.#leases.remove(lease)
        history.writeEnd(end)
      }),
    )
  }

  /** [LEASE-10] the refusal a write would get now (the engine refuses grants and releases with it), or undefined. */
  unavailable(): Error | undefined {
    return this.#fault && storeUnavailable(this.#fault)
  }

  /** [LEASE-10] why the store cannot write, while it cannot. */
  fault(): StoreFault | undefined {
    return this.#fault
  }

  /** [LEASE-10] told once when writes start failing, and once when they work again. */
  observe(listener: StoreFaultListener): void {
    this.#listener = listener
  }

  /** [LEASE-8] every stored lease, for restore at start (the first call reuses the records validated at open). */
  load(): LeaseRecord[] {
    const snapshot = this.#snapshot
    this.#snapshot = undefined
    return snapshot ?? readLeases(this.#leases, this.file)
  }

  /** Number of stored leases (from LMDB's page statistics, no scan). */
  count(): number {
    return entryCount(this.#leases)
  }

  /** [HTTP-1] a cheap read proving the store answers, and that it can write. */
  healthy(): boolean {
    if (this.#closing || this.#fault || !this.#env) return false
    try {
      const bytes = this.#meta.getBinary(META_KEY)
      if (!bytes) return false
      const meta = decodeMeta(bytes)
      return meta.ok && meta.value.hostId === this.hostId
    } catch {
      return false
    }
  }

  /** [SRV-8] waits for every write issued so far to be on disk (or to have failed), then closes the file. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#probeTimer)
      await this.#probing
      await this.#closeEnv()
    })()
    return this.#closing
  }

  // lmdb-js queues every async write of the environment, in call order, into the next
  // transaction: writes issued in the same event turn, or while the previous commit is
  // running, share one commit and one fsync (group commit). The environment is opened
  // without overlappingSync, so a commit returns only after its fsync; the `flushed`
  // promise that separateFlushed hangs on each write is then the commit's own promise, and
  // is waited for anyway (when it is another) so that [LEASE-7] does not depend on that
  // option. lmdb-js gives every write of a transaction the same promise, so they share
  // one here too: a busy server makes one per commit, not one per grant or release.
  #durable(removes: string | undefined, end: LeaseEnd | undefined, write: () => Committed): Promise<void> {
    if (this.#closing) return Promise.reject(new Error(`the lease store ${this.file} is closed`))
    if (this.#fault) {
      // [LEASE-10] nothing reaches the file until a probe has written again; a removal is
      // owed, since the engine has already forgotten the lease (expiry, cleanup)
      if (removes !== undefined) this.#unremoved.set(removes, end)
      return Promise.reject(storeUnavailable(this.#fault))
    }
    this.#snapshot = undefined // the records read at open no longer tell the whole story
    let committed: Committed
    try {
      committed = write()
    } catch (e) {
      if (removes !== undefined) this.#unremoved.set(removes, end)
      return this.#failed(e)
    }
    if (this.#commit?.committed !== committed) {
      const commit: Commit = { committed, durable: undefined!, removes: [] }
      commit.durable = outcome(committed).then((failure) => (failure ? this.#commitFailed(commit, failure.cause) : this.#written()))
      this.#commit = commit
    }
    if (removes !== undefined) this.#commit.removes.push([removes, end])
    return this.#commit.durable
  }

  // [LEASE-8] an earlier commit failed: this one landed, but what it was decided on (a seat
  // freed by a removal that did not land) may not hold, so it is not acknowledged either.
  readonly #written = (): void => {
    if (this.#fault) throw storeUnavailable(this.#fault)
  }

  #commitFailed(commit: Commit, cause: unknown): Promise<never> {
    for (const [lease, end] of commit.removes) this.#unremoved.set(lease, end)
    return this.#failed(cause)
  }

  #failed(cause: unknown): Promise<never> {
    const fault = this.#fault ?? classifyFault(this.file, cause, new Date().toISOString())
    if (!this.#fault) {
      this.#fault = fault
      this.#notify('fault', fault)
    }
    this.#scheduleProbe()
    return Promise.reject(storeUnavailable(fault))
  }

  // ---- [LEASE-10] finding out that the store can write again ----

  #scheduleProbe(): void {
    if (this.#probeTimer !== undefined || this.#probing || this.#closing) return
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined
      this.#probing = this.#probe().finally(() => {
        this.#probing = undefined
        if (this.#fault) this.#scheduleProbe()
      })
    }, PROBE_INTERVAL_MS)
    this.#probeTimer.unref()
  }

  /**
   * Writes the meta entry again (the same bytes) and every owed removal, in one commit. Its
   * success ends the fault. A failure closes the file, so that the admin can unmount and
   * repair the file system; the next probe opens it again, as this host's store or not at all.
   */
  async #probe(): Promise<void> {
    const owed = [...this.#unremoved]
    const failure = await probeWrite(
      this.file,
      owed.map(([lease]) => lease),
      async () => {
        if (!this.#env) await this.#reopen()
        return { meta: this.#meta, leases: this.#leases }
      },
      // [OBS-2] the ends of the owed removals, in the probe's one commit
      () => {
        for (const [, end] of owed) if (end) this.#history?.writeEnd(end)
      },
    )
    if (this.#closing) return
    if (!failure) return this.#recovered(owed)
    const fault = classifyFault(this.file, failure.cause, this.#fault!.since)
    if (fault.kind !== this.#fault!.kind) {
      this.#fault = fault
      this.#notify('fault', fault)
    }
    // a full file system needs no repair, and LMDB writes again on the open file once there
    // is space; for the others the admin may have to unmount the file system
    if (fault.kind !== 'full') await this.#closeEnv()
  }

  #recovered(owed: [string, LeaseEnd | undefined][]): void {
    for (const [lease] of owed) this.#unremoved.delete(lease)
    const fault = this.#fault!
    this.#fault = undefined
    this.#notify('recovered', fault)
    // removals owed since the probe started: issued now, before any later write
    for (const [lease, end] of [...this.#unremoved]) {
      this.#unremoved.delete(lease)
      this.remove(lease, end).catch(() => {}) // failed again: owed again (#durable)
    }
  }

  async #reopen(): Promise<void> {
    const { env, tables } = await reopenStore(this.file, this.hostId, this.#closedIdentity)
    this.#env = env
    this.#meta = tables.meta
    this.#leases = tables.leases
    this.#history?.reopened(openHistoryTables(env))
  }

  async #closeEnv(): Promise<void> {
    const env = this.#env
    this.#env = undefined
    if (!env) return
    this.#closedIdentity = await closeQuietly(env, this.file)
  }

  #notify(event: 'fault' | 'recovered', fault: StoreFault): void {
    try {
      this.#listener?.[event](fault)
    } catch {
      // a listener (the log) that fails must not turn a handled failure into an unhandled one
    }
  }
}
