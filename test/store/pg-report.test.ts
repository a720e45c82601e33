// [OBS-3] test/report/brute-suite.ts run against the PostgreSQL store: the two stores must answer
// the same report from the same events, every figure held to the brute-force recomputation.
import t from 'tap'
import { openPgLeaseStore } from '../../lib/store/pg-lease-store.js'
import { reportAgreesWithBruteForce } from '../report/brute-suite.js'
import { freshDatabase } from '../helpers/postgres.js'

const HOST = 'Lnx-7Q2M-K4DA-ZP9W-3HXE'

t.test('[OBS-3] on PostgreSQL: report figures equal a brute-force recomputation from the raw events', (t) =>
  reportAgreesWithBruteForce(t, async (t) => openPgLeaseStore({ url: await freshDatabase(t), hostId: HOST })),
)
