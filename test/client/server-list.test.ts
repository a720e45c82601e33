// [HA-6] A list of servers against real `flr serve` processes: tried in order, the first that
// answers wins; when the one in use dies (kill -9), the next one of the list takes over and
// the client resumes its lease there by id. The second node restores the first one's leases
// from the same state directory ([LEASE-8]): the shape of a failover, before the PostgreSQL
// cluster exists; with it, a standby restores them from the database the same way.
import t from 'tap'
import { once } from 'node:events'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { FlrClient } from '../../lib/client/client.js'
import { freePort, makeDirs, type Dirs } from '../helpers/server.js'
import { nodeDirs, serveNode } from './serve-node.js'
import { RawPeer } from '../helpers/wire.js'

const PACKS = [{ name: 'station', limit: 1 }]
const WAIT = () => ({ signal: AbortSignal.timeout(90_000) })

/** Another node's directories: its own licenses and logs, the first node's state (its store). */
function secondNode(first: Dirs): Dirs {
  const root = join(first.root, 'second')
  const dirs = { root, licenseDir: join(root, 'licenses'), stateDir: first.stateDir, logDir: join(root, 'logs') }
  mkdirSync(dirs.licenseDir, { recursive: true })
  mkdirSync(dirs.logDir, { recursive: true })
  return dirs
}

t.test('[HA-6] servers are tried in order: one that is down is skipped, the first that answers is used', async (t) => {
  const dirs = nodeDirs(t, ['up', 'other'])
  const up = await serveNode(t, dirs.up!, PACKS)
  const other = await serveNode(t, dirs.other!, PACKS)
  const down = await freePort()
  const client = await FlrClient.connect({ servers: [`127.0.0.1:${down}`, up.address, other.address], client: 'app', connectTimeoutMs: 30_000 })
  t.teardown(() => client.close())
  t.equal(client.server, up.address, 'the second of the list: the first is down, the third is not needed')
  t.match(await client.status(), { serving: true, lpf: { port: up.port } })
})

t.test('[HA-6] the server in use is killed: the next one takes over, the lease renews there by id, never unusable, never lost', async (t) => {
  const dirs = makeDirs(t)
  const { proc: a, port: portA } = await serveNode(t, dirs, PACKS)
  const portB = await freePort()
  const client = await FlrClient.connect({ servers: [`127.0.0.1:${portA}`, `127.0.0.1:${portB}`], client: 'app', backoffMinMs: 20, backoffMaxMs: 200 })
  t.teardown(() => client.close())
  const lease = await client.lease('station')
  const usableAt: boolean[] = []
  client.on('disconnected', () => usableAt.push(lease.usable))
  client.on('connected', () => usableAt.push(lease.usable))
  let lost: unknown
  lease.on('lost', (e) => (lost = e))

  const disconnected = once(client, 'disconnected', WAIT())
  a.child.kill('SIGKILL')
  await a.exited
  await disconnected
  t.ok(lease.usable, 'usable while no server answers')
  // the second node starts on the first one's store (as a standby takes over the leader's)
  const renewed = once(lease, 'renewed', WAIT())
  await serveNode(t, secondNode(dirs), PACKS, portB)
  const [renewal] = (await renewed) as [Record<string, unknown>]
  t.equal(renewal.lease, lease.id, 'the same lease id, renewed on the second node')
  t.equal(client.server, `127.0.0.1:${portB}`)
  t.ok(usableAt.length >= 2 && usableAt.every(Boolean), `usable at every disconnect and connect (${usableAt.join(', ')})`)
  t.equal(lost, undefined, 'never lost')
  const other = await RawPeer.hello(t, portB, 'other')
  t.match(await other.call('lease', { pack: 'station' }), { ok: false, error: { code: 'PACK_EXHAUSTED' } }, 'the seat is still the client\'s')
})
