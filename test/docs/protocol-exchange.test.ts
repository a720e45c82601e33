// The hex in docs/protocol.md is flr's real encoding ([WIRE-1], [WIRE-2]): every frame shown
// in a ```frames block is encodeFrame() of the JSON above it, byte for byte, decodes back to
// it, and every request in it is one the server accepts. A client author can trust the bytes.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeFrame } from '../../lib/protocol/frame.js'
import { decodeMap } from '../../lib/protocol/msgpack.js'
import { parseRequest } from '../../lib/protocol/messages.js'
import { ROOT, read } from './markdown.js'

interface Shown {
  direction: '→' | '←'
  json: string
  hex: string
}

function framesShown(text: string): Shown[] {
  const shown: Shown[] = []
  for (const block of text.matchAll(/^```frames\n([\s\S]*?)^```$/gm)) {
    for (const entry of block[1]!.split(/\n\s*\n/)) {
      const [head, ...hexLines] = entry.trim().split('\n')
      const m = /^(→|←) (\{.*\})$/.exec(head!)
      if (!m) throw new Error(`not a frame entry: ${head}`)
      shown.push({ direction: m[1] as Shown['direction'], json: m[2]!, hex: hexLines.join(' ').replace(/\s+/g, ' ').trim() })
    }
  }
  return shown
}

function hexOf(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ')
}

// After a deliberate change of the codec, FLR_WRITE_VECTORS=1 writes the hex again from the JSON.
if (process.env.FLR_WRITE_VECTORS === '1') {
  const text = read('docs/protocol.md').replace(/^```frames\n([\s\S]*?)^```$/gm, (_block, body: string) => {
    const entries = body.trim().split(/\n\s*\n/).map((entry) => {
      const head = entry.trim().split('\n')[0]!
      const hex = hexOf(encodeFrame(JSON.parse(head.slice(2)))).split(' ')
      const lines = Array.from({ length: Math.ceil(hex.length / 16) }, (_, i) => hex.slice(i * 16, i * 16 + 16).join(' '))
      return [head, ...lines].join('\n')
    })
    return `\`\`\`frames\n${entries.join('\n\n')}\n\`\`\``
  })
  writeFileSync(join(ROOT, 'docs/protocol.md'), text)
}

const shown = framesShown(read('docs/protocol.md'))

t.test('docs/protocol.md shows a whole exchange', async (t) => {
  const ops = shown.filter((f) => f.direction === '→').map((f) => JSON.parse(f.json).op)
  t.same(ops, ['hello', 'lease', 'renew', 'ping', 'release', 'renew'], 'the requests of a lease, in order')
  t.ok(shown.some((f) => JSON.parse(f.json).push === 'revoked'), 'and the pushes')
})

for (const [i, f] of shown.entries()) {
  t.test(`[WIRE-1] frame ${i + 1} (${f.direction} ${f.json.slice(0, 40)}…) is flr's encoding`, async (t) => {
    const value = JSON.parse(f.json)
    const bytes = encodeFrame(value)
    t.equal(f.hex, hexOf(bytes), 'the bytes shown are encodeFrame of the JSON')
    t.equal(JSON.stringify(decodeMap(bytes.subarray(4))), JSON.stringify(value), 'and decode back to it')
    if (f.direction === '→') t.doesNotThrow(() => parseRequest(value), 'a request the server accepts')
  })
}
