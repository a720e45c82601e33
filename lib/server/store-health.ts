// [LEASE-10] What the daemon says about a lease store that cannot write: in the log (once when
// it stops writing, once when it writes again) and in status (what the refusals say, since when).
import type { StatusAnswer } from '../protocol/replies.js'
import type { StoreFault, StoreFaultListener } from '../store/store-fault.js'
import type { Logger } from './logger.js'

/** What is told of a store, LMDB (its file) or PostgreSQL (its host:port/db, never the URL: [HA-1]). */
export interface ObservedStore {
  observe(listener: StoreFaultListener): void
  fault(): StoreFault | undefined
}

export function observeStore(store: ObservedStore & ({ file: string } | { where: string }), log: Logger): void {
  const place = 'file' in store ? store.file : store.where
  store.observe({
    fault: (f) =>
      log.error({ store: place, fault: f.kind, errno: f.errno }, `lease store cannot write; grants and releases are refused until it can: ${f.message}`),
    recovered: (f) => log.info({ store: place, fault: f.kind, since: f.since }, 'lease store writes again; grants and releases resume'),
  })
}

export function storeError(store: ObservedStore): Pick<StatusAnswer, 'storeError'> {
  const fault = store.fault()
  return fault ? { storeError: { code: 'STORE_UNAVAILABLE', message: fault.message, since: fault.since } } : {}
}
