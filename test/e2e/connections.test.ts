// Connection limits against the real daemon: --max-connections, a peer that stops reading,
// the hello deadline ([WIRE-10], [WIRE-4]).
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { servePacks } from '../helpers/server.js'
import { RawPeer, bystander } from '../helpers/wire.js'
import { encodeFrame } from '../../lib/protocol/frame.js'
import { HELLO_TIMEOUT_MS } from '../../lib/server/connection.js'

t.test('[WIRE-10] past --max-connections a connection gets SERVER_BUSY and is closed', async (t) => {
  const { port, daemon } = await servePacks(t, [{ name: 'station', limit: 5 }], { maxConnections: 3 })
  const admitted = await Promise.all([0, 1, 2].map((i) => RawPeer.hello(t, port, `admitted-${i}`)))
  const extra = await RawPeer.open(t, port)
  await extra.waitClosed()
  t.equal(extra.frames.length, 1, 'one frame, then closed')
  t.match(extra.frames[0], { id: 0, ok: false, error: { code: 'SERVER_BUSY', message: /3 connections/ } })
  for (const peer of admitted) t.match(await peer.call('lease', { pack: 'station' }), { ok: true }, 'the admitted ones are served')

  admitted[0]!.destroy()
  // the freed slot is taken once the server has seen the close
  let again: RawPeer | undefined
  const deadline = Date.now() + 15_000
  while (!again) {
    const peer = await RawPeer.open(t, port)
    // a refused one is answered SERVER_BUSY and closed before any reply to hello
    const hello = await peer.call('hello', { protocol: 1, client: 'again' }).catch(() => undefined)
    if (hello?.ok === true) again = peer
    else if (Date.now() > deadline) throw new Error('the slot of a closed connection was never freed')
    else await sleep(50)
  }
  t.match(await again.call('ping'), { ok: true }, 'a closed connection frees its slot')

  // a refused socket must close too: one left half-open would leak its descriptor and hold up
  // listener.close() in stop() forever ([SRV-8] exit within 5 s)
  let timer: NodeJS.Timeout | undefined
  const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 10_000)))
  const stopped = await Promise.race([daemon.stop().then(() => true), gaveUp])
  clearTimeout(timer)
  t.ok(stopped, '[SRV-8] stop() completes after connections were refused')
})

t.test('[WIRE-10] a peer that keeps sending but stops reading is cut off past 1 MiB of replies; others are served', async (t) => {
  // a TTL that outlives the flood: the lease is checked afterwards
  const { port } = await servePacks(t, [{ name: 'station', limit: 5 }], { leaseTtlMs: 300_000 })
  const steady = bystander(await RawPeer.hello(t, port, 'bystander'), 'station')
  const stalled = await RawPeer.hello(t, port, 'stalled')
  const held = await stalled.call('lease', { pack: 'station' })
  stalled.socket.pause()
  // Small replies (a ping's is under 20 bytes): the limit is reached only by buffering, never by
  // one burst's worth of answers. Batches keep coming until the server gives up on the peer;
  // a closed connection shows as a failed write, since the peer reads nothing.
  const batch = Buffer.concat(Array.from({ length: 50_000 }, (_, i) => encodeFrame({ id: 100 + i, op: 'ping' })))
  let sent = 0
  const deadline = Date.now() + 45_000
  while (stalled.isOpen && Date.now() < deadline) {
    if (stalled.socket.writableLength < batch.length) {
      stalled.write(batch)
      sent += 50_000
    }
    await sleep(50)
  }
  t.notOk(stalled.isOpen, `the server closed the connection that stopped reading (after up to ${sent} requests)`)
  const { rounds, failures } = await steady.stop()
  t.same(failures, [], 'the bystander was never refused')
  t.ok(rounds > 0, `the bystander was served meanwhile (${rounds} rounds)`)
  const after = await RawPeer.hello(t, port, 'after')
  t.match(await after.call('renew', { lease: held.lease }), { ok: true, lease: held.lease }, '[LEASE-4] its lease lives on')
})

t.test('[WIRE-10] a peer that reads is never cut off, however far its requests run ahead of its reading', async (t) => {
  // every renew answer carries the pack's 8 KiB licenses ([LEASE-6]): 2,000 renews sent at
  // once are answered with 16 MiB, far more than 1 MiB ever waits for the peer at a time
  const licenses = `<licenses>${'<license product="station"/>'.repeat(300)}</licenses>`
  const { port } = await servePacks(t, [{ name: 'station', limit: 5, licenses }])
  const peer = await RawPeer.hello(t, port, 'reader')
  const held = await peer.call('lease', { pack: 'station' })
  const burst = Array.from({ length: 2_000 }, (_, i) => encodeFrame({ id: 1_000 + i, op: 'renew', lease: held.lease }))
  peer.write(Buffer.concat(burst))
  await peer.waitFor((f) => f.id === 1_000 + burst.length - 1, 'the answer to the last renew of the burst', 30_000)
  const answers = peer.frames.filter((f) => (f.id as number) >= 1_000)
  t.equal(answers.length, burst.length, 'every renew is answered')
  t.ok(answers.every((f) => f.ok === true && f.licenses === held.licenses), 'each with the licenses')
  t.ok(answers.length * licenses.length > 8 * 1024 * 1024, 'with many MiB of answers in all')
  t.match(await peer.call('ping'), { ok: true }, 'the connection is still served')
})

t.test('[WIRE-4] a connection without hello is closed 10 s after connecting; one with hello stays', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 5 }])
  const opened = Date.now()
  const silent = await RawPeer.open(t, port)
  const noHello = await RawPeer.open(t, port)
  const refused = await RawPeer.open(t, port)
  const greeted = await RawPeer.hello(t, port, 'greeted')
  t.match(await noHello.call('ping'), { ok: false, error: { code: 'HELLO_REQUIRED' } })
  t.match(await refused.call('hello', { protocol: 9, client: 'future' }), { ok: false, error: { code: 'PROTOCOL_UNSUPPORTED' } })
  const closedAt = await Promise.all(
    [silent, noHello, refused].map(async (peer) => {
      await peer.waitClosed(HELLO_TIMEOUT_MS + 15_000)
      return Date.now()
    }),
  )
  for (const at of closedAt) t.ok(at - opened >= HELLO_TIMEOUT_MS - 100, `not closed before the 10 s deadline (${at - opened} ms)`)
  t.ok(greeted.isOpen, 'the connection that said hello is still open')
  t.same(await greeted.call('ping'), { id: 2, ok: true })
})
