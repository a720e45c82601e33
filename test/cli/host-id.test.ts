import t from 'tap'
import { run } from '../../lib/cli/main.js'
import { HOST_ID_PATTERN, computeHostId } from '../../lib/lpf/host-id.js'
import { terminal } from '../lpf/helpers.js'

t.test('[HOST-1] flr host-id prints this host id and exits 0', async (t) => {
  const c = terminal()
  t.equal(await run(['host-id'], c.io), 0)
  t.equal(c.stdout(), computeHostId())
  t.match(c.stdout(), HOST_ID_PATTERN)
  t.equal(c.stderr(), '')
})

t.test('[HOST-1] flr host-id --json', async (t) => {
  const c = terminal()
  t.equal(await run(['host-id', '--json'], c.io), 0)
  t.same(JSON.parse(c.stdout()), { hostId: computeHostId(), overridden: false })
})

t.test('[HOST-2] FLR_HOST_ID overrides it, and the command says so', async (t) => {
  const c = terminal({ FLR_HOST_ID: 'Lnx-TEST-TEST-TEST-TEST' })
  t.equal(await run(['host-id'], c.io), 0)
  t.equal(c.stdout(), 'Lnx-TEST-TEST-TEST-TEST')
  t.match(c.stderr(), /comes from FLR_HOST_ID/)
  const j = terminal({ FLR_HOST_ID: 'Lnx-TEST-TEST-TEST-TEST' })
  t.equal(await run(['host-id', '--json'], j.io), 0)
  t.same(JSON.parse(j.stdout()), { hostId: 'Lnx-TEST-TEST-TEST-TEST', overridden: true })
})

t.test('[HOST-2] a malformed FLR_HOST_ID is a usage error (exit 2) that shows the format', async (t) => {
  const c = terminal({ FLR_HOST_ID: 'server-1' })
  t.equal(await run(['host-id'], c.io), 2)
  t.match(c.stderr(), /^flr: USAGE: FLR_HOST_ID "server-1" is not a host id: a host id looks like Lnx-/)
  t.equal(c.stdout(), '')
})

t.test('flr host-id --help exits 0 with examples', async (t) => {
  const c = terminal()
  t.equal(await run(['host-id', '--help'], c.io), 0)
  t.match(c.stdout(), /Usage: flr host-id[\s\S]*--json[\s\S]*Examples:\n  flr host-id/)
})
