import t from 'tap'
import { encodeFrame, FrameDecoder, MAX_FRAME } from '../../lib/protocol/frame.js'
import { encode } from '../../lib/protocol/msgpack.js'
import { BAD_BODIES, nestedArrays } from './fixtures/bad-bodies.js'
import { byteByByte, feedings, header, rawFrame, Recorder, run, splitAt } from './fixtures/feeding.js'
import { seededRandom as seeded } from '../helpers/random.js'

const ping = { id: 1, op: 'ping' }

/** A frame whose body is exactly `size` bytes: {s: "xxx…"} with str32. */
function frameOfBodySize(size: number): Buffer {
  const body = Buffer.concat([Buffer.from('81a173db', 'hex'), Buffer.alloc(4), Buffer.alloc(size - 8, 0x78)])
  body.writeUInt32BE(size - 8, 4)
  return Buffer.concat([header(size), body])
}

t.test('[WIRE-1] a frame is a 4-byte big-endian length then the MessagePack map, byte by byte', async (t) => {
  t.same(encodeFrame(ping).toString('hex'), '0000000d' + '82a2696401a26f70a470696e67')
  const large = encodeFrame({ s: 'x'.repeat(300) })
  t.equal(large.readUInt32BE(0), large.length - 4)
  t.same(large.subarray(4), encode({ s: 'x'.repeat(300) }))
})

t.test('[WIRE-1] one frame decodes the same whole, split at random points, and one byte at a time', async (t) => {
  const msg = { id: 42, op: 'lease', pack: 'station', holder: 'ws-7 ü 😀', wait: 30_000 }
  for (const [how, chunks] of feedings(encodeFrame(msg), 7)) {
    const { sink, peak } = run(chunks)
    t.same(sink.frames, [msg], how)
    t.same(sink.faults, [], how)
    t.ok(peak <= MAX_FRAME + 4, `${how}: held at most max + 4 bytes`)
  }
})

t.test('[WIRE-1] many frames in one chunk, and frames split anywhere, all arrive in order', async (t) => {
  const random = seeded(99)
  const msgs = Array.from({ length: 1000 }, (_, i) => ({
    id: i, op: 'renew', lease: 'L'.repeat(1 + Math.floor(random() * 40)), n: random() < 0.1 ? 'é'.repeat(5000) : i,
  }))
  const stream = Buffer.concat(msgs.map(encodeFrame))
  for (const [how, chunks] of feedings(stream, 3)) {
    const { sink, decoder } = run(chunks)
    t.same(sink.frames, msgs, how)
    t.same(sink.faults, [], how)
    t.equal(decoder.buffered, 0, `${how}: nothing held once every frame is in`)
  }
  // Every single split point, for a few frames, so no boundary is missed.
  const few = Buffer.concat(msgs.slice(0, 3).map(encodeFrame))
  for (let cut = 1; cut < few.length; cut++) {
    const { sink } = run(splitAt(few, [cut]))
    if (sink.frames.length !== 3) t.fail(`split at ${cut}`)
  }
  t.pass('every two-way split of three frames decodes')
})

t.test('[WIRE-1] a body of exactly 65,536 bytes is accepted; a custom limit is honoured', async (t) => {
  const biggest = frameOfBodySize(MAX_FRAME)
  for (const [how, chunks] of feedings(biggest, 5).filter(([how]) => how !== 'one byte at a time').concat([['byte by byte', byteByByte(biggest)]])) {
    const { sink, peak } = run(chunks)
    t.equal(sink.frames.length, 1, how)
    t.equal((sink.frames[0]?.s as string).length, MAX_FRAME - 8, how)
    t.ok(peak <= MAX_FRAME + 4, `${how}: peak ${peak}`)
  }
  const client = run([frameOfBodySize(200_000)], 1 << 20) // e.g. a client reading large replies
  t.equal(client.sink.frames.length, 1)
  const small = run([encodeFrame({ s: 'x'.repeat(100) })], 64)
  t.equal(small.sink.faults[0]?.code, 'FRAME_TOO_LARGE')
  t.throws(() => new FrameDecoder(new Recorder(), 0), RangeError)
  t.throws(() => new FrameDecoder(new Recorder(), 2 ** 32), RangeError)
})

t.test('[WIRE-3] a declared length over the limit is FRAME_TOO_LARGE as soon as the header is in', async (t) => {
  for (const length of [MAX_FRAME + 1, 1_000_000, 0xffff_ffff]) {
    for (const [how, chunks] of feedings(header(length), length)) {
      const { sink, peak } = run(chunks)
      t.equal(sink.faults.length, 1, `${length} ${how}`)
      t.equal(sink.faults[0]?.code, 'FRAME_TOO_LARGE')
      t.match(sink.faults[0]?.message, String(length))
      t.same(sink.faults[0]?.toWire(), { code: 'FRAME_TOO_LARGE', message: sink.faults[0]?.message, limit: MAX_FRAME })
      t.ok(peak <= 4, `${how}: only the header was held`)
    }
  }
})

t.test('[WIRE-3] a declared length of 0 is BAD_FRAME before any further byte', async (t) => {
  for (const [how, chunks] of feedings(header(0))) {
    const { sink } = run(chunks)
    t.equal(sink.faults.length, 1, how)
    t.equal(sink.faults[0]?.code, 'BAD_FRAME')
    t.match(sink.faults[0]?.message, 'length is 0')
  }
})

t.test('[WIRE-3] every bad body is BAD_FRAME in every feeding, after the good frames before it', async (t) => {
  const before = encodeFrame(ping)
  const after = encodeFrame({ id: 2, op: 'ping' })
  for (const bad of BAD_BODIES) {
    t.test(bad.name, async (t) => {
      const stream = Buffer.concat([before, rawFrame(bad.hex), after])
      for (const [how, chunks] of feedings(stream, bad.hex.length)) {
        const { sink, decoder } = run(chunks)
        t.same(sink.frames, [ping], `${how}: the frame before is delivered, none after`)
        t.equal(sink.faults.length, 1, `${how}: one fault`)
        t.equal(sink.faults[0]?.code, 'BAD_FRAME', how)
        t.match(sink.faults[0]?.message, bad.why, how)
        t.equal(decoder.buffered, 0, `${how}: nothing held after the fault`)
      }
    })
  }
})

t.test('[WIRE-3] 65,531 nested arrays in a 64 KiB frame are BAD_FRAME, not a stack overflow', async (t) => {
  const body = nestedArrays(65_531)
  t.equal(body.length, 65_535)
  for (const [how, chunks] of [['whole', [Buffer.concat([header(body.length), body])]], ['one byte at a time', byteByByte(Buffer.concat([header(body.length), body]))]] as const) {
    const { sink } = run([...chunks])
    t.equal(sink.faults[0]?.code, 'BAD_FRAME', how)
    t.match(sink.faults[0]?.message, 'deeper than')
  }
})

t.test('[WIRE-3] after a fault all further input is ignored', async (t) => {
  const sink = new Recorder()
  const decoder = new FrameDecoder(sink)
  decoder.push(header(0))
  decoder.push(encodeFrame(ping))
  decoder.push(header(0xffff_ffff))
  decoder.push(Buffer.alloc(100_000, 0xff))
  t.equal(sink.faults.length, 1)
  t.same(sink.frames, [])
  t.equal(decoder.buffered, 0)
})

t.test('[WIRE-1] a truncated body waits without a fault and holds no more than it received', async (t) => {
  const full = frameOfBodySize(MAX_FRAME)
  const sink = new Recorder()
  const decoder = new FrameDecoder(sink)
  decoder.push(full.subarray(0, 14)) // header + 10 body bytes of an announced 64 KiB
  t.same(sink.faults, [])
  t.same(sink.frames, [])
  t.ok(decoder.buffered <= 4096, `a peer that announces 64 KiB and sends 10 bytes costs ${decoder.buffered} bytes`)
  let peak = 0
  for (let at = 14; at < full.length - 1; at += 997) {
    decoder.push(full.subarray(at, Math.min(at + 997, full.length - 1)))
    peak = Math.max(peak, decoder.buffered)
    if (decoder.buffered > Math.max(4096, 2 * (at + 997))) t.fail(`held ${decoder.buffered} after ${at} bytes`)
  }
  t.ok(peak <= MAX_FRAME, `peak ${peak} within the frame size`)
  t.same(sink.frames, [], 'still waiting for the last byte')
  decoder.push(full.subarray(full.length - 1))
  t.equal(sink.frames.length, 1)
  t.equal(decoder.buffered, 0)
  // A header cut short also just waits.
  const partial = run([Buffer.from([0, 0])])
  t.same(partial.sink.faults, [])
  t.equal(partial.decoder.buffered, 2)
})

t.test('[WIRE-1] a split frame survives the caller reusing its chunk once push returns', async (t) => {
  const frame = encodeFrame({ id: 1, op: 'renew', lease: 'abc' })
  const sink = new Recorder()
  const decoder = new FrameDecoder(sink)
  const chunk = Buffer.from(frame)
  decoder.push(chunk.subarray(0, 7))
  chunk.fill(0, 0, 7) // the caller may reuse its buffer once push returns
  decoder.push(chunk.subarray(7))
  t.same(sink.frames, [{ id: 1, op: 'renew', lease: 'abc' }])
})
