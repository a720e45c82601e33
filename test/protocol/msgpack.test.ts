import t, { type Test } from 'tap'
import { Packr } from 'msgpackr'
import { isFlrError } from '../../lib/errors.js'
import { decode, decodeMap, encode, MAX_DEPTH } from '../../lib/protocol/msgpack.js'
import { BAD_BODIES, nestedArrays } from './fixtures/bad-bodies.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')

function refused(t: Test, body: Buffer, why: string, read: (body: Buffer) => unknown = decodeMap): void {
  try {
    read(body)
    t.fail(`accepted: ${body.subarray(0, 24).toString('hex')}`)
  } catch (err) {
    t.ok(isFlrError(err, 'BAD_FRAME'), `BAD_FRAME, got ${String(err)}`)
    t.match((err as Error).message, why)
  }
}

t.test('[WIRE-2] encode writes the smallest standard MessagePack, byte by byte', async (t) => {
  t.same(encode({ id: 1, op: 'ping' }).toString('hex'), '82' + 'a26964' + '01' + 'a26f70' + 'a470696e67')
  t.same(encode({ id: 7, ok: true }).toString('hex'), '82a2696407a26f6bc3')
  t.same(encode({ id: 300, ok: false, error: { code: 'X' } }).toString('hex'),
    '83' + 'a26964cd012c' + 'a26f6bc2' + 'a56572726f72' + '81a4636f6465a158')
  t.same(encode([1, -1, null, 'é']).toString('hex'), '9401ffc0a2c3a9')
})

t.test('[WIRE-2] an absent optional field is left out, never sent as an extension', async (t) => {
  const bytes = encode({ id: 1, reason: undefined, list: [undefined] })
  t.same(bytes.toString('hex'), '82a2696401a46c69737491c0')
  t.same(decode(bytes), { id: 1, list: [null] })
})

t.test('[WIRE-1] what encode writes, decode reads back', async (t) => {
  const reply = {
    id: 9, ok: true, lease: 'AbC-_0123456789abcdefgh', pack: 'station', holder: 'ws-7 ü 字 😀',
    expiresAt: 1_790_000_000_000, ttlMs: 30_000, limit: 10, inUse: 3, ratio: 0.25, neg: -5,
    fixints: [0, 0x40, 0x7f, -1, -32], big: Number.MAX_SAFE_INTEGER, small: -Number.MAX_SAFE_INTEGER, empty: '', flag: false, none: null,
    licenses: '<licenses>' + 'x'.repeat(5000) + '</licenses>',
    packs: [{ name: 'a', limit: 1, inUse: 0, waiting: 0 }, { name: 'b', limit: 2, inUse: 2, waiting: 1 }],
  }
  t.same(decodeMap(encode(reply)), reply)
})

t.test('[WIRE-1] decode reads any single value; decodeMap only a map', async (t) => {
  t.same(decode(hex('91 01')), [1])
  t.equal(decode(hex('a1 61')), 'a')
  t.equal(decode(hex('c0')), null)
  t.same(decodeMap(hex('80')), {})
  refused(t, Buffer.alloc(0), 'empty', decode)
})

t.test('[WIRE-3] every bad body is BAD_FRAME, saying what is wrong', async (t) => {
  for (const bad of BAD_BODIES) {
    t.test(bad.name, async (t) => refused(t, hex(bad.hex), bad.why))
  }
})

t.test('[WIRE-3] extension types are refused wherever they sit', async (t) => {
  refused(t, hex('d6 ff 00 00 00 01'), 'extension', decode) // a bare timestamp
  refused(t, hex('81 a1 76 92 01 d4 00 00'), 'extension') // inside an array
  refused(t, hex('81 a1 76 81 a1 77 d6 ff 00 00 00 01'), 'extension') // inside a nested map
  // msgpackr's own encoders emit these for Date, Set, records and clones: a peer using them is refused.
  const trusting = new Packr({ useRecords: false })
  refused(t, trusting.pack({ at: new Date(0) }), 'extension')
  refused(t, new Packr({ useRecords: false, moreTypes: true }).pack({ s: new Set([1]) }), 'extension')
  refused(t, new Packr({ useRecords: true }).pack({ a: 1, b: 2 }), 'extension', decode)
  refused(t, new Packr({ structuredClone: true }).pack((() => { const o: Record<string, unknown> = {}; o.self = o; return o })()), 'extension', decode)
})

t.test('[WIRE-3] __proto__ and constructor keys never reach a prototype', async (t) => {
  const before = Object.getOwnPropertyNames(Object.prototype).sort()
  for (const bad of BAD_BODIES.filter((b) => /__proto__|constructor/.test(b.name))) refused(t, hex(bad.hex), 'is refused')
  t.equal(({} as Record<string, unknown>).polluted, undefined)
  t.same(Object.getOwnPropertyNames(Object.prototype).sort(), before)
  // Keys that merely resemble them are ordinary keys.
  t.same(decodeMap(encode({ __proto: 1, constructors: 2, prototype: 3, _________: 4, constructoR: 5 })),
    { __proto: 1, constructors: 2, prototype: 3, _________: 4, constructoR: 5 })
})

t.test('[WIRE-3] strings must be valid UTF-8; valid multi-byte text is kept', async (t) => {
  const text = 'ASCII é ß 字 😀 ' + 'ü'.repeat(40)
  t.equal(decodeMap(encode({ [text]: text }))[text], text)
  refused(t, hex('81 a1 76 a1 ff'), 'UTF-8')
  refused(t, hex('81 a1 76 a4 f0 9f 98'), 'past the end') // a truncated string header, not UTF-8
  refused(t, hex('81 a1 76 a3 f0 9f 98'), 'UTF-8') // a 4-byte sequence cut after 3
})

t.test('[WIRE-3] integers are Numbers; int64 is accepted only within ±(2^53 - 1)', async (t) => {
  t.equal(decodeMap(hex('81 a1 76 cf 00 1f ff ff ff ff ff ff')).v, Number.MAX_SAFE_INTEGER)
  t.equal(decodeMap(hex('81 a1 76 d3 ff e0 00 00 00 00 00 01')).v, -Number.MAX_SAFE_INTEGER)
  t.equal(decodeMap(hex('81 a1 76 d3 ff ff ff ff ff ff ff ff')).v, -1)
  t.equal(decodeMap(hex('81 a1 76 cf 00 00 00 01 00 00 00 00')).v, 2 ** 32)
  t.equal(decodeMap(hex('81 a1 76 ce ff ff ff ff')).v, 0xffff_ffff)
  t.equal(typeof decodeMap(hex('81 a1 76 cf 00 00 00 00 00 00 00 05')).v, 'number')
  refused(t, hex('81 a1 76 cf 00 20 00 00 00 00 00 00'), '2^53')
  refused(t, hex('81 a1 76 d3 ff e0 00 00 00 00 00 00'), '2^53')
})

t.test('[WIRE-3] nesting is bounded: deep arrays are BAD_FRAME, not a stack overflow', async (t) => {
  t.same(decodeMap(nestedArrays(MAX_DEPTH - 1)).v, JSON.parse('['.repeat(MAX_DEPTH - 1) + 'null' + ']'.repeat(MAX_DEPTH - 1)))
  refused(t, nestedArrays(MAX_DEPTH), `deeper than ${MAX_DEPTH}`)
  refused(t, nestedArrays(65_531), `deeper than ${MAX_DEPTH}`) // fills a 64 KiB frame
  refused(t, Buffer.concat([Buffer.alloc(100_000, 0x91), Buffer.from([0xc0])]), `deeper than ${MAX_DEPTH}`, decode)
  // Deep maps too, and empty containers do not count as open levels.
  const deepMaps = Buffer.concat([Buffer.from('81a176'.repeat(MAX_DEPTH + 1), 'hex'), Buffer.from([0xc0])])
  refused(t, deepMaps, `deeper than ${MAX_DEPTH}`)
  t.same(decodeMap(encode({ v: Array.from({ length: 1000 }, () => []) })).v, Array.from({ length: 1000 }, () => []))
})

t.test('[WIRE-3] a declared length is checked against the bytes left before anything is built', async (t) => {
  // 64 KiB of array headers each claiming 0xffff entries: refused at the first, no allocation.
  const claims = Buffer.concat([hex('81 a1 76'), Buffer.alloc(65_530, 0xdd)])
  refused(t, claims, 'declares 3722304989 entries')
  // An array of 60,000 one-byte values fits and is read.
  const wide = Buffer.concat([hex('81 a1 76 dc ea 60'), Buffer.alloc(60_000, 0x07)])
  t.equal((decodeMap(wide).v as number[]).length, 60_000)
})

t.test('[WIRE-1] decoded bin values are copies, not views of the receive buffer', async (t) => {
  const body = hex('81 a1 62 c4 03 01 02 03')
  const bin = decodeMap(body).b as Uint8Array
  body.fill(0xee)
  t.same([...bin], [1, 2, 3])
})

t.test('[WIRE-2] encode writes plain values only: anything else is a TypeError, never bytes msgpackr would have chosen', async (t) => {
  class Point {
    x = 1
  }
  const others: Array<[string, unknown]> = [
    ['a Map', new Map([['a', 1]])], ['a Set', new Set([1])], ['a Date', new Date(0)], ['a Buffer', Buffer.from('x')],
    ['a Uint8Array', new Uint8Array(2)], ['a bigint', 1n], ['a symbol', Symbol('s')], ['a function', () => 1],
    ['a class instance', new Point()], ['an Error', new Error('x')], ['a null-prototype object', Object.create(null)],
  ]
  for (const [what, v] of others) {
    t.throws(() => encode({ id: 1, ok: true, v }), TypeError, `${what} inside a reply`)
    t.throws(() => encode([v]), TypeError, `${what} inside an array`)
  }
  // and the encoder is left sound: the next value is written whole
  t.same(decode(encode({ id: 2, ok: true, expiresAt: 1_790_000_000_000 })), { id: 2, ok: true, expiresAt: 1_790_000_000_000 })
})
