// [LEASE-10] What a failed write of the PostgreSQL store means to the operator: the database
// cannot be reached (refused, timed out, cut, shutting down or starting up), is read-only (a
// standby after a failover that the URL still reaches), is full, or failed otherwise; always
// naming where (host:port/db) and the cause, never the password ([HA-1]).
import { causeText } from './pg-url.js'
import type { StoreFault, StoreFaultKind } from './store-fault.js'

// node's socket errors: the database is not there (or not reachable) at all
const UNREACHABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'])

/** Names the cause of a failed write (or probe) of the database at `where`. */
export function classifyPgFault(where: string, url: string, cause: unknown, since: string): StoreFault {
  const code = (cause as { code?: unknown } | null)?.code
  const sqlstate = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
  const errno = typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined
  const detail = causeText(cause, url)
  const fault = (kind: StoreFaultKind, message: string): StoreFault => ({ kind, ...(errno ? { errno } : {}), message, since })
  if (sqlstate === '25006') {
    return fault('read-only', `the database ${where} is read-only (${detail}): point the URL at the primary; flr resumes by itself`)
  }
  if (sqlstate === '53100') {
    return fault('full', `the database ${where} is out of disk space (${detail}): free space on its server; flr resumes by itself`)
  }
  // 08: connection exception; 57P01-57P03: shut down, crashed, starting up; no code: the
  // driver's own "Connection terminated" and timeouts
  if ((errno && UNREACHABLE_ERRNO.has(errno)) || sqlstate?.startsWith('08') || sqlstate?.startsWith('57P') || !code) {
    return fault('unreachable', `the database ${where} cannot be reached (${detail}); flr resumes by itself once it can`)
  }
  return fault('other', `the database ${where} refused the write (${detail}); flr resumes by itself once it can`)
}
