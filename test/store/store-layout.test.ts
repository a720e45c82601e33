// The crash probe (lib/store/crash-probe.ts) must read every table the store writes: both
// take the names from lib/store/store-layout.ts, and this holds that list to the file.
import t from 'tap'
import path from 'node:path'
import { open } from 'lmdb'
import { openLeaseStore, STORE_FILE } from '../../lib/store/lease-store.js'
import { HISTORY_TABLES, MAX_TABLES, STORE_TABLES } from '../../lib/store/store-layout.js'
import { probeStoreFile } from '../../lib/store/crash-probe.js'
import { leaseRecord } from './fixtures.js'

const HOST = 'Lnx-7Q2M-K4DA-ZP9W-3HXE'

t.test('[LEASE-9] the named tables in a written store are exactly the layout the crash probe reads', async (t) => {
  const stateDir = t.testdir()
  const store = await openLeaseStore({ stateDir, hostId: HOST })
  await store.put(leaseRecord(1))
  await store.close()
  const file = path.join(stateDir, STORE_FILE)
  // the root table of an LMDB environment holds one key per named table
  const env = open({ path: file, noSubdir: true, readOnly: true, maxDbs: MAX_TABLES })
  const names = [...env.getKeys()].map(String).sort()
  await env.close()
  // [OBS-2] the history tables are left out of the probe's page-by-page read (store-layout.ts says why)
  t.same(names, [...Object.values(STORE_TABLES), ...Object.values(HISTORY_TABLES)].sort(), 'every table the store wrote is one the probe reads or the history, and no other')
  t.same(await probeStoreFile(file), { readable: true }, 'and the probe reads them all')
})
