// [SRV-2] Reading `<hostId>.lp` for the license keeper: its bytes, their digest and when they
// were last written, or nothing when there is no file.
import { createHash } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { FlrError } from '../errors.js'

export interface LpfFile {
  data: Buffer
  /** SHA-256 (hex) of data: tells a changed file from a re-saved one */
  digest: string
  /** wall time of the last write */
  mtimeMs: number
}

/** The file at `path`; undefined when there is none; LPF_MISSING (unreadable) when it cannot be read. */
export async function readLpfFile(path: string): Promise<LpfFile | undefined> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw unreadable(path, e)
  }
  try {
    // one handle for both: the time and the bytes are those of the same file
    const { mtimeMs } = await handle.stat()
    const data = await handle.readFile()
    return { data, mtimeMs, digest: createHash('sha256').update(data).digest('hex') }
  } catch (e) {
    throw unreadable(path, e)
  } finally {
    await handle.close()
  }
}

/** A file that is there but cannot be read: rejected like a bad file, the LPF in force stays ([SRV-2]). */
function unreadable(path: string, e: unknown): FlrError {
  const why = (e as NodeJS.ErrnoException).code ?? String(e)
  return new FlrError('LPF_MISSING', `${path} cannot be read (${why}); make it a regular file readable by the user flr serve runs as`)
}

/** [SRV-1] the `*.lp` files in `dir` other than `fileName`: an LPF saved under another name */
export function misnamedLpfs(dir: string, fileName: string): string[] {
  try {
    return readdirSync(dir).filter((name) => name.endsWith('.lp') && name !== fileName).sort()
  } catch {
    return []
  }
}
