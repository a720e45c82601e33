// Files only flr's own user may read: the state directory 0700; the store, logs, password
// file, keys and certificates' keys 0600, whatever the umask, for new and existing ones.
// mkdir's and open's `mode` are narrowed by the umask and ignored for what already exists:
// hence an explicit chmod, and a log line when an existing one had to be tightened.
import { chmodSync, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, statSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'

export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/** what a caller is told when something had to be tightened (the logger may not exist yet) */
export type Tightened = (what: { path: string; was: string; now: string }) => void

/** Creates `dir` (0700) if missing; an existing one wider than 0700 is tightened and reported. */
export function ensurePrivateDir(dir: string, tightened?: Tightened): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
  tighten(dir, PRIVATE_DIR_MODE, tightened)
}

/** An existing file readable or writable beyond its owner is made 0600 and reported; a missing one is left alone. */
export function ensurePrivateFile(path: string, tightened?: Tightened): void {
  tighten(path, PRIVATE_FILE_MODE, tightened)
}

function tighten(path: string, mode: number, tightened?: Tightened): void {
  let was: number
  try {
    was = statSync(path).mode & 0o777
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return
    throw e
  }
  if ((was & ~mode) === 0) return
  chmodSync(path, mode)
  tightened?.({ path, was: octal(was), now: octal(mode) })
}

/** Writes a 0600 file atomically (temporary file, fsync, rename): a crash leaves the old one or the new one. */
export function writePrivateFile(path: string, data: string | Buffer): void {
  const tmp = `${path}.${process.pid}.tmp`
  const fd = openSync(tmp, 'w', PRIVATE_FILE_MODE)
  try {
    // the umask could only narrow the mode; a leftover temporary file could be wider
    chmodSync(tmp, PRIVATE_FILE_MODE)
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
  try {
    const dir = openSync(dirname(path), 'r')
    try {
      fsyncSync(dir)
    } finally {
      closeSync(dir)
    }
  } catch {
    // a directory that cannot be synced (some file systems): the rename is still atomic
  }
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`
}

/**
 * Tightens what is already in `dir` (one level: the state directory and the log directory are
 * flat): files to 0600, directories to 0700. Symbolic links are left alone (chmod would follow them).
 */
export function tightenContents(dir: string, tightened?: Tightened): void {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    const path = join(dir, name)
    const st = lstatSync(path, { throwIfNoEntry: false })
    if (st?.isFile()) tighten(path, PRIVATE_FILE_MODE, tightened)
    else if (st?.isDirectory()) tighten(path, PRIVATE_DIR_MODE, tightened)
  }
}
