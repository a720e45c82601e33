// The client library across a server restart: it reconnects with backoff and resumes its
// leases by id on the new server, which restored them from its store ([LEASE-4], [LEASE-8]).
import t from 'tap'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { connectClient, dropLpf, freePort, makeDirs, startDaemon } from '../helpers/server.js'
import { RawPeer } from '../helpers/wire.js'
import { FlrClient } from '../../lib/client/client.js'
import { isFlrError } from '../../lib/errors.js'

t.test('[LEASE-8] [LEASE-4] after a restart the client reconnects and resumes its lease by id', async (t) => {
  const ttl = 1_500
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 1 }] })
  const first = await startDaemon(t, dirs, { leaseTtlMs: ttl })
  const client = await connectClient(t, port, { client: 'survivor', backoffMinMs: 20, backoffMaxMs: 200 })
  const lease = await client.lease('station')
  const events: string[] = []
  client.on('shutdown', () => events.push('shutdown'))
  client.on('disconnected', () => events.push('disconnected'))
  client.on('connected', () => events.push('connected'))
  let lost: unknown
  lease.on('lost', (e) => (lost = e))

  await first.stop()
  // down for longer than a TTL: the client keeps trying, with backoff, meanwhile
  await sleep(ttl + 500)
  t.ok(lease.usable, 'usable while the server is down (within the grace period)')
  const reconnected = once(client, 'connected')
  const resumed = once(lease, 'renewed')
  await startDaemon(t, dirs, { leaseTtlMs: ttl })
  await reconnected
  const [renewal] = (await resumed) as [Record<string, unknown>]
  t.equal(renewal.lease, lease.id, 'the same lease id, renewed on the new server')
  t.same(events.slice(0, 3), ['shutdown', 'disconnected', 'connected'], 'told of the shutdown, then reconnected')
  t.equal(lost, undefined, 'never lost')

  const other = await RawPeer.hello(t, port, 'other')
  t.match(await other.call('lease', { pack: 'station' }), { ok: false, error: { code: 'PACK_EXHAUSTED', inUse: 1 } }, 'the seat is still the survivor\'s')
  // it keeps renewing on the new server
  await sleep(ttl * 2)
  t.match(await other.call('renew', { lease: lease.id }), { ok: true, lease: lease.id }, 'alive two TTLs later')
  t.ok(lease.usable)
})

t.test('[LEASE-4] the client reconnects with backoff: a few attempts while the server is away, not a storm', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 1 }] })
  const first = await startDaemon(t, dirs)
  const client = await connectClient(t, port, { client: 'patient', backoffMinMs: 50, backoffMaxMs: 400 })
  const lease = await client.lease('station')
  await first.stop()
  // Something that accepts and hangs up at once stands in for the server: every attempt counts.
  let attempts = 0
  const stand = createServer((socket) => {
    attempts++
    socket.destroy()
  })
  await new Promise<void>((resolve) => stand.listen(port, '127.0.0.1', resolve))
  await sleep(2_000)
  await new Promise<void>((resolve) => stand.close(() => resolve()))
  t.ok(attempts >= 2, `it kept trying (${attempts} attempts in 2 s)`)
  t.ok(attempts <= 20, `with backoff, not in a loop (${attempts} attempts in 2 s; 50 ms doubling to 400 ms allows about 12)`)
  const resumed = once(lease, 'renewed')
  await startDaemon(t, dirs)
  const [renewal] = (await resumed) as [Record<string, unknown>]
  t.equal(renewal.lease, lease.id, 'and resumed its lease once the server was back')
})

t.test('[LEASE-4] a lease released elsewhere is `lost` at its first renewal after a reconnect', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 1 }] })
  const first = await startDaemon(t, dirs)
  const client = await connectClient(t, port, { client: 'forgotten' })
  const admin = await RawPeer.hello(t, port, 'peer')
  const lease = await client.lease('station')
  // released behind its back (a lease belongs to no connection): the server no longer knows it
  t.match(await admin.call('release', { lease: lease.id }), { ok: true })
  const lost = once(lease, 'lost')
  await first.stop()
  await startDaemon(t, dirs)
  const [err] = await lost
  t.ok(isFlrError(err, 'LEASE_UNKNOWN'), 'lost with LEASE_UNKNOWN once the new server says so')
  t.notOk(lease.usable)
})

t.test('[WIRE-4] connect() fails fast with CONNECTION_LOST when nothing listens', async (t) => {
  const port = await freePort()
  const err = await FlrClient.connect({ host: '127.0.0.1', port, client: 'nobody' }).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(isFlrError(err, 'CONNECTION_LOST'), 'CONNECTION_LOST')
  t.match((err as Error).message, new RegExp(`127\\.0\\.0\\.1:${port}`), 'the message names the address')
})
