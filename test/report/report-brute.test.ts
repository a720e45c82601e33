// [OBS-3] Every figure of the report agrees with a brute-force recomputation from the raw
// events (brute-suite.ts), over random event streams written through the real LMDB store.
import t from 'tap'
import { openLeaseStore } from '../../lib/store/lease-store.js'
import { reportAgreesWithBruteForce } from './brute-suite.js'

const HOST = 'Lnx-7Q2M-K4DA-ZP9W-3HXE'

t.test('[OBS-3] report figures equal a brute-force recomputation from the raw events', (t) =>
  reportAgreesWithBruteForce(t, (t, seed) => openLeaseStore({ stateDir: t.testdir({ [`case-${seed}`]: {} }), hostId: HOST })),
)
