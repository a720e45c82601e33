// Section 5 against the real daemon on real sockets: limits under concurrency, holders,
// expiry, leases that belong to no connection, waiters, licenses ([LEASE-1]..[LEASE-6]).
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { servePacks } from '../helpers/server.js'
import { RawPeer, type Frame } from '../helpers/wire.js'

function errorOf(reply: Frame): Record<string, unknown> {
  if (reply.ok !== false) throw new Error(`expected an error reply, got ${JSON.stringify(reply)}`)
  return reply.error as Record<string, unknown>
}

async function packStatus(peer: RawPeer, pack: string): Promise<{ limit: number; inUse: number; waiting: number }> {
  const status = await peer.call('status')
  const row = (status.packs as { name: string; limit: number; inUse: number; waiting: number }[]).find((p) => p.name === pack)
  if (!row) throw new Error(`pack ${pack} is not in status: ${JSON.stringify(status)}`)
  return row
}

/** Polls status until the pack's row satisfies `ok` (the server acts on its own timers). */
async function untilStatus(peer: RawPeer, pack: string, ok: (row: { inUse: number; waiting: number }) => boolean, what: string) {
  const deadline = Date.now() + 15_000
  for (;;) {
    const row = await packStatus(peer, pack)
    if (ok(row)) return row
    if (Date.now() > deadline) throw new Error(`status of ${pack} never showed ${what}; last: ${JSON.stringify(row)}`)
    await sleep(20)
  }
}

t.test('[LEASE-1] 200 concurrent requests from 40 connections on a pack of limit 7: exactly 7 grants', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 7 }])
  const peers = await Promise.all(Array.from({ length: 40 }, (_, i) => RawPeer.hello(t, port, `client-${i}`)))
  // every request is written before any reply is awaited: 200 requests in flight at once
  const pending = peers.flatMap((peer, i) =>
    Array.from({ length: 5 }, (_, j) => peer.reply(peer.send('lease', { pack: 'station', holder: `holder-${i}-${j}` }))),
  )
  const replies = await Promise.all(pending)
  const granted = replies.filter((r) => r.ok === true)
  const refused = replies.filter((r) => r.ok === false)
  t.equal(granted.length, 7, 'exactly limit grants')
  t.equal(refused.length, 193, 'every other request refused')
  t.equal(new Set(granted.map((r) => r.lease)).size, 7, 'seven distinct leases')
  t.equal(new Set(granted.map((r) => r.holder)).size, 7, 'to seven distinct holders')
  for (const r of granted) t.ok((r.inUse as number) <= 7 && r.limit === 7, 'a grant never reports more in use than the limit')
  for (const r of refused) t.match(errorOf(r), { code: 'PACK_EXHAUSTED', limit: 7, inUse: 7 })
  t.match(await packStatus(peers[0]!, 'station'), { limit: 7, inUse: 7, waiting: 0 })
})

t.test('[LEASE-1] lease/release churn from 40 connections never holds more than the limit', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 7 }])
  const peers = await Promise.all(Array.from({ length: 40 }, (_, i) => RawPeer.hello(t, port, `churn-${i}`)))
  // A client sees a lease from its grant's arrival to its release's sending: inside the
  // server's own holding interval, so more than 7 seen at once would mean more than 7 held.
  let holding = 0
  let most = 0
  let grants = 0
  await Promise.all(
    peers.map(async (peer, i) => {
      for (let round = 0; round < 10; round++) {
        const reply = await peer.call('lease', { pack: 'station', holder: `churn-${i}` })
        if (reply.ok !== true) {
          t.match(errorOf(reply), { code: 'PACK_EXHAUSTED', limit: 7 })
          continue
        }
        grants++
        t.ok((reply.inUse as number) <= 7, 'grant reports at most the limit in use')
        most = Math.max(most, ++holding)
        await sleep(1)
        holding--
        const released = await peer.call('release', { lease: reply.lease })
        t.equal(released.ok, true, 'release acknowledged')
      }
    }),
  )
  t.ok(grants >= 7, `seats were granted and reused (${grants} grants)`)
  t.ok(most <= 7, `never more than 7 held at once (saw ${most})`)
  t.match(await packStatus(peers[0]!, 'station'), { inUse: 0, waiting: 0 })
})

t.test('[LEASE-2] a holder has one lease per pack: the same lease, renewed', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 5 }, { name: 'render', limit: 5 }])
  const a = await RawPeer.hello(t, port, 'alice')
  const b = await RawPeer.hello(t, port, 'bob')
  const alsoAlice = await RawPeer.hello(t, port, 'alice')

  const first = await a.call('lease', { pack: 'station' })
  t.equal(first.ok, true)
  t.equal(first.holder, 'alice', 'the holder defaults to the connection client')
  await sleep(30)
  const again = await a.call('lease', { pack: 'station' })
  t.equal(again.lease, first.lease, 'same connection, same holder: same lease')
  t.ok((again.expiresAt as number) > (first.expiresAt as number), 'and it was renewed')
  const fromOther = await alsoAlice.call('lease', { pack: 'station' })
  t.equal(fromOther.lease, first.lease, 'another connection of the same client: same lease')
  const byHolderField = await b.call('lease', { pack: 'station', holder: 'alice' })
  t.equal(byHolderField.lease, first.lease, 'another client naming holder alice: same lease')
  t.equal(byHolderField.inUse, 1, 'still one seat in use')

  const bobs = await b.call('lease', { pack: 'station' })
  t.not(bobs.lease, first.lease, 'another holder gets another lease')
  const otherPack = await a.call('lease', { pack: 'render' })
  t.not(otherPack.lease, first.lease, 'one lease per holder *per pack*')
  t.match(await packStatus(a, 'station'), { inUse: 2 })
})

t.test('[LEASE-2] the same holder asking from 10 connections at once gets one lease', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 3 }])
  const peers = await Promise.all(Array.from({ length: 10 }, (_, i) => RawPeer.hello(t, port, `box-${i}`)))
  const replies = await Promise.all(peers.map((p) => p.reply(p.send('lease', { pack: 'station', holder: 'shared-holder' }))))
  t.ok(replies.every((r) => r.ok === true), 'every request is answered with the lease')
  t.equal(new Set(replies.map((r) => r.lease)).size, 1, 'one lease id for all of them')
  t.match(await packStatus(peers[0]!, 'station'), { inUse: 1 })
})

t.test('[LEASE-3] an unrenewed lease expires after the TTL; its seat goes to a waiter', async (t) => {
  const ttl = 300
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }], { leaseTtlMs: ttl })
  const a = await RawPeer.hello(t, port, 'a')
  const b = await RawPeer.hello(t, port, 'b')
  const held = await a.call('lease', { pack: 'station' })
  t.equal(held.ok, true)
  t.equal(held.ttlMs, ttl, 'the answer carries the TTL')
  // the waiter is served by the expiry alone: nothing else is sent meanwhile
  const waited = await b.call('lease', { pack: 'station', wait: 20_000 }, 25_000)
  t.equal(waited.ok, true, 'the waiter got the seat')
  t.ok((waited.expiresAt as number) - ttl >= (held.expiresAt as number), 'not before the first lease had expired')
  t.match(errorOf(await a.call('renew', { lease: held.lease })), { code: 'LEASE_UNKNOWN' }, 'the expired lease is gone')
})

t.test('[LEASE-3] with no waiter, the expired lease frees its seat on its own', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 2 }], { leaseTtlMs: 300 })
  const a = await RawPeer.hello(t, port, 'a')
  t.equal((await a.call('lease', { pack: 'station' })).ok, true)
  t.match(await packStatus(a, 'station'), { inUse: 1 })
  await untilStatus(a, 'station', (row) => row.inUse === 0, 'the seat freed')
  t.pass('the seat is free again')
})

t.test('[LEASE-3] renewing keeps a lease alive across several TTLs', async (t) => {
  const ttl = 1_500
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }], { leaseTtlMs: ttl })
  const a = await RawPeer.hello(t, port, 'a')
  const b = await RawPeer.hello(t, port, 'b')
  const held = await a.call('lease', { pack: 'station' })
  let expiresAt = held.expiresAt as number
  const started = Date.now()
  // renewing every TTL/5 leaves four renewals of slack on a loaded machine
  while (Date.now() - started < 3 * ttl) {
    await sleep(ttl / 5)
    const renewed = await a.call('renew', { lease: held.lease })
    t.equal(renewed.ok, true, 'renewed')
    t.ok((renewed.expiresAt as number) >= expiresAt, 'the expiry moves forward')
    expiresAt = renewed.expiresAt as number
  }
  t.ok(expiresAt - (held.expiresAt as number) >= 2 * ttl, 'the lease outlived its first TTL by two more')
  t.match(errorOf(await b.call('lease', { pack: 'station' })), { code: 'PACK_EXHAUSTED', inUse: 1 }, 'the seat is still held')
})

t.test('[LEASE-4] renew and release by id from other connections', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const granter = await RawPeer.hello(t, port, 'granter')
  const renewer = await RawPeer.hello(t, port, 'renewer')
  const releaser = await RawPeer.hello(t, port, 'releaser')
  const held = await granter.call('lease', { pack: 'station' })
  await sleep(20)
  const renewed = await renewer.call('renew', { lease: held.lease })
  t.match(renewed, { ok: true, lease: held.lease })
  t.ok((renewed.expiresAt as number) > (held.expiresAt as number), 'renewed from another connection')
  t.same(await releaser.call('release', { lease: held.lease }), { id: 2, ok: true }, 'released from a third: {}')
  t.match(await packStatus(granter, 'station'), { inUse: 0 })
  t.match(errorOf(await granter.call('renew', { lease: held.lease })), { code: 'LEASE_UNKNOWN' }, 'its granter can no longer renew it')
  t.match(errorOf(await renewer.call('release', { lease: held.lease })), { code: 'LEASE_UNKNOWN' }, 'nor release it twice')
})

t.test('[LEASE-4] closing a connection releases nothing', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }, { name: 'render', limit: 1 }])
  const other = await RawPeer.hello(t, port, 'other')
  await other.call('lease', { pack: 'render' })
  const leaving = await RawPeer.hello(t, port, 'leaving')
  const held = await leaving.call('lease', { pack: 'station' })
  // a wait of the leaving connection shows when the server has seen it close: the wait is cancelled then
  leaving.send('lease', { pack: 'render', wait: 30_000 })
  await untilStatus(other, 'render', (row) => row.waiting === 1, 'the wait queued')
  leaving.destroy()
  await untilStatus(other, 'render', (row) => row.waiting === 0, 'the close seen by the server')
  t.match(await packStatus(other, 'station'), { inUse: 1 }, 'the seat is still held')
  t.match(errorOf(await other.call('lease', { pack: 'station' })), { code: 'PACK_EXHAUSTED' })
  t.match(await other.call('renew', { lease: held.lease }), { ok: true, lease: held.lease }, 'the lease lives on, renewable by id')
})

t.test('[LEASE-5] waiters are served first come, first served across connections', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const owner = await RawPeer.hello(t, port, 'owner')
  const first = await owner.call('lease', { pack: 'station' })
  const waiters = await Promise.all(Array.from({ length: 5 }, (_, i) => RawPeer.hello(t, port, `waiter-${i}`)))
  const answers: Promise<Frame>[] = []
  for (const [i, w] of waiters.entries()) {
    answers.push(w.call('lease', { pack: 'station', wait: 30_000 }, 35_000))
    // arrival order is made certain by seeing each one queued before sending the next
    await untilStatus(owner, 'station', (row) => row.waiting === i + 1, `${i + 1} waiting`)
  }
  const order: string[] = []
  let lease = first.lease
  for (let i = 0; i < waiters.length; i++) {
    const released = await owner.call('release', { lease })
    t.equal(released.ok, true)
    const granted = await Promise.race(answers.map((a, j) => a.then((r) => ({ r, j }))).filter((_, j) => !order.includes(`waiter-${j}`)))
    order.push(granted.r.holder as string)
    lease = granted.r.lease
  }
  t.same(order, ['waiter-0', 'waiter-1', 'waiter-2', 'waiter-3', 'waiter-4'], 'granted in arrival order')
})

t.test('[LEASE-5] a wait that no seat ends answers WAIT_TIMEOUT', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const owner = await RawPeer.hello(t, port, 'owner')
  const waiter = await RawPeer.hello(t, port, 'waiter')
  t.equal((await owner.call('lease', { pack: 'station' })).ok, true)
  const before = Date.now()
  const reply = await waiter.call('lease', { pack: 'station', wait: 300 })
  t.match(errorOf(reply), { code: 'WAIT_TIMEOUT', message: /station/ })
  t.ok(Date.now() - before >= 290, 'not before the wait ran out')
  t.match(await packStatus(owner, 'station'), { inUse: 1, waiting: 0 }, 'the waiter left the queue')
})

t.test('[LEASE-5] [LEASE-4] a wait cancelled by disconnect: the seat goes to the next waiter', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const owner = await RawPeer.hello(t, port, 'owner')
  const held = await owner.call('lease', { pack: 'station' })
  const gone = await RawPeer.hello(t, port, 'gone')
  const next = await RawPeer.hello(t, port, 'next')
  gone.send('lease', { pack: 'station', wait: 30_000 })
  await untilStatus(owner, 'station', (row) => row.waiting === 1, 'the first waiter queued')
  const nextAnswer = next.call('lease', { pack: 'station', wait: 30_000 }, 35_000)
  await untilStatus(owner, 'station', (row) => row.waiting === 2, 'the second waiter queued')
  gone.destroy()
  await untilStatus(owner, 'station', (row) => row.waiting === 1, 'the closed connection\'s wait cancelled')
  t.equal((await owner.call('release', { lease: held.lease })).ok, true)
  t.match(await nextAnswer, { ok: true, holder: 'next' }, 'the next waiter got the seat')
  t.match(await packStatus(owner, 'station'), { inUse: 1, waiting: 0 }, 'and nobody else holds one')
  const comeback = await RawPeer.hello(t, port, 'gone')
  t.match(errorOf(await comeback.call('lease', { pack: 'station' })), { code: 'PACK_EXHAUSTED' }, 'the closed waiter holds nothing')
})

t.test('[LEASE-6] every lease answer carries the pack\'s licenses', async (t) => {
  const station = '<licenses><license product="station" seats="2">KEY-STATION</license></licenses>'
  const render = '<licenses><license product="render">KEY-RENDER</license><feature name="gpu"></feature></licenses>'
  const { port } = await servePacks(t, [
    { name: 'station', limit: 1, licenses: station },
    { name: 'render', limit: 1, licenses: render },
  ])
  const a = await RawPeer.hello(t, port, 'a')
  const b = await RawPeer.hello(t, port, 'b')
  const granted = await a.call('lease', { pack: 'station' })
  t.equal(granted.licenses, station, 'a grant')
  t.equal((await a.call('lease', { pack: 'station' })).licenses, station, 'a repeated request of the holder')
  t.equal((await a.call('renew', { lease: granted.lease })).licenses, station, 'a renew')
  t.equal((await b.call('lease', { pack: 'render' })).licenses, render, 'each pack its own block')
  const waiting = b.call('lease', { pack: 'station', wait: 30_000 }, 35_000)
  await untilStatus(a, 'station', (row) => row.waiting === 1, 'b waiting')
  await a.call('release', { lease: granted.lease })
  t.equal((await waiting).licenses, station, 'a grant after a wait')
})
