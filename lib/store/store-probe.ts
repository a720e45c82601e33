// [LEASE-10] the parts of the lease store that find out, after a failed write, whether it can
// write again: the probe write itself, reopening a file closed for repair, closing it quietly,
// and reading a commit's real outcome. Split from lease-store.ts (issue 12) so that the store's
// write path and its recovery path can each be read whole; the store keeps the state and the
// timer, this module only acts on what it is handed.
import fs from 'node:fs'
import type { RootDatabase } from 'lmdb'
import { commitCause, fileSystemStillBroken } from './store-fault.js'
import { fileIdentity, screenStoreFile } from './store-screen.js'
import { META_KEY, openEnv, openExisting, type Tables } from './store-open.js'

/** While the store cannot write, how often it tries again (a write of its own meta entry). */
export const PROBE_INTERVAL_MS = 1_000

export type Committed = Promise<boolean> & { flushed?: Promise<unknown> }

export interface Failure {
  cause: unknown
}

/**
 * Writes the meta entry again (the same bytes) and every owed removal, in one commit, on the
 * tables `open` gives (reopening the file if it was closed). undefined when it all landed,
 * otherwise the real cause of the failure. Never rejects.
 */
export async function probeWrite(
  file: string,
  owed: readonly string[],
  open: () => Promise<Tables>,
  alsoWrite: () => void = () => {},
): Promise<Failure | undefined> {
  try {
    const broken = fileSystemStillBroken(file)
    if (broken) throw broken
    const { meta, leases } = await open()
    const bytes = meta.getBinary(META_KEY)
    if (!bytes) throw new Error(`the meta entry of ${file} is gone`)
    // a copy: lmdb-js may hand out a buffer it reuses
    // one batch: an owed removal and its history end ([OBS-2]) land together
    const committed: Committed = meta.batch(() => {
      meta.put(META_KEY, Buffer.from(bytes))
      for (const lease of owed) leases.remove(lease)
      alsoWrite()
    })
    return await outcome(committed)
  } catch (e) {
    return { cause: await commitCause(e) }
  }
}

/**
 * Opens again a store file closed after a failed probe. A file system mounted again in its
 * place may hold another store, or none: never create one; a file changed since it was closed
 * (`closedIdentity`) is screened first, as at start ([LEASE-9]).
 */
export async function reopenStore(
  file: string,
  hostId: string,
  closedIdentity: string | null | undefined,
): Promise<{ env: RootDatabase; tables: Tables }> {
  if (!fs.existsSync(file)) throw Object.assign(new Error(`${file} is not there`), { code: 'ENOENT' })
  if (fileIdentity(file) !== closedIdentity) await screenStoreFile(file)
  const env = openEnv(file)
  try {
    return { env, tables: await openExisting(env, file, hostId, false) }
  } catch (e) {
    await env.close().catch(() => {})
    throw e
  }
}

/** Closes `env` after its last commit, failed or not; returns the file's identity once closed. */
export async function closeQuietly(env: RootDatabase, file: string): Promise<string | null> {
  // a failed commit rejects `flushed`; lmdb-js still closes the file after it
  await env.flushed.then(
    () => {},
    () => {},
  )
  await env.close().catch(() => {})
  return fileIdentity(file)
}

/** undefined once the write is durable; otherwise the real cause of its failure. Never rejects. */
export function outcome(committed: Committed): Promise<Failure | undefined> {
  const flushed = committed.flushed
  if (flushed !== undefined && flushed !== committed) flushed.then(undefined, () => {})
  const durable = flushed === undefined || flushed === committed ? committed : committed.then(() => flushed)
  return durable.then(
    () => undefined,
    async (e: unknown) => ({ cause: await commitCause(e) }),
  )
}
