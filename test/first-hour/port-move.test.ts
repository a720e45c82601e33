// The vendor chooses the lease port, and a new LPF may move it ([SRV-5]): commands run on the
// server host find the real port in the state directory's record, with no --server, before and
// after the move; the support bundle records the live status, not "unreachable".
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as tar from 'tar'
import { run } from '../../lib/cli/main.js'
import { setPassword } from '../../lib/admin/password.js'
import { readServeRecord } from '../../lib/server/serve-record.js'
import { dropLpf, freePort, makeDirs, spawnServe } from '../helpers/server.js'
import { PASSWORD, RawClient, eventually, terminal } from '../helpers/admin.js'

/** the machine may be loaded: generous, never a timed assertion */
const LONG = 120_000

const PACKS = [{ name: 'station', limit: 3 }]

t.test('[SRV-5] [SRV-1] status, leases and support-bundle find the port the LPF names, and follow it when it moves', async (t) => {
  const dirs = makeDirs(t)
  const first = await freePort()
  dropLpf(dirs.licenseDir, { port: first, packs: PACKS })
  await setPassword(dirs.stateDir, PASSWORD)
  // a long TTL: the raw client does not renew, and a loaded machine may take minutes here
  const serve = spawnServe(t, dirs, ['--lease-ttl', '1h'])
  await serve.waitForLog(/^LPF loaded: serving/, LONG)
  await eventually(() => readServeRecord(dirs.stateDir)?.leasePort === first, 'the record of the first port', LONG)
  const holder = await RawClient.open(t, first, 'ws-1')
  await holder.request('lease', { pack: 'station' })

  let term = terminal()
  t.equal(await run(['status', '--state-dir', dirs.stateDir], term.io), 0, 'flr status, no --server')
  t.match(term.stdout(), /station\s+3\s+1\s+2/)
  term = terminal({ FLR_ADMIN_PASSWORD: PASSWORD, FLR_STATE_DIR: dirs.stateDir })
  t.equal(await run(['leases', '--json'], term.io), 0, 'flr leases, no --server')
  t.match(JSON.parse(term.stdout()), { leases: [{ pack: 'station', client: 'ws-1' }] })

  // the vendor's new LPF moves the server
  const second = await freePort()
  dropLpf(dirs.licenseDir, { port: second, packs: PACKS })
  await eventually(() => readServeRecord(dirs.stateDir)?.leasePort === second, 'the record of the new port', LONG)
  term = terminal()
  t.equal(await run(['status', '--state-dir', dirs.stateDir, '--json'], term.io), 0, 'flr status after the move')
  t.match(JSON.parse(term.stdout()), { serving: true, listeningPort: second, lpf: { port: second } })
  term = terminal({ FLR_ADMIN_PASSWORD: PASSWORD })
  t.equal(await run(['leases', '--state-dir', dirs.stateDir], term.io), 0, 'flr leases after the move')
  t.match(term.stdout(), /station\s+ws-1/)

  const out = join(dirs.root, 'bundle.tar.gz')
  term = terminal()
  t.equal(await run(['support-bundle', '--state-dir', dirs.stateDir, '--out', out], term.io), 0)
  const unpacked = join(dirs.root, 'unpacked')
  await import('node:fs').then((fs) => fs.mkdirSync(unpacked))
  await tar.x({ file: out, cwd: unpacked })
  const status = JSON.parse(readFileSync(join(unpacked, 'flr-support', 'status.json'), 'utf8'))
  t.notOk(status.unreachable, 'the bundle reached the running server')
  t.match(status, { serving: true, listeningPort: second })
})
