// The client library's Lease against the real daemon: self-renewal at TTL/3, release,
// revocation, and the grace period while the server is unreachable ([LEASE-3], [WIRE-6],
// [WIRE-9], [WIRE-4] graceMs).
import t from 'tap'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { connectClient, servePacks } from '../helpers/server.js'
import { setPassword } from '../../lib/admin/password.js'
import { isFlrError, type FlrError } from '../../lib/errors.js'
import type { FlrClient } from '../../lib/client/client.js'

const ADMIN_PASSWORD = 'Adm1n-Pass!'

async function inUse(client: FlrClient, pack: string): Promise<number> {
  const status = await client.status()
  return status.packs.find((p) => p.name === pack)!.inUse
}

async function refusal(p: Promise<unknown>): Promise<FlrError> {
  try {
    await p
  } catch (e) {
    if (isFlrError(e)) return e
    throw e
  }
  throw new Error('expected a refusal')
}

t.test('[LEASE-3] a Lease renews itself at TTL/3 and outlives several TTLs', async (t) => {
  const ttl = 1_500
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }], { leaseTtlMs: ttl })
  const client = await connectClient(t, port, { client: 'renewing' })
  const other = await connectClient(t, port, { client: 'other' })
  const lease = await client.lease('station')
  const renewals: Record<string, unknown>[] = []
  lease.on('renewed', (reply) => renewals.push(reply))
  let lost: unknown
  lease.on('lost', (e) => (lost = e))
  await sleep(3 * ttl)
  t.equal(lost, undefined, 'never lost')
  t.ok(renewals.length >= 3, `renewed on its own (${renewals.length} times in 3 TTLs)`)
  t.ok(renewals.every((r) => r.lease === lease.id), 'always the same lease')
  t.ok(lease.usable, 'usable')
  t.ok(lease.usableUntil > Date.now(), 'usable until a time still ahead')
  t.match(await refusal(other.lease('station')), { code: 'PACK_EXHAUSTED', details: { limit: 1, inUse: 1 } }, 'the seat is still held')
})

t.test('[WIRE-6] release() gives the seat back and stops renewing', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }], { leaseTtlMs: 600 })
  const client = await connectClient(t, port, { client: 'releasing' })
  const lease = await client.lease('station')
  t.equal(lease.pack, 'station')
  t.equal(lease.holder, 'releasing', 'held as the connection client')
  t.match(lease.licenses, /<licenses>/, '[LEASE-6] the licenses come with the lease')
  t.equal(await inUse(client, 'station'), 1)
  await lease.release()
  t.equal(await inUse(client, 'station'), 0, 'the seat is free')
  let renewed = 0
  lease.on('renewed', () => renewed++)
  await sleep(600)
  t.equal(renewed, 0, 'no renewal after release')
  t.notOk(lease.usable, 'not usable once released')
  const again = await client.lease('station')
  t.not(again.id, lease.id, 'a new lease afterwards')
})

t.test('[LEASE-2] lease(pack, {holder}) holds as that holder; the same holder gets the same lease', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 2 }])
  const a = await connectClient(t, port, { client: 'a' })
  const b = await connectClient(t, port, { client: 'b' })
  const first = await a.lease('station', { holder: 'seat-7' })
  const second = await b.lease('station', { holder: 'seat-7' })
  t.equal(first.holder, 'seat-7')
  t.equal(second.id, first.id, 'one lease per holder')
  t.equal(await inUse(a, 'station'), 1)
})

t.test('[LEASE-5] lease(pack, {wait}) waits for a seat', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const a = await connectClient(t, port, { client: 'a' })
  const b = await connectClient(t, port, { client: 'b' })
  const held = await a.lease('station')
  const waiting = b.lease('station', { wait: 30_000 })
  await sleep(100)
  await held.release()
  const got = await waiting
  t.equal(got.holder, 'b', 'granted once the seat was released')
  t.match(await refusal(a.lease('station', { wait: 100 })), { code: 'WAIT_TIMEOUT' }, 'a wait that runs out rejects with WAIT_TIMEOUT')
  t.match(await refusal(a.lease('nope')), { code: 'PACK_UNKNOWN' }, 'errors carry their code')
})

t.test('[WIRE-9] an admin revoke emits `revoked` with the reason and stops the lease', async (t) => {
  const { port, dirs } = await servePacks(t, [{ name: 'station', limit: 1 }], { leaseTtlMs: 900 })
  // the password is read on every auth: setting it after the start is what an admin does
  await setPassword(dirs.stateDir, ADMIN_PASSWORD)
  const client = await connectClient(t, port, { client: 'victim' })
  const admin = await connectClient(t, port, { client: 'admin' })
  const lease = await client.lease('station')
  const revoked = once(lease, 'revoked')
  await admin.request('auth', { password: ADMIN_PASSWORD })
  await admin.request('revoke', { lease: lease.id })
  const [reason] = await revoked
  t.equal(reason, 'admin', 'the reason is admin')
  t.notOk(lease.usable, 'no longer usable')
  let renewed = 0
  lease.on('renewed', () => renewed++)
  await sleep(600)
  t.equal(renewed, 0, 'no renewal after revocation')
  t.equal(await inUse(client, 'station'), 0, 'the seat is free')
})

t.test('[WIRE-4] grace: with the server down the lease stays usable within graceMs, then `lost`', async (t) => {
  const ttl = 400
  const grace = 2_000
  const { port, daemon } = await servePacks(t, [{ name: 'station', limit: 1 }], { leaseTtlMs: ttl, graceMs: grace })
  const client = await connectClient(t, port, { client: 'graceful', backoffMinMs: 50, backoffMaxMs: 200 })
  t.equal(client.hello?.graceMs, grace, 'the server advertises its grace period')
  const lease = await client.lease('station')
  const lost = once(lease, 'lost')
  const stoppedAt = Date.now()
  await daemon.stop()
  await sleep(3 * ttl)
  // usability is judged only while the grace period is surely running: the test's own sleep may overrun
  if (Date.now() < stoppedAt + grace - 200) t.ok(lease.usable, 'usable past its TTL while the server is unreachable')
  else t.comment('the machine was too slow to observe the lease inside its grace period')
  const [err] = await lost
  t.ok(Date.now() >= stoppedAt + grace - ttl, 'lost only once the grace period ran out')
  t.match(err, { code: 'CONNECTION_LOST', message: /grace/ }, 'lost: the server stayed unreachable past the grace period')
  t.notOk(lease.usable, 'no longer usable')
})
