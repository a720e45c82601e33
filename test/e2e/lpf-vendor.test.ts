// [LPF-2] [WIRE-4] [HA-2] A real daemon on real sockets: hello advertises the vendor's grace cap
// (or a shorter --grace), status and `flr status` show the grace, the hosts and the LPF's digest,
// and a cluster LPF on the LMDB store is refused with LPF_NEEDS_SHARED_STORE.
import t from 'tap'
import { createHash } from 'node:crypto'
import { readFileSync, utimesSync } from 'node:fs'
import { run } from '../../lib/cli/main.js'
import { captureLog } from '../helpers/reload.js'
import { HOST_ID, dropLpf, freePort, makeDirs, servePacks, spawnServe, startDaemon } from '../helpers/server.js'
import { terminal } from '../helpers/terminal.js'
import { RawPeer } from '../helpers/wire.js'

const DAY = 86_400_000
const PACKS = [{ name: 'station', limit: 2 }]
const OTHER = 'Lnx-OTHR-HOST-2345-6777'

t.test('[LPF-2] [WIRE-4] hello advertises the LPF\'s grace, or --grace when shorter, never longer', async (t) => {
  const cases: [string, string | undefined, number | undefined, number][] = [
    ['grace="2d", no --grace', '2d', undefined, 2 * DAY],
    ['no grace attribute, --grace 36500d (issue 16)', undefined, 36_500 * DAY, 7 * DAY],
    ['grace="30d", --grace 1h', '30d', 3_600_000, 3_600_000],
  ]
  for (const [name, grace, graceMs, expected] of cases) {
    const dirs = makeDirs(t)
    const port = await freePort()
    dropLpf(dirs.licenseDir, { port, packs: PACKS, grace })
    await startDaemon(t, dirs, { graceMs })
    const peer = await RawPeer.hello(t, port)
    const hello = await peer.call('hello', { protocol: 1, client: 'grace-test' })
    t.equal(hello.graceMs, expected, name)
  }
})

t.test('[LPF-2] a --grace above the LPF\'s is ignored with a warning in the log at start', async (t) => {
  const captured = captureLog('info')
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: PACKS, grace: '3d' })
  const daemon = await startDaemon(t, dirs, { graceMs: 10 * DAY, log: captured.log })
  t.equal(daemon.status().graceMs, 3 * DAY)
  const warnings = captured.matching(/^--grace 10d is ignored: the LPF allows a grace period of at most 3d/)
  t.equal(warnings.length, 1, 'one warning')
  t.match(warnings[0], { level: 40, requestedGraceMs: 10 * DAY, lpfGraceMs: 3 * DAY })
})

t.test('[WIRE-7] status shows the LPF\'s digest (SHA-256 of the file), its hosts and grace; flr status prints them', async (t) => {
  const { port, dirs, daemon } = await servePacks(t, PACKS, { graceMs: DAY })
  const bytes = readFileSync(`${dirs.licenseDir}/${HOST_ID}.lp`)
  const digest = createHash('sha256').update(bytes).digest('hex')
  const peer = await RawPeer.hello(t, port)
  const status = await peer.call('status')
  t.match(status, { serving: true, graceMs: DAY, lpf: { digest, grace: 7 * DAY, hosts: [{ hostId: HOST_ID, port }], hostId: HOST_ID, port } })
  t.equal(daemon.status().lpf!.digest, digest)

  const term = terminal()
  t.equal(await run(['status', '--server', `127.0.0.1:${port}`], term.io), 0)
  t.match(term.stdout(), /^Grace: 1d \(--grace; the LPF allows 7d\): a client cut off from the server keeps using its lease that long$/m)
  t.match(term.stdout(), new RegExp(`^LPF digest: sha256:${digest}$`, 'm'))
  t.notMatch(term.stdout(), /Cluster LPF hosts/, 'a plain LPF lists no cluster')
  const json = terminal()
  t.equal(await run(['status', '--server', `127.0.0.1:${port}`, '--json'], json.io), 0)
  t.match(JSON.parse(json.stdout()), { graceMs: DAY, lpf: { digest, grace: 7 * DAY } })
})

t.test('[HA-2] a cluster LPF on the LMDB store: not served, LPF_NEEDS_SHARED_STORE in status with what to do', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  const file = dropLpf(dirs.licenseDir, { port, packs: PACKS, otherHosts: [{ hostId: OTHER, port: port + 1 }] })
  // written an hour ago: judged at once, not held back as a file that may still be being written ([SRV-2])
  const anHourAgo = new Date(Date.now() - 3_600_000)
  utimesSync(file, anHourAgo, anHourAgo)
  const daemon = await startDaemon(t, dirs)
  const status = daemon.status()
  t.equal(status.serving, false)
  t.match(status.reason, { code: 'LPF_NEEDS_SHARED_STORE', message: /cluster LPF for 2 hosts .*--store postgres:\/\// })
  t.match(status.pendingError, { code: 'LPF_NEEDS_SHARED_STORE' })
  t.equal(daemon.leasePort, undefined, 'no lease port: nothing is served')
})

t.test('[LPF-2] [WIRE-4] flr serve: without --grace the LPF\'s grace is advertised (up to 30d); a longer --grace is ignored and logged', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: PACKS, grace: '30d' })
  const plain = spawnServe(t, dirs)
  await plain.waitForLog(/^LPF loaded: serving$/, 60_000)
  const peer = await RawPeer.hello(t, port)
  t.equal((await peer.call('hello', { protocol: 1, client: 'grace-test' })).graceMs, 30 * DAY, 'no --grace: the vendor\'s 30d')
  peer.destroy()
  plain.child.kill('SIGTERM')
  await plain.exited

  dropLpf(dirs.licenseDir, { port, packs: PACKS, grace: '2d' })
  const capped = spawnServe(t, dirs, ['--grace', '10d'])
  const warning = await capped.waitForLog(/^--grace 10d is ignored: the LPF allows a grace period of at most 2d/, 60_000)
  t.match(warning, { level: 40, requestedGraceMs: 10 * DAY, lpfGraceMs: 2 * DAY, graceMs: 2 * DAY })
  await capped.waitForLog(/^LPF loaded: serving$/, 60_000)
  const again = await RawPeer.hello(t, port)
  t.equal((await again.call('hello', { protocol: 1, client: 'grace-test' })).graceMs, 2 * DAY, '--grace 10d over a 2d LPF: 2d')
})
