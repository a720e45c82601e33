// Conformance vectors ([WIRE-1]..[WIRE-9]): every file in docs/protocol-vectors/ is replayed
// against a real server, and each frame the server sends must be the recorded one, with the
// fields that vary by run (lease ids, times, ports, the version, messages) compared by type.
// A client in another language can replay the same files against its own encoder and decoder.
import t from 'tap'
import { encodeFrame } from '../../lib/protocol/frame.js'
import { decodeMap } from '../../lib/protocol/msgpack.js'
import { hex, play, readVectors, serveVector, unhex, writeVector } from './conformance-vectors.js'
import { SCENARIOS } from './conformance-scenarios.js'

const recording = process.env.FLR_WRITE_VECTORS === '1'

if (recording) {
  for (const v of SCENARIOS) {
    t.test(`record ${v.name}`, async (t) => {
      const vector = structuredClone(v)
      await play(t, await serveVector(t, vector), vector, t, true)
      writeVector(vector)
    })
  }
} else {
  const vectors = readVectors()

  t.test('the vectors are the scenarios, and every frame in them is what it says', async (t) => {
    t.same(vectors.map((v) => v.name).sort(), SCENARIOS.map((v) => v.name).sort(), 'one file per scenario')
    for (const v of vectors) {
      for (const [i, step] of v.steps.entries()) {
        if (step.send) t.equal(step.frame, hex(encodeFrame(step.send)), `${v.name} step ${i + 1}: request frame`)
        if (step.receive) {
          const bytes = unhex(step.frame!)
          t.equal(bytes.readUInt32BE(0), bytes.length - 4, `${v.name} step ${i + 1}: length prefix`)
          t.equal(JSON.stringify(decodeMap(bytes.subarray(4))), JSON.stringify(step.receive), `${v.name} step ${i + 1}: reply frame decodes to the reply`)
        }
      }
    }
  })

  for (const v of vectors) {
    t.test(`[WIRE-2] ${v.name}: the real server answers as recorded`, async (t) => {
      await play(t, await serveVector(t, v), v, t)
    })
  }
}
