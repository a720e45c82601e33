// One hostile peer on the lease port ([WIRE-10]): a flood of waits, a frame never finished, a
// connection that says nothing, too many connections from one address. Each must cost the
// server a bounded share, and everyone else must go on being served.
import t from 'tap'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { servePacks } from '../helpers/server.js'
import { RawPeer, rawFrame } from '../helpers/wire.js'
import { encodeFrame } from '../../lib/protocol/frame.js'
import { CONNECTION_LIMITS } from '../../lib/server/connection.js'
import { MAX_WAITING } from '../../lib/engine/waiters.js'

t.test('[WIRE-10] the limits are the spec\'s: a frame in 10 s, idle 10 min, 1,000 waits, 1 MiB, 10 s to read', async (t) => {
  t.same(CONNECTION_LIMITS, { frameMs: 10_000, idleMs: 600_000, stalledMs: 10_000, maxBuffered: 1024 * 1024 })
  t.equal(MAX_WAITING, 1_000)
})

t.test('[WIRE-10] 100,000 waits in one write: 1,000 wait, the rest get TOO_MANY_WAITING, a bystander is served throughout', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }], { leaseTtlMs: 600_000 })
  const owner = await RawPeer.hello(t, port, 'owner')
  const held = await owner.call('lease', { pack: 'station' })
  t.match(held, { ok: true }, 'the only seat is taken')
  const watcher = await RawPeer.hello(t, port, 'bystander')
  const attacker = await RawPeer.hello(t, port, 'attacker')

  const N = 100_000
  const flood = Buffer.concat(Array.from({ length: N }, (_, i) => encodeFrame({ id: 10 + i, op: 'lease', pack: 'station', holder: `h${i}`, wait: 600_000 })))
  let floodOver = false
  let firstRefusalAt = 0
  const during: number[] = []
  // the bystander pings one after the other until the last refusal is in; pings answered
  // between the first refusal and the last show it was served while the flood was handled
  const pinging = (async () => {
    while (!floodOver) {
      const sent = performance.now()
      const reply = await watcher.call('ping', {}, 120_000)
      if (reply.ok !== true) throw new Error(`ping refused: ${JSON.stringify(reply)}`)
      if (firstRefusalAt > 0 && !floodOver) during.push(performance.now() - sent)
    }
  })()
  const firstRefusal = attacker.waitForCount(2, 120_000).then(() => (firstRefusalAt = performance.now()))
  attacker.write(flood)
  await firstRefusal
  // the hello's reply, then one refusal for each request past the 1,000th
  const frames = await attacker.waitForCount(1 + N - MAX_WAITING, 180_000)
  floodOver = true
  await pinging
  const refusals = frames.slice(1)
  t.ok(refusals.every((f) => f.ok === false && (f.error as { code: string }).code === 'TOO_MANY_WAITING'), 'every answer so far is TOO_MANY_WAITING')
  t.same(refusals.map((f) => f.id), Array.from({ length: N - MAX_WAITING }, (_, i) => 10 + MAX_WAITING + i), 'for the requests past the 1,000th, in order')
  t.ok(during.length > 0, `the bystander was answered while the flood was handled (${during.length} pings, slowest ${Math.round(Math.max(...during))} ms)`)

  const status = await watcher.call('status')
  t.match(status, { ok: true, packs: [{ name: 'station', waiting: MAX_WAITING }] }, '1,000 requests wait')
  // the waits are real: a freed seat goes to the first of them ([LEASE-5])
  t.match(await owner.call('release', { lease: held.lease }), { ok: true })
  t.match(await attacker.reply(10, 30_000), { ok: true, holder: 'h0' }, 'the first waiter gets the seat')
  // once one is answered, there is room for one more
  const again = attacker.send('lease', { pack: 'station', holder: 'late', wait: 600_000 })
  attacker.destroy()
  await attacker.closed
  t.ok(again > 0)
  // [LEASE-4] closing the connection cancels all its waits at once
  let waiting = -1
  for (let i = 0; i < 300 && waiting !== 0; i++) {
    const s = await watcher.call('status')
    waiting = (s.packs as { waiting: number }[])[0]!.waiting
    if (waiting !== 0) await sleep(50)
  }
  t.equal(waiting, 0, 'the closed connection\'s waits are gone')
  t.match(await watcher.call('hello', { protocol: 1, client: 'bystander' }), { ok: true }, 'and the bystander is served')
})

t.test('[WIRE-10] the cap is per connection: another connection may wait too', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }], { leaseTtlMs: 600_000 })
  const owner = await RawPeer.hello(t, port, 'owner')
  t.match(await owner.call('lease', { pack: 'station' }), { ok: true })
  const first = await RawPeer.hello(t, port, 'first')
  first.write(Buffer.concat(Array.from({ length: MAX_WAITING + 1 }, (_, i) => encodeFrame({ id: 10 + i, op: 'lease', pack: 'station', holder: `a${i}`, wait: 600_000 }))))
  t.match(await first.reply(10 + MAX_WAITING, 60_000), { ok: false, error: { code: 'TOO_MANY_WAITING', limit: MAX_WAITING } }, 'the 1,001st is refused')
  const second = await RawPeer.hello(t, port, 'second')
  const waitId = second.send('lease', { pack: 'station', wait: 600_000 })
  t.match(await second.call('status'), { ok: true, packs: [{ waiting: MAX_WAITING + 1 }] }, 'another connection\'s request waits')
  second.destroy()
  t.ok(waitId > 0)
})

t.test('[WIRE-10] a frame started and not finished within the limit closes the connection; others are served', async (t) => {
  const frameMs = 1_500
  const { port } = await servePacks(t, [{ name: 'station', limit: 5 }], { connectionLimits: { frameMs } })
  const steady = await RawPeer.hello(t, port, 'steady')
  const half = await RawPeer.hello(t, port, 'half')
  // 64 KiB announced, 10 bytes sent
  half.write(rawFrame(65_536, Buffer.alloc(10)))
  // a trickle of the same frame does not reset its clock
  const trickle = await RawPeer.hello(t, port, 'trickle')
  const ping = encodeFrame({ id: 99, op: 'ping' })
  trickle.write(ping.subarray(0, 2))
  const started = Date.now()
  let sent = 2
  const trickling = (async () => {
    while (trickle.isOpen && sent < ping.length - 1) {
      await sleep(frameMs / 4)
      trickle.write(ping.subarray(sent, sent + 1))
      sent++
    }
  })()
  await half.waitClosed(frameMs + 30_000)
  await trickle.waitClosed(frameMs + 30_000)
  await trickling
  t.ok(Date.now() - started >= frameMs - 100, 'not before the frame\'s time was up')
  t.notOk(trickle.frames.some((f) => f.id === 99), 'the unfinished frame was never answered')
  // a frame split across writes but finished in time is answered, and closes nothing
  const split = await RawPeer.hello(t, port, 'split')
  const frame = encodeFrame({ id: 7, op: 'ping' })
  split.write(frame.subarray(0, 3))
  await sleep(frameMs / 3)
  split.write(frame.subarray(3))
  t.same(await split.reply(7), { id: 7, ok: true }, 'a split frame finished in time is answered')
  t.ok(steady.isOpen && split.isOpen, 'the others stay open')
  t.same(await steady.call('ping'), { id: 2, ok: true })
})

t.test('[WIRE-10] a connection with no frame and nothing pending is closed after the idle time; one with a wait is not', async (t) => {
  const idleMs = 1_500
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }], { connectionLimits: { idleMs }, leaseTtlMs: 600_000 })
  const owner = await RawPeer.hello(t, port, 'owner')
  t.match(await owner.call('lease', { pack: 'station' }), { ok: true })
  const waiting = await RawPeer.hello(t, port, 'waiting')
  const waitId = waiting.send('lease', { pack: 'station', wait: 600_000 })
  const idle = await RawPeer.hello(t, port, 'idle')
  const started = Date.now()
  // the owner keeps sending frames; the waiting one has a request pending all along
  let pinging = true
  const pings = (async () => {
    while (pinging) {
      await sleep(idleMs / 4)
      const reply = await owner.call('ping', {}, 60_000)
      if (reply.ok !== true) throw new Error('ping refused')
    }
  })()
  await idle.waitClosed(idleMs + 30_000)
  t.ok(Date.now() - started >= idleMs - 100, 'not before the idle time')
  await sleep(idleMs * 2)
  pinging = false
  await pings
  t.ok(waiting.isOpen, 'a connection with a pending wait stays open past the idle time')
  t.notOk(waiting.frames.some((f) => f.id === waitId), 'its wait is still pending')
  t.ok(owner.isOpen, 'a connection that sends frames stays open')
  // once the wait is over, its quiet time starts
  waiting.destroy()
})

t.test('[WIRE-10] past --max-connections-per-address, that address gets SERVER_BUSY; another address is served', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 5 }], { maxConnectionsPerAddress: 3 })
  const mine = await Promise.all([0, 1, 2].map((i) => RawPeer.hello(t, port, `mine-${i}`)))
  const extra = await RawPeer.open(t, port)
  await extra.waitClosed()
  t.equal(extra.frames.length, 1, 'one frame, then closed')
  t.match(extra.frames[0], { id: 0, ok: false, error: { code: 'SERVER_BUSY', message: /3 connections from 127\.0\.0\.1/ } })
  // another peer address on the loopback (127.0.0.0/8) is not held to this one's count
  const other = await new Promise<import('node:net').Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' })
    s.once('connect', () => resolve(s))
    s.once('error', reject)
  })
  t.teardown(() => other.destroy())
  const answer = await new Promise<Buffer>((resolve) => {
    other.once('data', resolve)
    other.write(encodeFrame({ id: 1, op: 'hello', protocol: 1, client: 'other' }))
  })
  t.ok(answer.includes(Buffer.from('flr/')), 'a peer from another address is served')
  for (const peer of mine) t.match(await peer.call('ping'), { ok: true }, 'the admitted ones are served')
  // a closed connection gives its address a slot back
  mine[0]!.destroy()
  let again: RawPeer | undefined
  for (let i = 0; i < 300 && !again; i++) {
    const peer = await RawPeer.open(t, port)
    const hello = await peer.call('hello', { protocol: 1, client: 'again' }).catch(() => undefined)
    if (hello?.ok === true) again = peer
    else await sleep(50)
  }
  t.ok(again, 'a closed connection frees its address\'s slot')
})
