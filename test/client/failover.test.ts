// [HA-6] The client library in a cluster, against a real daemon (the leader) and a scripted
// node on a real socket standing in for the standby wt-leader builds (SPEC HA-4): it answers
// hello with role/leader/servers and every other op NOT_LEADER, or pushes `moving {host}`.
// Once real standbys exist, the fault tests of the cluster run the same paths end to end.
import t, { type Test } from 'tap'
import { once } from 'node:events'
import { FlrClient } from '../../lib/client/client.js'
import { isFlrError } from '../../lib/errors.js'
import { servePacks } from '../helpers/server.js'
import { RawPeer } from '../helpers/wire.js'
import { helloAnswer, scriptedNode, standbyScript } from './scripted-node.js'
import { eventually } from '../helpers/admin.js'

const PACKS = [{ name: 'station', limit: 1 }]
const WAIT = { signal: AbortSignal.timeout(60_000) }

async function leader(t: Test) {
  const { port } = await servePacks(t, PACKS)
  return { port, address: `127.0.0.1:${port}` }
}

async function inUse(t: Test, port: number): Promise<number> {
  const peer = await RawPeer.hello(t, port, 'observer')
  const status = await peer.call('status')
  peer.destroy()
  return (status.packs as { inUse: number }[])[0]!.inUse
}

function connect(t: Test, servers: string[]) {
  return FlrClient.connect({ servers, client: 'app', backoffMinMs: 20, backoffMaxMs: 200 }).then((c) => {
    t.teardown(() => c.close())
    return c
  })
}

t.test('[HA-6] a standby whose hello names the leader: the client goes to the leader and leases there', async (t) => {
  const real = await leader(t)
  const standby = await scriptedNode(t, standbyScript(real.address))
  const client = await connect(t, [standby.address])
  t.equal(client.server, real.address, 'talking to the leader')
  t.ok(client.servers.includes(real.address), 'the leader is known from now on')
  const lease = await client.lease('station')
  t.equal(await inUse(t, real.port), 1, 'the seat is taken on the leader')
  t.same(standby.requests.map((r) => r.request.op), ['hello'], 'nothing but hello went to the standby')
  await eventually(() => standby.sockets.size === 0, 'the connection to the standby to close')
  await lease.release()
})

t.test('[HA-6] NOT_LEADER with leader: the request is sent again to the leader once its hello succeeds', async (t) => {
  const real = await leader(t)
  // hello names no leader (none known yet when it was asked); the lease op names it
  const standby = await scriptedNode(t, (req, socket) => (req.op === 'hello' ? helloAnswer({ role: 'standby' }) : standbyScript(real.address)(req, socket)))
  const client = await connect(t, [standby.address])
  t.equal(client.server, standby.address, 'a standby is kept when no leader answers')
  t.equal(client.hello?.role, 'standby')
  const connected = once(client, 'connected', WAIT)
  const lease = await client.lease('station')
  const [hello] = (await connected) as [Record<string, unknown>]
  t.equal(hello.hostId, (await RawPeer.hello(t, real.port)).frames[0]!.hostId, 'connected to the leader')
  t.equal(client.server, real.address)
  t.equal(await inUse(t, real.port), 1, 'the seat is taken on the leader, once')
  t.same(standby.requests.filter((r) => r.request.op !== 'ping').map((r) => r.request.op), ['hello', 'lease'], 'the standby was asked once (its pings aside)')
  t.ok(lease.usable)
  await lease.release()
  t.equal(await inUse(t, real.port), 0, 'released on the leader')
})

t.test('[HA-6] servers tried in order: a standby that knows no leader is passed over for a node that serves', async (t) => {
  const real = await leader(t)
  const standby = await scriptedNode(t, standbyScript(undefined))
  const client = await connect(t, [standby.address, real.address])
  t.equal(client.server, real.address)
  t.same((await client.lease('station')).pack, 'station')
})

t.test('[HA-6] NOT_LEADER everywhere and no leader: the request fails within its deadline with NOT_LEADER', async (t) => {
  const standby = await scriptedNode(t, standbyScript(undefined))
  const client = await FlrClient.connect({ servers: [standby.address], client: 'app', requestTimeoutMs: 1_000, backoffMinMs: 50, backoffMaxMs: 200 })
  t.teardown(() => client.close())
  const err = await client.lease('station').then(() => undefined, (e: unknown) => e)
  t.ok(isFlrError(err) && err.code === ('NOT_LEADER' as typeof err.code), `NOT_LEADER (${String(err)})`)
  const asked = standby.requests.filter((r) => r.request.op === 'lease').length
  t.ok(asked >= 2, `asked again while no leader was known (${asked} times)`)
})

t.test('[HA-6] the client learns the other nodes from hello and fails over to them when its node goes', async (t) => {
  const real = await leader(t)
  // a leader that names the other node in `servers`, then disappears
  const first = await scriptedNode(t, (req) => (req.op === 'hello' ? helloAnswer({ role: 'leader', servers: ['127.0.0.1:1', real.address] }) : { ok: true }))
  const client = await connect(t, [first.address])
  t.same(client.servers, [first.address, '127.0.0.1:1', real.address], 'the given server, then the learned ones')
  const disconnected = once(client, 'disconnected', WAIT)
  const connected = once(client, 'connected', WAIT)
  await first.stop()
  await disconnected
  await connected
  t.equal(client.server, real.address, 'reconnected to a node it learned of')
  t.equal((await client.lease('station')).pack, 'station')
})

t.test('[HA-6] moving {host, port}: the client reconnects there and renews its lease by id', async (t) => {
  const real = await leader(t)
  // the lease the old leader granted; the new leader holds the same record (restored, [LEASE-8])
  const grant = await (await RawPeer.hello(t, real.port, 'app')).call('lease', { pack: 'station' })
  const old = await scriptedNode(t, (req) => {
    if (req.op === 'hello') return helloAnswer({ role: 'leader', leaseTtlMs: 3_000 })
    if (req.op === 'lease') return { ...grant, ttlMs: 3_000 }
    return { ok: true }
  })
  const client = await connect(t, [old.address])
  const lease = await client.lease('station')
  t.equal(lease.id, grant.lease)
  let lost: unknown
  lease.on('lost', (e) => (lost = e))
  const moving = once(client, 'moving', WAIT)
  const renewed = once(lease, 'renewed', WAIT)
  old.push({ push: 'moving', host: '127.0.0.1', port: real.port })
  t.same(await moving, [real.port, '127.0.0.1'], 'moving (port, host)')
  const [renewal] = (await renewed) as [Record<string, unknown>]
  t.equal(renewal.lease, grant.lease, 'renewed by its id on the new node')
  t.equal(client.server, real.address)
  t.ok(client.servers.includes(real.address), 'the new node joins the list')
  t.ok(lease.usable)
  t.equal(lost, undefined, 'never lost')
})

t.test('[HA-6] [LEASE-2] a lease whose connection dies before the answer is asked again of the next server', async (t) => {
  const real = await leader(t)
  // a node that dies (closes the connection) on the first lease it is asked for
  const dying = await scriptedNode(t, (req, socket) => {
    if (req.op === 'hello') return helloAnswer({ role: 'leader' })
    if (req.op === 'lease') socket.destroy()
    return req.op === 'ping' ? { ok: true } : undefined
  })
  const client = await connect(t, [dying.address, real.address])
  t.equal(client.server, dying.address)
  const lease = await client.lease('station')
  t.equal(client.server, real.address, 'moved on to the next server')
  t.equal(await inUse(t, real.port), 1, 'granted there, once')
  t.same(dying.requests.filter((r) => r.request.op !== 'ping').map((r) => r.request.op), ['hello', 'lease'])
  await lease.release()
})

t.test('[HA-6] an admin client is admin again on the node it fails over to: its auth is said again first', async (t) => {
  const admin = (req: Record<string, unknown>) => (req.op === 'hello' ? helloAnswer({ role: 'leader' }) : { ok: true })
  const first = await scriptedNode(t, admin)
  const second = await scriptedNode(t, admin)
  const client = await connect(t, [first.address, second.address])
  await client.request('auth', { password: 'Corr3ct-Horse' })
  const connected = once(client, 'connected', WAIT)
  await first.stop()
  await connected
  t.equal(client.server, second.address)
  await client.request('leases')
  t.same(second.requests.filter((r) => r.request.op !== 'ping').map((r) => [r.request.op, r.request.password]), [['hello', undefined], ['auth', 'Corr3ct-Horse'], ['leases', undefined]], 'auth before anything else on the new connection')
})
