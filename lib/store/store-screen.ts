// Screening the store file before LMDB opens it ([LEASE-9]): an empty file (LMDB would make
// it a new store) and a file LMDB cannot read without crashing are refused as STORE_DAMAGED.
// Light on purpose (no lmdb import): `flr serve` starts the screen first, so that the crash
// probe's child process runs while the daemon's own modules load ([LEASE-8] restart time).
import fs from 'node:fs'
import path from 'node:path'
import { FlrError } from '../errors.js'
import { probeStoreFile } from './crash-probe.js'

export const STORE_FILE = 'leases.mdb'

/**
 * A screen made ahead of opening: which file, what it was when screened (null: no file,
 * undefined: it could not be looked at) and the refusal, if any. Never a rejection: it may
 * be made before the state lock, and a refusal is only reported once the lock is held.
 */
export interface StoreScreen {
  readonly file: string
  readonly identity: string | null | undefined
  readonly error?: unknown
}

/** Screens the store of `stateDir` now, for openLeaseStore to use later. */
export async function screenStore(stateDir: string): Promise<StoreScreen> {
  const file = path.join(path.resolve(stateDir), STORE_FILE)
  let identity: string | null | undefined
  try {
    // taken before the probe reads: a file written meanwhile no longer matches
    identity = fileIdentity(file)
    await screenStoreFile(file)
    return { file, identity }
  } catch (error) {
    return { file, identity, error }
  }
}

/** Rejects STORE_DAMAGED if the file is empty or LMDB cannot read it; resolves whether there is one. */
export async function screenStoreFile(file: string): Promise<boolean> {
  const stats = statOrNull(file)
  if (stats === null) return false
  if (stats.size === 0n) throw damaged(file, 'the file is empty')
  const verdict = await probeStoreFile(file)
  if (!verdict.readable) throw damaged(file, verdict.reason)
  return true
}

/** What changes when the file is written to or replaced; null when there is no file. */
export function fileIdentity(file: string): string | null {
  const stats = statOrNull(file)
  return stats && identityOf(stats)
}

function identityOf(stats: fs.BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`
}

function statOrNull(file: string): fs.BigIntStats | null {
  try {
    return fs.statSync(file, { bigint: true })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw e
  }
}

/** [LEASE-9] the message says which file, what is wrong, and what to do; never to delete it. */
export function damaged(file: string, reason: string): FlrError {
  const stateDir = path.dirname(file)
  return new FlrError(
    'STORE_DAMAGED',
    `the lease store ${file} is damaged: ${reason}. flr will not start on it and never wipes it. ` +
      `Either move it aside (keep it for inspection), e.g. mv ${file} ${file}.damaged, and start ` +
      `again: flr creates an empty store; the leases it held are lost and clients lease again. ` +
      `Or put back ${STORE_FILE} from a backup. (Moving the whole state directory ${stateDir} aside ` +
      `works too, but it also holds the admin password.)`,
    { file, stateDir, reason },
  )
}
