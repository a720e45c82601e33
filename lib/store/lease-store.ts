// The durable lease store: one LMDB file in the state directory. [LEASE-7] a put or remove
// resolves only once its transaction is flushed to disk; [LEASE-8] load() gives back what
// was acknowledged; [LEASE-9] the file is bound to a host id and refused, never wiped,
// when it belongs to another host or is damaged.
import fs from 'node:fs'
import path from 'node:path'
import { open, type Database, type RootDatabase } from 'lmdb'
import { FlrError } from '../errors.js'
import type { LeaseRecord, LeaseStore } from '../engine/types.js'
import { MAX_TABLES, STORE_TABLES } from './store-layout.js'
import { damaged, fileIdentity, screenStoreFile, STORE_FILE, type StoreScreen } from './store-screen.js'
import {
  decodeMeta,
  encodeMeta,
  leaseValueCodec,
  recordOf,
  STORE_FORMAT,
  tupleOf,
  Undecodable,
  type LeaseTuple,
  type StoreMeta,
} from './record-codec.js'

export { STORE_FILE }
const META_KEY = 'store'

export interface LeaseStoreOptions {
  stateDir: string
  hostId: string
  /** a screen of the file made earlier (screenStore); used if the file has not changed since */
  screened?: Promise<StoreScreen>
}

type MetaTable = Database<Buffer, string>
type LeaseTable = Database<LeaseTuple | Undecodable, string>

/** Opens (or creates) the store of `stateDir` for `hostId`; rejects STORE_WRONG_HOST or STORE_DAMAGED. */
export async function openLeaseStore(opts: LeaseStoreOptions): Promise<LmdbLeaseStore> {
  const stateDir = path.resolve(opts.stateDir)
  const file = path.join(stateDir, STORE_FILE)
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  const existed = await screen(file, opts.screened)
  const env = openEnv(file)
  try {
    const tables = existed ? await openExisting(env, file, opts.hostId) : await createTables(env, opts.hostId)
    const restored = readLeases(tables.leases, file)
    return new LmdbLeaseStore(env, tables, file, opts.hostId, restored)
  } catch (e) {
    await env.close()
    throw e
  }
}

export class LmdbLeaseStore implements LeaseStore {
  readonly file: string
  readonly hostId: string
  readonly #env: RootDatabase
  readonly #meta: MetaTable
  readonly #leases: LeaseTable
  #snapshot: LeaseRecord[] | undefined
  #writeError: Error | undefined
  #closing: Promise<void> | undefined
  /** the last write's commit, and the promise its writes were given */
  #commit: { committed: Promise<unknown>; durable: Promise<void> } | undefined

  /** Use openLeaseStore. */
  constructor(env: RootDatabase, tables: Tables, file: string, hostId: string, snapshot: LeaseRecord[]) {
    this.#env = env
    this.#meta = tables.meta
    this.#leases = tables.leases
    this.file = file
    this.hostId = hostId
    this.#snapshot = snapshot
  }

  /** [LEASE-7] resolves once the record is on disk (committed and flushed). */
  put(record: LeaseRecord): Promise<void> {
    // a record that would not decode again would make the next start refuse the store
    const tuple = tupleOf(record)
    const invalid = typeof record.lease === 'string' && record.lease !== '' ? leaseValueCodec.check(tuple) : 'has no lease id'
    if (invalid) return Promise.reject(new TypeError(`not storing lease ${String(record.lease)}: it ${invalid}`))
    return this.#durable(() => this.#leases.put(record.lease, tuple))
  }

  /** [LEASE-7] resolves once the removal is on disk; removing an unknown lease is not an error. */
  remove(lease: string): Promise<void> {
    return this.#durable(() => this.#leases.remove(lease))
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

  /** [HTTP-1] a cheap read proving the store answers, and no write has failed since the last success. */
  healthy(): boolean {
    if (this.#closing || this.#writeError) return false
    try {
      const bytes = this.#meta.getBinary(META_KEY)
      if (!bytes) return false
      const meta = decodeMeta(bytes)
      return meta.ok && meta.value.hostId === this.hostId
    } catch {
      return false
    }
  }

  /** [SRV-8] waits for every write issued so far to be on disk, then closes the file. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#env.flushed
      await this.#env.close()
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
  #durable(write: () => Promise<boolean>): Promise<void> {
    if (this.#closing) return Promise.reject(new Error(`the lease store ${this.file} is closed`))
    this.#snapshot = undefined // the records read at open no longer tell the whole story
    let committed: Promise<boolean> & { flushed?: Promise<unknown> }
    try {
      committed = write()
    } catch (e) {
      return this.#failed(e)
    }
    if (this.#commit?.committed !== committed) {
      const flushed = committed.flushed ?? committed
      const durable = (flushed === committed ? committed : committed.then(() => flushed)).then(this.#written, this.#failed)
      this.#commit = { committed, durable }
    }
    return this.#commit.durable
  }

  readonly #written = (): void => {
    this.#writeError = undefined
  }

  readonly #failed = (e: unknown): Promise<never> => {
    this.#writeError = e as Error
    return Promise.reject(e)
  }
}

interface Tables {
  meta: MetaTable
  leases: LeaseTable
}

// overlappingSync (lmdb-js's default on Linux) lets a commit become visible before its
// fsync and, if that fsync fails, leaves the flush promise pending forever; a plain synced
// commit rejects instead. Measured here it was also no slower under 256 concurrent writers.
// lmdb-js starts with a 128 KiB map and grows it by mapping the file again at twice the
// size, and the smaller maps stay resident: 100,000 leases (a 25 MB file) held 66 MB of
// RSS. A 1 GiB map (about 4 million leases; lmdb-js still grows past it) is address space
// only: without a write map, the file grows only as pages are written.
const MAP_SIZE = 2 ** 30

function openEnv(file: string): RootDatabase {
  try {
    return open({ path: file, noSubdir: true, maxDbs: MAX_TABLES, overlappingSync: false, separateFlushed: true, mapSize: MAP_SIZE })
  } catch (e) {
    throw lmdbFailure(file, 'open', e)
  }
}

// LMDB's own error codes are negative (MDB_CORRUPTED, MDB_INVALID…): the file is bad. A
// positive one is an errno (EACCES, EIO, ENOSPC): the file may be fine, so telling the
// operator to move it aside would be wrong advice.
function lmdbFailure(file: string, verb: 'open' | 'read', e: unknown): Error {
  const { code, message } = e as { code?: unknown; message?: string }
  if (typeof code === 'number' && code > 0) return new Error(`cannot ${verb} the lease store ${file}: ${message}`)
  return damaged(file, `LMDB cannot ${verb} it: ${message ?? String(e)}`)
}

/**
 * [LEASE-9] Whether the file existed, once it has passed the screen (store-screen.ts). An
 * earlier screen of the very same file, unchanged since, stands; otherwise it is screened now.
 */
async function screen(file: string, early: Promise<StoreScreen> | undefined): Promise<boolean> {
  const screened = await early
  if (screened?.file === file && screened.identity !== undefined && screened.identity === fileIdentity(file)) {
    if (screened.error !== undefined) throw screened.error
    return screened.identity !== null
  }
  return screenStoreFile(file)
}

async function openExisting(env: RootDatabase, file: string, hostId: string): Promise<Tables> {
  checkFileLength(env, file)
  const leases = existing(() => openLeaseTable(env, false))
  const meta = existing(() => openMetaTable(env, false))
  const metaBytes = meta?.getBinary(META_KEY)
  if (!metaBytes) {
    if (leases && leases.getKeysCount({ limit: 1 }) > 0) {
      throw damaged(file, 'its meta entry is missing but it holds leases')
    }
    // A first start that stopped between creating the file and writing the meta entry:
    // there is nothing in it to lose, so finish creating it.
    return createTables(env, hostId)
  }
  const decoded = decodeMeta(metaBytes)
  if (!decoded.ok) throw damaged(file, decoded.reason)
  if (!leases || !meta) throw damaged(file, 'its leases table is missing')
  if (decoded.value.hostId !== hostId) throw wrongHost(file, decoded.value, hostId)
  return { meta, leases }
}

// LMDB maps the file: a page past its end is a SIGBUS on the first write that touches it.
function checkFileLength(env: RootDatabase, file: string): void {
  const stats = env.getStats() as { pageSize: number; lastPageNumber: number }
  const needed = (stats.lastPageNumber + 1) * stats.pageSize
  const size = fs.statSync(file).size
  if (size < needed) throw damaged(file, `it is ${size} bytes long, its own index needs ${needed}`)
}

// `create: false` (known to lmdb-js, missing from its types) when opening an existing
// store: that must not write to it.
function openMetaTable(env: RootDatabase, create: boolean): MetaTable {
  const options = { name: STORE_TABLES.meta, encoding: 'binary' as const, create }
  return env.openDB<Buffer, string>(options)
}

function openLeaseTable(env: RootDatabase, create: boolean): LeaseTable {
  const options = { name: STORE_TABLES.leases, encoder: leaseValueCodec, create }
  return env.openDB<LeaseTuple | Undecodable, string>(options)
}

/** lmdb-js throws when a table is not there and must not be created. */
function existing<T>(openTable: () => T): T | undefined {
  try {
    return openTable()
  } catch {
    return undefined
  }
}

// The leases table is created before the meta entry, so "meta present" implies a complete
// store; the meta entry is durable before the store is used.
async function createTables(env: RootDatabase, hostId: string): Promise<Tables> {
  const leases = openLeaseTable(env, true)
  const meta = openMetaTable(env, true)
  const stored: StoreMeta = { format: STORE_FORMAT, hostId, createdAt: new Date().toISOString() }
  const committed: Promise<boolean> & { flushed?: Promise<unknown> } = meta.put(META_KEY, encodeMeta(stored))
  await committed
  await committed.flushed
  return { meta, leases }
}

// LMDB has no page checksums: a page overwritten with garbage can read back as fewer
// entries without any error. The tree's own entry count, kept apart from the leaf pages,
// catches that, so a damaged store is never restored with leases silently missing.
function readLeases(leases: LeaseTable, file: string): LeaseRecord[] {
  const records: LeaseRecord[] = []
  let expected: number
  try {
    expected = entryCount(leases)
    for (const { key, value } of leases.getRange()) {
      if (typeof key !== 'string') throw damaged(file, `a lease key is not a string (${String(key)})`)
      if (value instanceof Undecodable) throw damaged(file, `lease ${key} ${value.reason}`)
      records.push(recordOf(key, value))
    }
  } catch (e) {
    if (e instanceof FlrError) throw e
    throw lmdbFailure(file, 'read', e)
  }
  if (records.length !== expected) {
    throw damaged(file, `its index counts ${expected} leases but ${records.length} can be read`)
  }
  return records
}

function entryCount(table: LeaseTable): number {
  return (table.getStats() as { entryCount: number }).entryCount
}

function wrongHost(file: string, stored: StoreMeta, hostId: string): FlrError {
  const stateDir = path.dirname(file)
  return new FlrError(
    'STORE_WRONG_HOST',
    `the state directory ${stateDir} belongs to host ${stored.hostId} (store created ${stored.createdAt}), ` +
      `but this server is host ${hostId}. If this is the same machine and only its host id changed, ` +
      `start with --host-id ${stored.hostId}; if the directory was copied from another machine, start ` +
      `with a fresh --state-dir on this host. flr never wipes or rewrites it.`,
    { file, storedHostId: stored.hostId, hostId },
  )
}
