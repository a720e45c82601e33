// Section 6 against the real daemon, byte by byte over node:net: ids, bad frames, hello,
// every error code a lease client can meet, status and ping ([WIRE-2]..[WIRE-7]).
import t from 'tap'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { HOST_ID, servePacks } from '../helpers/server.js'
import { RawPeer, bystander, frameOf, rawFrame, type Frame } from '../helpers/wire.js'
import { encode } from '../../lib/protocol/msgpack.js'
import { VERSION } from '../../lib/version.js'


function errorOf(reply: Frame): Record<string, unknown> {
  if (reply.ok !== false) throw new Error(`expected an error reply, got ${JSON.stringify(reply)}`)
  return reply.error as Record<string, unknown>
}

t.test('[WIRE-2] replies are matched by id and may come out of order', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const owner = await RawPeer.hello(t, port, 'owner')
  const held = await owner.call('lease', { pack: 'station' })
  const peer = await RawPeer.hello(t, port, 'peer')
  // ids are the client's: any uint, in any order, echoed as they came
  peer.write(Buffer.concat([
    frameOfMsg({ id: 900_000_000_001, op: 'lease', pack: 'station', wait: 30_000 }),
    frameOfMsg({ id: 7, op: 'ping' }),
    frameOfMsg({ id: 3, op: 'status' }),
  ]))
  const ping = await peer.reply(7)
  const status = await peer.reply(3)
  t.same(ping, { id: 7, ok: true }, 'ping answered with its own id')
  t.equal(status.serving, true)
  t.notOk(peer.frames.some((f) => f.id === 900_000_000_001), 'the waiting lease is not answered yet')
  await owner.call('release', { lease: held.lease })
  t.match(await peer.reply(900_000_000_001), { ok: true, pack: 'station' }, 'the wait answered last, matched by its id')
  t.same(peer.frames.slice(1).map((f) => f.id), [7, 3, 900_000_000_001], 'out of order, each id once')
})

t.test('[WIRE-2] 500 pipelined requests: one reply each, matched by id', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1000 }])
  const peer = await RawPeer.hello(t, port, 'pipeliner')
  const sent = new Map<number, string>()
  const burst: Buffer[] = []
  for (let i = 0; i < 500; i++) {
    const id = 1000 + i
    const msg = i % 3 === 0 ? { id, op: 'lease', pack: 'station', holder: `h-${i}` } : i % 3 === 1 ? { id, op: 'ping' } : { id, op: 'status' }
    sent.set(id, msg.op)
    burst.push(frameOfMsg(msg))
  }
  peer.write(Buffer.concat(burst))
  const frames = await peer.waitForCount(1 + 500)
  const replies = frames.slice(1)
  t.equal(new Set(replies.map((r) => r.id)).size, 500, 'one reply per id')
  const shapeOk = replies.every((r) => {
    const op = sent.get(r.id as number)
    if (op === 'lease') return r.ok === true && typeof r.lease === 'string'
    if (op === 'status') return r.ok === true && Array.isArray(r.packs)
    return r.ok === true && Object.keys(r).length === 2
  })
  t.ok(shapeOk, 'each reply is the answer to the request with its id')
})

// Each body is sent after hello; each must end the connection after exactly one error frame with id 0.
const BAD_FRAMES: { name: string; bytes: () => Buffer; code: string }[] = [
  { name: 'declared length 0', bytes: () => rawFrame(0), code: 'BAD_FRAME' },
  { name: 'not a map (an array)', bytes: () => frameOf(encode([1, 2, 3])), code: 'BAD_FRAME' },
  { name: 'not a map (a string)', bytes: () => frameOf(encode('ping')), code: 'BAD_FRAME' },
  { name: 'not a map (an integer)', bytes: () => frameOf(Buffer.from([0x2a])), code: 'BAD_FRAME' },
  { name: 'trailing bytes after the map', bytes: () => frameOf(Buffer.concat([encode({ id: 1, op: 'ping' }), Buffer.from([0xc0])])), code: 'BAD_FRAME' },
  { name: 'a truncated map (declared length covers less than the map)', bytes: () => frameOf(encode({ id: 1, op: 'ping' }).subarray(0, 6)), code: 'BAD_FRAME' },
  // {id: 1, op: "ping", x: fixext1(type 1)}
  { name: 'an extension type (fixext 1)', bytes: () => frameOf(mapWith(Buffer.from([0xd4, 0x01, 0x00]))), code: 'BAD_FRAME' },
  // msgpack's timestamp (ext -1), which msgpackr would turn into a Date
  { name: 'an extension type (timestamp 32)', bytes: () => frameOf(mapWith(Buffer.from([0xd6, 0xff, 0, 0, 0, 1]))), code: 'BAD_FRAME' },
  { name: 'an extension type (ext 8)', bytes: () => frameOf(mapWith(Buffer.from([0xc7, 0x02, 0x05, 0xaa, 0xbb]))), code: 'BAD_FRAME' },
  { name: 'arrays nested 1000 deep', bytes: () => frameOf(mapWith(Buffer.concat([Buffer.alloc(1000, 0x91), Buffer.from([0xc0])]))), code: 'BAD_FRAME' },
  { name: 'an array declaring 4 billion entries', bytes: () => frameOf(mapWith(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]))), code: 'BAD_FRAME' },
  { name: 'a string declaring 4 GiB', bytes: () => frameOf(mapWith(Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]))), code: 'BAD_FRAME' },
  { name: 'a map with a non-string key', bytes: () => frameOf(Buffer.from([0x81, 0x01, 0x02])), code: 'BAD_FRAME' },
  { name: 'the unused byte 0xc1', bytes: () => frameOf(mapWith(Buffer.from([0xc1]))), code: 'BAD_FRAME' },
  { name: 'declared length 65,537', bytes: () => rawFrame(65_537), code: 'FRAME_TOO_LARGE' },
  { name: 'declared length 4 GiB - 1', bytes: () => rawFrame(0xffff_ffff), code: 'FRAME_TOO_LARGE' },
]

t.test('[WIRE-3] every bad frame: one error frame with id 0, then the connection closes; others keep leasing', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 2 }])
  const steady = bystander(await RawPeer.hello(t, port, 'bystander'), 'station')
  for (const bad of BAD_FRAMES) {
    const peer = await RawPeer.hello(t, port, 'offender')
    peer.write(bad.bytes())
    await peer.waitClosed()
    const after = peer.frames.slice(1)
    t.equal(after.length, 1, `${bad.name}: exactly one frame`)
    t.match(after[0], { id: 0, ok: false, error: { code: bad.code, message: /\S/ } }, `${bad.name}: ${bad.code} with id 0`)
  }
  const { rounds, failures } = await steady.stop()
  t.same(failures, [], 'the bystander was never refused')
  t.ok(rounds > 0, `the bystander leased and released all along (${rounds} rounds)`)
})

t.test('[WIRE-3] a bad frame right behind good requests: the error frame with id 0 is the last frame', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const peer = await RawPeer.hello(t, port, 'mixed')
  peer.write(Buffer.concat([frameOfMsg({ id: 2, op: 'ping' }), frameOfMsg({ id: 3, op: 'status' }), rawFrame(0)]))
  await peer.waitClosed()
  const after = peer.frames.slice(1)
  t.equal(after.filter((f) => f.id === 0).length, 1, 'one error frame')
  t.match(after.at(-1), { id: 0, ok: false, error: { code: 'BAD_FRAME' } }, 'and nothing after it')
})

t.test('[WIRE-3] an oversized frame is answered on its header alone, before any body byte is sent', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const peer = await RawPeer.hello(t, port, 'big')
  peer.write(rawFrame(65_537))
  const fault = await peer.waitFor((f) => f.id === 0, 'the fault')
  t.match(fault, { ok: false, error: { code: 'FRAME_TOO_LARGE', message: /65,?536/ } })
  await peer.waitClosed()
  t.pass('closed without the body ever being sent')
})

t.test('[WIRE-1] a frame of exactly 65,536 bytes is accepted', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const peer = await RawPeer.hello(t, port, 'edge')
  const base = encode({ id: 2, op: 'ping', pad: '' })
  // pad grows the map to 65,536 bytes: a str16 header (3 bytes) replaces the empty fixstr (1 byte)
  const pad = 'x'.repeat(65_536 - base.length - 2)
  const body = encode({ id: 2, op: 'ping', pad })
  t.equal(body.length, 65_536)
  peer.write(frameOf(body))
  t.same(await peer.reply(2), { id: 2, ok: true }, 'answered like any ping')
  t.ok(peer.isOpen)
})

t.test('[WIRE-3] a bad frame before hello also ends the connection with one error frame', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const peer = await RawPeer.open(t, port)
  peer.write(frameOf(encode(['hello'])))
  await peer.waitClosed()
  t.match(peer.frames, [{ id: 0, ok: false, error: { code: 'BAD_FRAME' } }])
  t.equal(peer.frames.length, 1)
})

t.test('[WIRE-3] BAD_REQUEST and UNKNOWN_OP answer the request and keep the connection', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const peer = await RawPeer.hello(t, port, 'sloppy')
  const cases: { msg: Record<string, unknown>; code: string; field?: string }[] = [
    { msg: { id: 11, op: 'lease' }, code: 'BAD_REQUEST', field: 'pack' },
    { msg: { id: 12, op: 'lease', pack: 42 }, code: 'BAD_REQUEST', field: 'pack' },
    { msg: { id: 13, op: 'lease', pack: 'station', wait: -1 }, code: 'BAD_REQUEST', field: 'wait' },
    { msg: { id: 14, op: 'lease', pack: 'station', wait: 600_001 }, code: 'BAD_REQUEST', field: 'wait' },
    { msg: { id: 15, op: 'lease', pack: 'station', holder: 'h'.repeat(129) }, code: 'BAD_REQUEST', field: 'holder' },
    { msg: { id: 16, op: 'lease', pack: 'station', holder: '' }, code: 'BAD_REQUEST', field: 'holder' },
    { msg: { id: 17, op: 'renew' }, code: 'BAD_REQUEST', field: 'lease' },
    { msg: { id: 18, op: 'release', lease: ['x'] }, code: 'BAD_REQUEST', field: 'lease' },
    { msg: { id: 19, op: 42 }, code: 'BAD_REQUEST', field: 'op' },
    { msg: { id: 20 }, code: 'BAD_REQUEST', field: 'op' },
    { msg: { id: 21, op: 'frobnicate' }, code: 'UNKNOWN_OP' },
    { msg: { id: 22, op: 'LEASE', pack: 'station' }, code: 'UNKNOWN_OP' },
  ]
  for (const c of cases) {
    peer.write(frameOfMsg(c.msg))
    const error = errorOf(await peer.reply(c.msg.id as number))
    t.match(error, { code: c.code, message: /\S/, ...(c.field ? { field: c.field } : {}) }, `${JSON.stringify(c.msg)} → ${c.code}`)
  }
  peer.write(frameOfMsg({ op: 'ping' }))
  t.match(await peer.waitFor((f) => f.id === 0, 'the answer to a request without id'), { ok: false, error: { code: 'BAD_REQUEST', field: 'id' } }, 'no id: answered with id 0')
  t.same(await peer.call('ping'), { id: 2, ok: true }, 'the connection still serves')
  t.ok(peer.isOpen)
})

t.test('[WIRE-4] hello must come first: HELLO_REQUIRED, and the connection stays', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const peer = await RawPeer.open(t, port)
  for (const [op, body] of [['lease', { pack: 'station' }], ['renew', { lease: 'abc' }], ['release', { lease: 'abc' }], ['status', {}], ['ping', {}]] as const) {
    t.match(errorOf(await peer.call(op, body)), { code: 'HELLO_REQUIRED', message: /\S/ }, `${op} before hello`)
  }
  t.match(await peer.call('hello', { protocol: 1, client: 'late' }), { ok: true, protocol: 1 }, 'hello still accepted')
  t.match(await peer.call('lease', { pack: 'station' }), { ok: true, holder: 'late' })
})

t.test('[WIRE-4] another protocol: PROTOCOL_UNSUPPORTED; protocol 1 still accepted', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const peer = await RawPeer.open(t, port)
  t.match(errorOf(await peer.call('hello', { protocol: 2, client: 'future' })), { code: 'PROTOCOL_UNSUPPORTED', message: /protocol 1/ })
  t.match(errorOf(await peer.call('ping')), { code: 'HELLO_REQUIRED' }, 'a refused hello is no hello')
  t.match(await peer.call('hello', { protocol: 1, client: 'present' }), { ok: true })
  t.match(errorOf(await peer.call('hello', { protocol: 1, client: '' })), { code: 'BAD_REQUEST', field: 'client' }, 'client must be 1–128 chars')
})

t.test('[WIRE-4] the hello answer', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }, { name: 'render', limit: 2 }], { leaseTtlMs: 12_000, graceMs: 3_600_000 })
  const peer = await RawPeer.open(t, port)
  const before = Date.now()
  const hello = await peer.call('hello', { protocol: 1, client: 'me', app: 'wire-test' })
  t.same(
    { ...hello, serverTime: 0 },
    { id: 1, ok: true, protocol: 1, server: `flr/${VERSION}`, vendor: 'Acme', hostId: HOST_ID, serverTime: 0, leaseTtlMs: 12_000, graceMs: 3_600_000, packs: ['station', 'render'] },
  )
  t.ok((hello.serverTime as number) >= before - 1000 && (hello.serverTime as number) <= Date.now() + 1000, 'serverTime is the server clock in ms')
})

t.test('[WIRE-5] [WIRE-6] every lease error code, each with a message, the connection kept', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const owner = await RawPeer.hello(t, port, 'owner')
  const peer = await RawPeer.hello(t, port, 'asker')
  const held = await owner.call('lease', { pack: 'station' })
  t.match(errorOf(await peer.call('lease', { pack: 'nope' })), { code: 'PACK_UNKNOWN', message: /nope/ })
  t.match(errorOf(await peer.call('lease', { pack: 'station' })), { code: 'PACK_EXHAUSTED', limit: 1, inUse: 1, message: /station/ })
  t.match(errorOf(await peer.call('lease', { pack: 'station', wait: 50 })), { code: 'WAIT_TIMEOUT', message: /station/ })
  t.match(errorOf(await peer.call('renew', { lease: 'never-granted' })), { code: 'LEASE_UNKNOWN', message: /\S/ }, 'renew: never granted')
  t.match(errorOf(await peer.call('release', { lease: 'never-granted' })), { code: 'LEASE_UNKNOWN' }, 'release: never granted')
  await owner.call('release', { lease: held.lease })
  t.match(errorOf(await peer.call('renew', { lease: held.lease })), { code: 'LEASE_UNKNOWN' }, 'renew: released')
  t.match(errorOf(await peer.call('leases')), { code: 'AUTH_REQUIRED' }, '[WIRE-8] admin op before auth')
  t.match(errorOf(await peer.call('revoke', { lease: 'x' })), { code: 'AUTH_REQUIRED' })
  t.match(errorOf(await peer.call('auth', { password: 'whatever' })), { code: 'ADMIN_PASSWORD_NOT_SET', message: /set-password/ })
  t.ok(peer.isOpen, 'none of them ends the connection')
  const ping = await peer.call('ping')
  t.same(ping, { id: ping.id, ok: true }, 'and it still serves')
})

t.test('[WIRE-5] [SRV-3] NOT_SERVING once the LPF is removed; status says why', async (t) => {
  const { port, dirs } = await servePacks(t, [{ name: 'station', limit: 1 }], { removalGraceMs: 100, recheckMs: 200 })
  const peer = await RawPeer.hello(t, port, 'late')
  t.equal((await peer.call('status')).serving, true)
  rmSync(join(dirs.licenseDir, `${HOST_ID}.lp`))
  let status: Frame
  const deadline = Date.now() + 20_000
  while ((status = await peer.call('status')).serving !== false) {
    if (Date.now() > deadline) throw new Error('the server kept serving after the LPF was removed')
    await sleep(50)
  }
  t.match(status, { ok: true, serving: false, reason: { code: 'LPF_MISSING', message: /\S/ }, packs: [] })
  t.match(errorOf(await peer.call('lease', { pack: 'station' })), { code: 'NOT_SERVING', message: /status/ })
})

t.test('[WIRE-7] status: serving, lpf, packs; ping answers {}', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 3 }, { name: 'render', limit: 1 }])
  const peer = await RawPeer.hello(t, port, 'looker')
  await peer.call('lease', { pack: 'station' })
  await peer.call('lease', { pack: 'render' })
  const waiter = await RawPeer.hello(t, port, 'waiter')
  waiter.send('lease', { pack: 'render', wait: 30_000 })
  let status: Frame
  while (((status = await peer.call('status')).packs as { waiting: number }[])[1]!.waiting !== 1) await sleep(20)
  t.match(status, {
    ok: true,
    serving: true,
    lpf: { vendor: 'Acme', generated: '2026-11-01', expiration: '2099-12-31', hostId: HOST_ID, port },
    packs: [
      { name: 'station', limit: 3, inUse: 1, waiting: 0 },
      { name: 'render', limit: 1, inUse: 1, waiting: 1 },
    ],
  })
  t.notOk('reason' in status, 'no reason while serving')
  t.notOk('pendingError' in status, 'no pending error')
  const ping = await peer.call('ping')
  t.same(ping, { id: ping.id, ok: true }, 'ping → {}')
})

t.test('[WIRE-7] status shows a pending error while the last valid LPF stays in force', async (t) => {
  const { port, dirs } = await servePacks(t, [{ name: 'station', limit: 3 }], { recheckMs: 200 })
  const peer = await RawPeer.hello(t, port, 'looker')
  writeFileSync(join(dirs.licenseDir, `${HOST_ID}.lp`), '<lpf>not signed</lpf>')
  let status: Frame
  const deadline = Date.now() + 20_000
  while (!('pendingError' in (status = await peer.call('status')))) {
    if (Date.now() > deadline) throw new Error('no pendingError after a bad LPF')
    await sleep(50)
  }
  t.match(status, { serving: true, pendingError: { code: /^LPF_/, message: /\S/ }, packs: [{ name: 'station', limit: 3 }] })
})

t.test('[WIRE-2] [WIRE-9] pushes carry no id: shutdown reaches every connection', async (t) => {
  const { port, daemon } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const peers = await Promise.all([RawPeer.hello(t, port, 'a'), RawPeer.hello(t, port, 'b')])
  await daemon.stop()
  for (const peer of peers) {
    const pushed = await peer.waitFor((f) => f.push !== undefined, 'a push')
    t.same(pushed, { push: 'shutdown' }, 'shutdown, without id')
    await peer.waitClosed()
  }
})

function frameOfMsg(msg: Record<string, unknown>): Buffer {
  return frameOf(encode(msg))
}

/** {id: 1, op: "ping", x: <value>} with a hand-made value. */
function mapWith(value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x83]), encode('id'), encode(1), encode('op'), encode('ping'), encode('x'), value])
}
