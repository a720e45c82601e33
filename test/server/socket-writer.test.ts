// The server's socket write policy (lib/server/socket-writer.ts): one write per event-loop
// turn, and memory of their own for frames queued to a peer that is behind ([WIRE-10]).
import t from 'tap'
import { Writable } from 'node:stream'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { encodeFrame } from '../../lib/protocol/frame.js'
import { writeFrame } from '../../lib/server/socket-writer.js'

t.test('[WIRE-10] frames for a peer past its high-water mark hold memory of their own, not a shared slab', async (t) => {
  const written: Buffer[] = []
  const socket = new Writable({
    highWaterMark: 256,
    // the peer reads nothing: writes are taken, never finished
    write(chunk: Buffer) {
      written.push(chunk)
    },
    writev(chunks) {
      written.push(...chunks.map((c) => c.chunk as Buffer))
    },
  })
  const backlogged: boolean[] = []
  for (let id = 1; id <= 40; id++) {
    backlogged.push(socket.writableNeedDrain)
    writeFrame(socket, { id, ok: true, lease: 'L'.repeat(22) })
  }
  await nextTurn()
  t.equal(written.length, 40)
  t.ok(backlogged.includes(true) && backlogged.includes(false), 'the backlog passed the high-water mark midway')
  written.forEach((frame, i) => {
    if (backlogged[i]) t.equal(frame.buffer.byteLength, frame.byteLength, `frame ${i + 1}, written past the mark, owns its memory`)
  })
  t.same(Buffer.concat(written), Buffer.concat(backlogged.map((_, i) => encodeFrame({ id: i + 1, ok: true, lease: 'L'.repeat(22) }))), 'the same bytes, in order')
})

t.test('[WIRE-1] frames written in one event-loop turn leave in one write, in order', async (t) => {
  const writes: Buffer[][] = []
  const socket = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push([chunk])
      done()
    },
    writev(chunks, done) {
      writes.push(chunks.map((c) => c.chunk as Buffer))
      done()
    },
  })
  for (let id = 1; id <= 5; id++) writeFrame(socket, { id, ok: true })
  await nextTurn()
  writeFrame(socket, { id: 6, ok: true })
  await nextTurn()
  t.same(writes.map((w) => w.length), [5, 1], 'one write for the first turn, one for the next')
  t.same(Buffer.concat(writes.flat()), Buffer.concat([1, 2, 3, 4, 5, 6].map((id) => encodeFrame({ id, ok: true }))), 'the bytes of each frame, in order')
  t.equal(socket.writableCorked, 0, 'nothing is left held back')
})
