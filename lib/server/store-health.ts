// [LEASE-10] What the daemon says about a lease store that cannot write: in the log (once when
// it stops writing, once when it writes again) and in status (what the refusals say, since when).
import type { StatusAnswer } from '../protocol/replies.js'
import type { LmdbLeaseStore } from '../store/lease-store.js'
import type { Logger } from './logger.js'

export function observeStore(store: LmdbLeaseStore, log: Logger): void {
  store.observe({
    fault: (f) =>
      log.error({ store: store.file, fault: f.kind, errno: f.errno }, `lease store cannot write; grants and releases are refused until it can: ${f.message}`),
    recovered: (f) => log.info({ store: store.file, fault: f.kind, since: f.since }, 'lease store writes again; grants and releases resume'),
  })
}

export function storeError(store: LmdbLeaseStore): Pick<StatusAnswer, 'storeError'> {
  const fault = store.fault()
  return fault ? { storeError: { code: 'STORE_UNAVAILABLE', message: fault.message, since: fault.since } } : {}
}
