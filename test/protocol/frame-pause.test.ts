// [WIRE-10] The decoder can stop between two frames of one chunk and go on later: how the
// server stops taking a peer's requests past its reply bound without waiting for the chunk's end.
import t from 'tap'
import { encodeFrame, FrameDecoder } from '../../lib/protocol/frame.js'

function decoderPausingAt(pauseAfter: Set<number>) {
  const frames: Record<string, unknown>[] = []
  const decoder: FrameDecoder = new FrameDecoder({
    frame: (msg) => {
      frames.push(msg)
      if (pauseAfter.has(msg.id as number)) decoder.pause()
    },
    fault: (err) => {
      throw err
    },
  })
  return { frames, decoder }
}

const stream = (from: number, to: number) => Buffer.concat(Array.from({ length: to - from }, (_, i) => encodeFrame({ id: from + i, op: 'ping' })))

t.test('[WIRE-10] paused within a chunk, no further frame of it is delivered until resume; order is kept', async (t) => {
  const { frames, decoder } = decoderPausingAt(new Set([3, 12]))
  const first = stream(1, 10)
  decoder.push(first)
  t.same(frames.map((f) => f.id), [1, 2, 3], 'stops right after the frame that paused it')
  t.ok(decoder.isPaused)
  t.equal(decoder.held, first.length - 3 * encodeFrame({ id: 1, op: 'ping' }).length, 'the rest of the chunk is held')
  t.notOk(decoder.midFrame, 'between frames: no frame has started')
  // what arrives meanwhile waits behind it, split frames too
  const more = stream(10, 16)
  decoder.push(more.subarray(0, 5))
  decoder.push(more.subarray(5))
  t.same(frames.map((f) => f.id), [1, 2, 3], 'nothing more while paused')
  decoder.resume()
  t.same(frames.map((f) => f.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 'resumed, up to the next pause')
  decoder.resume()
  t.same(frames.map((f) => f.id), Array.from({ length: 15 }, (_, i) => i + 1), 'and the rest, in order')
  t.equal(decoder.held, 0)
  t.notOk(decoder.isPaused)
  decoder.push(stream(16, 18))
  t.equal(frames.length, 17, 'later chunks flow as before')
})

t.test('[WIRE-10] close drops whatever is held and ignores further input', async (t) => {
  const { frames, decoder } = decoderPausingAt(new Set([1]))
  decoder.push(stream(1, 100))
  t.ok(decoder.held > 0)
  decoder.close()
  t.equal(decoder.held, 0, 'nothing of the peer is kept')
  decoder.resume()
  decoder.push(stream(100, 102))
  t.same(frames.map((f) => f.id), [1])
})

t.test('[WIRE-10] midFrame and framesDecoded tell a frame in progress from a new one', async (t) => {
  const { decoder } = decoderPausingAt(new Set())
  const two = stream(1, 3)
  const one = encodeFrame({ id: 1, op: 'ping' }).length
  decoder.push(two.subarray(0, 2))
  t.ok(decoder.midFrame, 'half a header is a frame started')
  t.equal(decoder.framesDecoded, 0)
  decoder.push(two.subarray(2, one + 3))
  t.ok(decoder.midFrame, 'the next frame has started')
  t.equal(decoder.framesDecoded, 1)
  decoder.push(two.subarray(one + 3))
  t.notOk(decoder.midFrame)
  t.equal(decoder.framesDecoded, 2)
})
