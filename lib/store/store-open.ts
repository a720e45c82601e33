// Opening the LMDB file of the lease store, and the checks that refuse a file that is not
// this host's store or is damaged ([LEASE-9]); also used to reopen it after a write failure
// ([LEASE-10]).
import fs from 'node:fs'
import path from 'node:path'
import { open, type Database, type RootDatabase } from 'lmdb'
import { FlrError } from '../errors.js'
import type { LeaseRecord } from '../engine/types.js'
import { commitCause } from './store-fault.js'
import { MAX_TABLES, STORE_TABLES } from './store-layout.js'
import { damaged, fileIdentity, screenStoreFile, type StoreScreen } from './store-screen.js'
import {
  decodeMeta,
  encodeMeta,
  leaseValueCodec,
  recordOf,
  STORE_FORMAT,
  Undecodable,
  type LeaseTuple,
  type StoreMeta,
} from './record-codec.js'

export const META_KEY = 'store'

export type MetaTable = Database<Buffer, string>
export type LeaseTable = Database<LeaseTuple | Undecodable, string>

export interface Tables {
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
// eventTurnBatching (on by default) makes lmdb-js issue a write of its own at the end of
// each event turn; when that commit fails, the promise of that write is rejected with
// nobody to handle it, and the process ends ([LEASE-10]). Without it, lmdb-js starts a
// commit from setImmediate, or as soon as more than txnStartThreshold writes wait; with
// that threshold out of reach, the writes of one event turn share one commit again (group
// commit, test/store/lease-store.test.ts), and 256 concurrent writers were no slower.
const MAP_SIZE = 2 ** 30

export function openEnv(file: string): RootDatabase {
  try {
    return open({
      path: file,
      noSubdir: true,
      maxDbs: MAX_TABLES,
      overlappingSync: false,
      separateFlushed: true,
      eventTurnBatching: false,
      txnStartThreshold: Number.MAX_SAFE_INTEGER,
      mapSize: MAP_SIZE,
    } as Parameters<typeof open>[0])
  } catch (e) {
    throw lmdbFailure(file, 'open', e)
  }
}

// LMDB's own error codes are negative (MDB_CORRUPTED, MDB_INVALID…): the file is bad. A
// positive one is an errno (EACCES, EIO, ENOSPC): the file may be fine, so telling the
// operator to move it aside would be wrong advice.
export function lmdbFailure(file: string, verb: 'open' | 'read', e: unknown): Error {
  const { code, message } = e as { code?: unknown; message?: string }
  if (typeof code === 'number' && code > 0) return Object.assign(new Error(`cannot ${verb} the lease store ${file}: ${message}`), { code })
  return damaged(file, `LMDB cannot ${verb} it: ${message ?? String(e)}`)
}

/**
 * [LEASE-9] Whether the file existed, once it has passed the screen (store-screen.ts). An
 * earlier screen of the very same file, unchanged since, stands; otherwise it is screened now.
 */
export async function screen(file: string, early: Promise<StoreScreen> | undefined): Promise<boolean> {
  const screened = await early
  if (screened?.file === file && screened.identity !== undefined && screened.identity === fileIdentity(file)) {
    if (screened.error !== undefined) throw screened.error
    return screened.identity !== null
  }
  return screenStoreFile(file)
}

/** `mayFinish`: a store whose meta entry was never written may be finished now (a first start only). */
export async function openExisting(env: RootDatabase, file: string, hostId: string, mayFinish = true): Promise<Tables> {
  checkFileLength(env, file)
  const leases = existing(() => openLeaseTable(env, false))
  const meta = existing(() => openMetaTable(env, false))
  const metaBytes = meta?.getBinary(META_KEY)
  if (!metaBytes) {
    if (leases && leases.getKeysCount({ limit: 1 }) > 0) {
      throw damaged(file, 'its meta entry is missing but it holds leases')
    }
    // A first start that stopped between creating the file and writing the meta entry:
    // there is nothing in it to lose, so finish creating it. Not on a reopen: a file that
    // lost its meta entry while the server ran is not this store any more.
    if (!mayFinish) throw damaged(file, 'its meta entry is missing')
    return createTables(env, hostId, file)
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
export async function createTables(env: RootDatabase, hostId: string, file: string): Promise<Tables> {
  const leases = openLeaseTable(env, true)
  const meta = openMetaTable(env, true)
  const stored: StoreMeta = { format: STORE_FORMAT, hostId, createdAt: new Date().toISOString() }
  const committed: Promise<boolean> & { flushed?: Promise<unknown> } = meta.put(META_KEY, encodeMeta(stored))
  try {
    await committed
    await committed.flushed
  } catch (e) {
    // [LEASE-10] the real cause (ENOSPC, EROFS…), and no unhandled rejection behind it
    const cause = await commitCause(e)
    throw new Error(`cannot create the lease store ${file}: ${cause instanceof Error ? cause.message : String(cause)}`)
  }
  return { meta, leases }
}

// LMDB has no page checksums: a page overwritten with garbage can read back as fewer
// entries without any error. The tree's own entry count, kept apart from the leaf pages,
// catches that, so a damaged store is never restored with leases silently missing.
export function readLeases(leases: LeaseTable, file: string): LeaseRecord[] {
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

export function entryCount(table: LeaseTable): number {
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
