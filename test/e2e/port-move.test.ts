// [SRV-5] An LPF that names a new port: the server binds it first, sends `moving`, stops
// accepting on the old port and closes old connections later; clients resume on the new port
// with the leases they held. And a new port that is busy: nothing moves until it frees.
import t from 'tap'
import { connect, createServer, type Server } from 'node:net'
import { connectClient, freePort, lpfText, type PackSpec } from '../helpers/server.js'
import { RawPeer } from '../helpers/wire.js'
import { renameOver, serveLpf, statusOf, until, packOf } from '../helpers/reload.js'
import type { FlrClient, Lease } from '../../lib/client/client.js'

const PACKS: PackSpec[] = [{ name: 'seat', limit: 500 }]

/** Resolves with the error code of a connection attempt (undefined if it connected). */
function connectError(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(undefined)
    })
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code))
  })
}

function holdPort(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server))
  })
}

interface Tracked {
  client: FlrClient
  lease: Lease
  ends: string[]
  renewals: number
}

async function trackedClients(t: Parameters<typeof connectClient>[0], port: number, count: number): Promise<Tracked[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const client = await connectClient(t, port, { client: `app-${i}` })
      const lease = await client.lease('seat')
      const tracked: Tracked = { client, lease, ends: [], renewals: 0 }
      lease.on('lost', (e: unknown) => tracked.ends.push(`lost: ${String(e)}`))
      lease.on('revoked', (r: string) => tracked.ends.push(`revoked: ${r}`))
      lease.on('renewed', () => tracked.renewals++)
      return tracked
    }),
  )
}

t.test('[SRV-5] a port change with 200 clients holding leases: every lease still held on the new port, same id, none lost', async (t) => {
  const server = await serveLpf(t, { packs: PACKS }, { moveCloseMs: 2_000 })
  const { daemon, port: oldPort, path } = server
  const clients = await trackedClients(t, oldPort, 200)
  const ids = clients.map((c) => c.lease.id)
  const raw = await RawPeer.hello(t, oldPort, 'raw-on-old-port')
  const rawLease = await raw.call('lease', { pack: 'seat' })
  t.equal(packOf(daemon, 'seat')?.inUse, 201, '201 leases held before the move')

  const newPort = await freePort()
  const renewalsBefore = clients.map((c) => c.renewals)
  await renameOver(path, lpfText({ port: newPort, packs: PACKS }))

  const moving = await raw.waitFor((f) => f.push === 'moving', 'the moving push')
  t.match(moving, { push: 'moving', port: newPort }, '[WIRE-9] moving {port} sent to a connection on the old port')
  t.match(await raw.call('ping'), { ok: true }, 'the old connection still answers until it is closed')

  await until(() => clients.every((c) => c.client.serverPort === newPort), 'all 200 clients to reconnect on the new port', 30_000)
  await until(() => clients.every((c, i) => c.renewals > renewalsBefore[i]!), 'all 200 leases to be renewed after the move', 30_000)
  const status = statusOf(daemon)
  t.equal(status.listeningPort, newPort, 'the server listens on the new port')
  t.equal(status.lpf?.port, newPort)
  t.notOk(status.portError)
  t.equal(packOf(daemon, 'seat')?.inUse, 201, 'still 201 leases held: none lost, none added')

  const renewed = await Promise.all(clients.map((c) => c.client.request('renew', { lease: c.lease.id })))
  t.same(
    renewed.map((r) => r.lease),
    ids,
    'every client renews its own lease id over its new connection',
  )
  t.same(clients.flatMap((c) => c.ends), [], 'no lease lost or revoked')

  t.equal(await connectError(oldPort), 'ECONNREFUSED', 'the old port refuses new connections')
  await raw.waitClosed(15_000)
  t.pass('the old connection that ignored moving was closed after moveCloseMs')
  const resumed = await RawPeer.hello(t, newPort, 'raw-on-new-port')
  t.match(await resumed.call('renew', { lease: rawLease.lease }), { ok: true, lease: rawLease.lease }, '[LEASE-4] its lease lives on: renewed from a new connection on the new port')
})

t.test('[SRV-5] a port change to a busy port: the old listener stays, status shows portError, leases are fine; it moves once the port frees and reload() runs', async (t) => {
  const server = await serveLpf(t, { packs: PACKS }, { moveCloseMs: 500 })
  const { daemon, port: oldPort, path } = server
  const clients = await trackedClients(t, oldPort, 5)
  const moves: number[] = []
  for (const c of clients) c.client.on('moving', (p: number) => moves.push(p))
  const busyPort = await freePort()
  const holder = await holdPort(busyPort)

  await renameOver(path, lpfText({ port: busyPort, packs: [...PACKS, { name: 'extra', limit: 1 }] }))
  const portError = await until(() => statusOf(daemon).portError, 'the port error to show')
  t.equal(portError.code, 'PORT_IN_USE')
  t.match(portError.message, String(busyPort), 'the message names the port')
  const status = statusOf(daemon)
  t.equal(status.listeningPort, oldPort, 'still listening on the old port')
  t.equal(status.lpf?.port, busyPort, 'the LPF in force names the new port')
  t.ok(packOf(daemon, 'extra'), 'the rest of the new plan is in force')
  t.notOk(status.pendingError, 'the file itself is fine')
  for (const c of clients) t.match(await c.client.request('renew', { lease: c.lease.id }), { lease: c.lease.id }, 'leases renew on the old port')
  t.same(moves, [], 'nobody was told to move')
  t.equal(await connectError(oldPort), undefined, 'the old port still accepts')

  await new Promise<void>((resolve) => holder.close(() => resolve()))
  t.same(await daemon.reload(), { applied: true }, 'reload() retries the move')
  t.equal(statusOf(daemon).listeningPort, busyPort, 'moved')
  t.notOk(statusOf(daemon).portError, 'the port error is gone')
  await until(() => clients.every((c) => c.client.serverPort === busyPort), 'the clients to follow')
  for (const c of clients) t.match(await c.client.request('renew', { lease: c.lease.id }), { lease: c.lease.id }, 'same lease on the new port')
  t.same(clients.flatMap((c) => c.ends), [], 'no lease lost or revoked')
})

t.test('[SRV-5] [SRV-2] a busy port is retried by the periodic re-check', async (t) => {
  const server = await serveLpf(t, { packs: PACKS }, { recheckMs: 300, moveCloseMs: 500 })
  const { daemon, path } = server
  const clients = await trackedClients(t, server.port, 3)
  const busyPort = await freePort()
  const holder = await holdPort(busyPort)
  await renameOver(path, lpfText({ port: busyPort, packs: PACKS }))
  await until(() => statusOf(daemon).portError, 'the port error to show')
  await new Promise<void>((resolve) => holder.close(() => resolve()))
  await until(() => statusOf(daemon).listeningPort === busyPort, 'the re-check to move to the freed port')
  await until(() => clients.every((c) => c.client.serverPort === busyPort), 'the clients to follow')
  t.notOk(statusOf(daemon).portError)
  t.same(clients.flatMap((c) => c.ends), [], 'no lease lost or revoked')
})

t.test('[SRV-5] an LPF back on the port in use ends a failed move', async (t) => {
  const server = await serveLpf(t, { packs: PACKS })
  const { daemon, path, port } = server
  const busyPort = await freePort()
  const holder = await holdPort(busyPort)
  t.teardown(() => holder.close())
  await renameOver(path, lpfText({ port: busyPort, packs: PACKS }))
  await until(() => statusOf(daemon).portError, 'the port error to show')
  await renameOver(path, lpfText({ port, packs: [...PACKS, { name: 'extra', limit: 1 }] }))
  await until(() => packOf(daemon, 'extra'), 'the file naming the old port to be applied')
  t.notOk(statusOf(daemon).portError, 'no port error: the server is on the port its LPF names')
  t.equal(statusOf(daemon).listeningPort, port)
})

t.test('[SRV-5] moving there and back: clients follow both moves and keep their leases', async (t) => {
  const server = await serveLpf(t, { packs: PACKS }, { moveCloseMs: 300 })
  const { daemon, path, port: first } = server
  const clients = await trackedClients(t, first, 20)
  const second = await freePort()
  await renameOver(path, lpfText({ port: second, packs: PACKS }))
  await until(() => clients.every((c) => c.client.serverPort === second), 'the clients to move to the second port')
  await renameOver(path, lpfText({ port: first, packs: [...PACKS, { name: 'back', limit: 1 }] }))
  await until(() => statusOf(daemon).listeningPort === first, 'the server to move back')
  await until(() => clients.every((c) => c.client.serverPort === first), 'the clients to move back')
  for (const c of clients) t.match(await c.client.request('renew', { lease: c.lease.id }), { lease: c.lease.id })
  t.equal(packOf(daemon, 'seat')?.inUse, 20)
  t.same(clients.flatMap((c) => c.ends), [], 'no lease lost or revoked')
})
