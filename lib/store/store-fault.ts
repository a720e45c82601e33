// [LEASE-10] What a failed write of the lease store means to the operator: the cause (the
// file system is full, reports an I/O error, is read-only, or something else) and the place,
// in one sentence that says what to do.
import fs from 'node:fs'
import { constants as osConstants } from 'node:os'
import path from 'node:path'
import { FlrError } from '../errors.js'

// 'unreachable': a database store ([HA-1]) that cannot be reached
export type StoreFaultKind = 'full' | 'io' | 'read-only' | 'unreachable' | 'other'

export interface StoreFault {
  kind: StoreFaultKind
  /** the errno name when one is known (EIO, ENOSPC, EROFS…) */
  errno?: string
  /** cause, place and what to do, for the log, health and every refusal */
  message: string
  /** ISO time of the first failed write of this outage */
  since: string
}

/** Told once when the store stops writing (or its cause changes) and once when it writes again. */
export interface StoreFaultListener {
  fault(fault: StoreFault): void
  recovered(fault: StoreFault): void
}

// Below this much free space a file system counts as full: LMDB writes whole pages, and a
// write cut short by a full disk is reported by LMDB as EIO, not ENOSPC (measured on tmpfs).
const FULL_BELOW_BYTES = 1024 * 1024

/** Names the cause of a failed write of `file` (the errno, refined by looking at its file system). */
export function classifyFault(file: string, cause: unknown, since: string): StoreFault {
  const dir = path.dirname(file)
  const errno = errnoOf(cause)
  const fault = (kind: StoreFaultKind, message: string): StoreFault => ({ kind, ...(errno ? { errno } : {}), message, since })
  if (errno === 'EROFS' || (errno !== 'ENOSPC' && isReadOnly(dir))) {
    return fault('read-only', `the file system of ${dir} is read-only: make it writable again (check it first if the kernel made it read-only after errors); flr resumes by itself`)
  }
  if (errno === 'ENOSPC' || errno === 'EDQUOT' || isFull(dir)) {
    return fault('full', `the file system of ${dir} is full: free space there; flr resumes by itself`)
  }
  if (errno === 'EIO') {
    return fault('io', `the file system of ${dir} reports an I/O error writing ${file}: check the disk (dmesg); flr resumes by itself once it can write there again`)
  }
  const detail = cause instanceof Error ? cause.message : String(cause)
  return fault('other', `the lease store ${file} cannot be written (${detail}); flr resumes by itself once it can`)
}

/**
 * The file system of `file` as a probe sees it before trying to write: still read-only, or
 * still (nearly) full. A probe's small write can land in pages LMDB already has while grants
 * still fail; without this the fault would end and start again with every probe.
 */
export function fileSystemStillBroken(file: string): { code: string } | undefined {
  const dir = path.dirname(file)
  if (isReadOnly(dir)) return { code: 'EROFS' }
  if (isFull(dir)) return { code: 'ENOSPC' }
  return undefined
}

/** [LEASE-10] the refusal of a grant or release while the store cannot write */
export function storeUnavailable(fault: StoreFault): FlrError {
  return new FlrError('STORE_UNAVAILABLE', `grants and releases cannot be recorded: ${fault.message}`, { fault: fault.kind, since: fault.since })
}

const COMMIT_CAUSE_WAIT_MS = 1_000

/**
 * lmdb-js rejects each write of a failed commit with a generic "Commit failed" whose
 * `commitError` is a second promise, rejected with the real error (EIO, EROFS…). Nothing in
 * lmdb-js handles that promise (kriszyp/lmdb-js#368): it must be handled here, or it is an
 * unhandled rejection that ends the process. Resolves with the real error, or `e` itself.
 */
export function commitCause(e: unknown): Promise<unknown> {
  const commitError = (e as { commitError?: unknown } | null)?.commitError
  if (!(commitError instanceof Promise)) return Promise.resolve(e)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(e), COMMIT_CAUSE_WAIT_MS)
    timer.unref()
    commitError.then(
      () => (clearTimeout(timer), resolve(e)),
      (cause: unknown) => (clearTimeout(timer), resolve(cause)),
    )
  })
}

const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]))

/** lmdb-js gives an errno as a number `code`; Node's fs as a string one. */
function errnoOf(cause: unknown): string | undefined {
  const code = (cause as { code?: unknown } | null)?.code
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code
  if (typeof code === 'number' && code > 0) return ERRNO_NAMES.get(code)
  return undefined
}

function isFull(dir: string): boolean {
  try {
    const s = fs.statfsSync(dir)
    return s.bavail * s.bsize < FULL_BELOW_BYTES
  } catch {
    return false
  }
}

function isReadOnly(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK)
    return false
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EROFS'
  }
}
