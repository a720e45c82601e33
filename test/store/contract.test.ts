// The lease-store contract (contract.ts) run against every implementation: the LMDB store
// of flr serve, the store that keeps nothing (engine/types.ts memoryStore: tools, engine
// tests, the bench's memory server), the engine tests' ManualStore, acknowledging at once
// and on command, and the PostgreSQL store ([HA-1]) on a real embedded PostgreSQL.
import t from 'tap'
import path from 'node:path'
import { memoryStore } from '../../lib/engine/types.js'
import { openLeaseStore, STORE_FILE } from '../../lib/store/lease-store.js'
import { ManualStore } from '../engine/manual-store.js'
import { storeContract, type OpenedStore } from './contract.js'
import { readFromOtherProcess } from './fixtures.js'
import { openPgLeaseStore } from '../../lib/store/pg-lease-store.js'
import { freshDatabase } from '../helpers/postgres.js'
import { leaseIdsIn } from './pg-fixtures.js'

storeContract(t, {
  name: 'LMDB store',
  keeps: true,
  restarts: true,
  hostBound: true,
  manualDurability: false,
  place: (t) => t.testdir(),
  async open(stateDir: string, hostId: string): Promise<OpenedStore> {
    const store = await openLeaseStore({ stateDir, hostId })
    return {
      store,
      load: () => store.load(),
      settle: () => {},
      close: () => store.close(),
    }
  },
  // another process, reading the file with LMDB directly
  readElsewhere: async (stateDir: string) => (await readFromOtherProcess(path.join(stateDir, STORE_FILE))).leases,
})

storeContract(t, {
  name: 'memoryStore (keeps nothing)',
  keeps: false,
  restarts: false,
  hostBound: false,
  manualDurability: false,
  place: () => undefined,
  open: async () => ({ store: memoryStore, load: () => [], settle: () => {}, close: async () => {} }),
})

for (const auto of [true, false]) {
  storeContract(t, {
    name: `ManualStore (${auto ? 'durable at once' : 'durable on command'})`,
    keeps: true,
    restarts: false,
    hostBound: false,
    manualDurability: !auto,
    place: () => undefined,
    async open(): Promise<OpenedStore> {
      const store = new ManualStore(auto)
      return { store, load: () => [...store.held.values()], settle: () => store.resolveAll(), close: async () => {} }
    },
  })
}

// [HA-1] the PostgreSQL store: a fresh database per test on the file's embedded server; not
// bound to a host (a cluster shares it: [LEASE-9] on PostgreSQL is the fence, pg-schema.ts)
storeContract(t, {
  name: 'PostgreSQL store',
  keeps: true,
  restarts: true,
  hostBound: false,
  manualDurability: false,
  place: (t) => freshDatabase(t),
  async open(url: string, hostId: string): Promise<OpenedStore> {
    const store = await openPgLeaseStore({ url, hostId })
    return { store, load: () => store.load(), settle: () => {}, close: () => store.close() }
  },
  // another connection, reading the table directly
  readElsewhere: (url: string) => leaseIdsIn(url),
})
