// [WIRE-2] "Length limits count characters (Unicode code points)": the same rule on every
// channel. The same edge values go to a real daemon over TCP (hello, lease) and over the
// HTTP shim (/request), and each channel must accept or refuse each value alike: the rules
// are declared once (lib/protocol/fields.ts) and both channels read them.
import t from 'tap'
import { CLIENT, PACK } from '../../lib/protocol/fields.js'
import { httpCall } from '../helpers/admin.js'
import { servePacks } from '../helpers/server.js'
import { RawPeer } from '../helpers/wire.js'

const EMOJI = '😀' // U+1F600: one code point, two UTF-16 units, four UTF-8 bytes
const ASTRAL = '\u{10ffff}' // the last code point

/** [label, value, code points] */
function edges(max: number, letter: string): Array<[string, string, number]> {
  return [
    ['empty', '', 0],
    ['1 ASCII', letter, 1],
    [`${max} ASCII`, letter.repeat(max), max],
    [`${max + 1} ASCII`, letter.repeat(max + 1), max + 1],
    [`${max} emoji (${2 * max} UTF-16 units)`, EMOJI.repeat(max), max],
    [`${max + 1} emoji`, EMOJI.repeat(max + 1), max + 1],
    [`${max} astral (U+10FFFF)`, ASTRAL.repeat(max), max],
    [`${max + 1} astral`, ASTRAL.repeat(max + 1), max + 1],
    [`1 ASCII + ${max - 1} emoji`, letter + EMOJI.repeat(max - 1), max],
    [`${max / 2} emoji + ${max / 2 + 1} ASCII`, EMOJI.repeat(max / 2) + letter.repeat(max / 2 + 1), max + 1],
    ['1 emoji', EMOJI, 1],
    ['accented (é as one code point)', 'é'.repeat(max), max],
  ]
}

t.test('[WIRE-2] [WIRE-4] [HTTP-2] client names: TCP hello and HTTP /request count code points alike (1–128)', async (t) => {
  const { port, daemon } = await servePacks(t, [{ name: 'Agent-Session', limit: 100 }], { httpPort: 0 })
  const cases = [...edges(CLIENT.max, 'c'), ['100 emoji (the reported case)', EMOJI.repeat(100), 100] as [string, string, number]]
  for (const [label, client, points] of cases) {
    const fits = points >= CLIENT.min && points <= CLIENT.max
    const peer = await RawPeer.open(t, port)
    const hello = await peer.call('hello', { protocol: 1, client })
    peer.destroy()
    const http = await httpCall(daemon.httpPort!, 'POST', '/request', { client })
    if (fits) {
      t.equal(hello.ok, true, `${label}: TCP hello accepts it`)
      t.equal(http.status, 200, `${label}: HTTP /request accepts it`)
      t.equal(http.json.authorized, true, `${label}: and grants a seat`)
    } else {
      t.match(hello, { ok: false, error: { code: 'BAD_REQUEST', field: 'client' } }, `${label}: TCP hello refuses it`)
      t.equal(http.status, 400, `${label}: HTTP /request refuses it`)
      t.match(http.json, { authorized: false, error: { code: 'BAD_REQUEST' } }, `${label}: as BAD_REQUEST`)
    }
  }
})

t.test('[WIRE-2] [WIRE-5] [LPF-3] [HTTP-2] pack names: TCP lease and HTTP /request count code points alike (1–64)', async (t) => {
  const { port, daemon } = await servePacks(t, [{ name: 'Agent-Session', limit: 100 }], { httpPort: 0 })
  const peer = await RawPeer.hello(t, port, 'pack-rules')
  for (const [label, pack, points] of edges(PACK.max, 'p')) {
    const fits = points >= PACK.min && points <= PACK.max
    const lease = await peer.call('lease', { pack })
    const http = await httpCall(daemon.httpPort!, 'POST', '/request', { client: 'pack-rules', pack })
    if (fits) {
      // a name of a valid length that no LPF holds: past validation, refused by the engine
      t.match(lease, { ok: false, error: { code: 'PACK_UNKNOWN' } }, `${label}: TCP lease takes the name (no such pack)`)
      t.match(http, { status: 404, json: { error: { code: 'PACK_UNKNOWN' } } }, `${label}: HTTP /request takes the name (no such pack)`)
    } else {
      t.match(lease, { ok: false, error: { code: 'BAD_REQUEST', field: 'pack' } }, `${label}: TCP lease refuses it`)
      t.match(http, { status: 400, json: { error: { code: 'BAD_REQUEST' } } }, `${label}: HTTP /request refuses it`)
    }
  }
})
