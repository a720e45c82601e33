// The lease store's layout inside its LMDB file: the named tables and how many an
// environment is opened for. One declaration, read by the store (lease-store.ts) and by the
// crash probe's child (crash-probe.ts), which must read exactly the tables the store writes.

/** The named tables of format 1 (record-codec.ts): the store's meta entry, and one record per lease. */
export const STORE_TABLES = { meta: 'meta', leases: 'leases' } as const

/**
 * [OBS-2] [OBS-3] the usage history (history-codec.ts), in the same file so that a lease and its
 * history event share one transaction: events by time, the report's rollups by day and pack,
 * and its checkpoints by day. The crash probe does not read them page by page: a year of
 * history is a gigabyte, and a restart must not wait for it; a damaged history page fails a
 * report, not the restore of the leases.
 */
export const HISTORY_TABLES = { events: 'history-events', rollups: 'history-rollups', checkpoints: 'history-checkpoints' } as const

/** LMDB's maxDbs: room for the tables above, and for a later format's. */
export const MAX_TABLES = 8
