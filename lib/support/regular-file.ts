// Reads a file for the support bundle only if it is what its name says: a regular file in the
// directory named, not a way to another file. A symbolic link planted in the log directory once
// put the admin password hash into a bundle ([ADM-2]); a FIFO would hang the bundle; a device
// may act when opened; a hard link is another name of some other file.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs'

export type Refusal = string

/**
 * The file's bytes (the last `tail` bytes when it is longer: `cut`), or why it was left out.
 * lstat judges the name without following it; the open refuses a symbolic link that replaced the
 * file meanwhile (O_NOFOLLOW) and never waits on a FIFO (O_NONBLOCK); fstat then checks that what
 * was opened is the very file judged.
 */
export function readRegularFile(path: string, tail?: number): { data: Buffer; cut: boolean } | { refused: Refusal } | undefined {
  let named: Stats
  try {
    named = lstatSync(path)
  } catch {
    return undefined // not there: nothing to say
  }
  const refusal = judge(named)
  if (refusal) return { refused: refusal }
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (e) {
    return { refused: `cannot be opened (${(e as NodeJS.ErrnoException).code ?? String(e)})` }
  }
  try {
    const opened = fstatSync(fd)
    if (opened.dev !== named.dev || opened.ino !== named.ino) return { refused: 'was replaced while the bundle was made' }
    const again = judge(opened)
    if (again) return { refused: again }
    return { data: readTail(fd, opened.size, tail), cut: tail !== undefined && opened.size > tail }
  } catch (e) {
    return { refused: `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})` }
  } finally {
    closeSync(fd)
  }
}

function judge(s: Stats): Refusal | undefined {
  if (s.isSymbolicLink()) return 'a symbolic link: left out (support bundles take regular files only)'
  if (!s.isFile()) return 'not a regular file: left out'
  if (s.nlink !== 1) return `a regular file with ${s.nlink} names (hard links): left out, it may be another file`
  return undefined
}

/** The last `tail` bytes of the file (all of it when shorter), read from the descriptor already checked. */
function readTail(fd: number, size: number, tail?: number): Buffer {
  const length = tail !== undefined && size > tail ? tail : size
  const data = Buffer.alloc(length)
  let done = 0
  while (done < length) {
    const n = readSync(fd, data, done, length - done, size - length + done)
    if (n === 0) break // the file shrank meanwhile (truncated by a rotation)
    done += n
  }
  return data.subarray(0, done)
}
