// The lease store's layout inside its LMDB file: the named tables and how many an
// environment is opened for. One declaration, read by the store (lease-store.ts) and by the
// crash probe's child (crash-probe.ts), which must read exactly the tables the store writes.

/** The named tables of format 1 (record-codec.ts): the store's meta entry, and one record per lease. */
export const STORE_TABLES = { meta: 'meta', leases: 'leases' } as const

/** LMDB's maxDbs: room for the tables above, and for a later format's. */
export const MAX_TABLES = 4
