// FROZEN: lib/protocol/msgpack.ts as it was before the hand-written codec (screen + msgpackr),
// kept as the oracle codec-equivalence.test.ts holds the new one to, byte for byte and refusal
// for refusal. Do not edit it to make a test pass: a difference is the new codec's to explain.
// It pins the migration (see the head of codec-equivalence.test.ts for which checks are
// migration-only); what the spec requires of the codec is tested without it in msgpack.test.ts.
// Values that are not plain (Map, Date, bigint ...) are no longer compared: msgpack.ts refuses them.

// MessagePack for peers ([WIRE-1], [WIRE-3]). msgpackr is fast but built for trusted data:
// its extension table is module-global (records, bundled strings, structured-clone
// references, timestamps, Set, RegExp, Error ...), it renames `__proto__` keys, returns a
// marker object for 0xc1, recurses once per nesting level, allocates `new Array(n)` for
// any declared n, and replaces invalid UTF-8 instead of refusing it. So every body is first
// screened by a small iterative walk over its bytes; msgpackr only ever sees a value that
// is well formed, extension-free, shallow, and whose every declared length fits the body.

import { isUtf8 } from 'node:buffer'
import { Packr, Unpackr, type Options } from 'msgpackr'
import { FlrError } from '../../lib/errors.js'

/** Deepest container nesting accepted; our messages nest three levels at most. */
export const MAX_DEPTH = 32

// Keys that would reach or shadow Object.prototype's machinery in a decoded object.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor'])

function mayBeForbidden(body: Uint8Array, start: number, length: number): boolean {
  return (length === 9 && body[start] === 0x5f) || (length === 11 && body[start] === 0x63)
}

const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  structuredClone: false,
  int64AsType: 'number', // safe: the screen refuses int64 outside Number's safe range
  copyBuffers: true, // a bin value must not pin the receive buffer it came in
})

// skipValues is a msgpackr option its typings do not list yet.
const packr = new Packr(<Options & { skipValues: unknown[] }>{
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  variableMapSize: true, // smallest map headers: a reply is what a peer reads
  skipValues: [undefined], // an absent optional field is left out, never sent as ext 0
  encodeUndefinedAsNil: true, // undefined inside an array becomes nil, not ext 0
})

/** Encodes a plain value (objects, arrays, strings, numbers, booleans, null). */
export function encode(value: unknown): Buffer {
  return packr.pack(value)
}

/** Decodes exactly one MessagePack value filling `body`; anything else is BAD_FRAME. */
export function decode(body: Buffer): unknown {
  screen(body)
  try {
    return unpackr.unpack(body)
  } catch (err) {
    // Not expected after the screen; kept so no msgpackr error (RangeError included)
    // can escape as anything but the protocol's fault.
    throw badFrame(`it could not be decoded (${(err as Error).message})`)
  }
}

/** Decodes a body that must hold one map ([WIRE-1]); anything else is BAD_FRAME. */
export function decodeMap(body: Buffer): Record<string, unknown> {
  if (body.length === 0 || !isMapHeader(body[0])) throw badFrame('its value is not a map')
  return decode(body) as Record<string, unknown>
}

function isMapHeader(byte: number): boolean {
  return (byte >= 0x80 && byte <= 0x8f) || byte === 0xde || byte === 0xdf
}

function badFrame(why: string): FlrError {
  return new FlrError(
    'BAD_FRAME',
    `frame is not one MessagePack map: ${why}; send one map of strings, numbers, booleans, nil, arrays and maps`,
  )
}

/**
 * Walks the value in `body` without recursion and throws BAD_FRAME unless it is exactly one
 * value ending at the last byte, with string map keys other than __proto__/constructor,
 * valid UTF-8 strings, integers within Number's safe range, no extension types, no 0xc1,
 * nesting at most MAX_DEPTH, and every declared length within the bytes that remain.
 */
export function screen(body: Uint8Array): void {
  src = body
  pos = 0
  depth = 0
  try {
    if (body.length === 0) throw badFrame('the frame is empty')
    do {
      value()
      while (depth > 0 && left[depth] === 0) depth--
    } while (depth > 0)
    if (pos !== body.length) throw badFrame(`${body.length - pos} trailing byte(s) follow the value`)
  } finally {
    src = EMPTY
  }
}

// The walk's state lives at module level: screen never calls out and is not re-entered, and
// a request is tens of bytes, so allocating a walker per frame would cost more than the walk.
const EMPTY = new Uint8Array(0)
let src: Uint8Array = EMPTY
let pos = 0
let depth = 0
// Per open container: values still to read (a map of n pairs holds 2n) and whether it is a map.
const left = new Float64Array(MAX_DEPTH + 1)
const isMap = new Uint8Array(MAX_DEPTH + 1)

function value(): void {
  const asKey = depth > 0 && isMap[depth] === 1 && left[depth] % 2 === 0
  if (depth > 0) left[depth]--
  need(1, 'value')
  const token = src[pos++]
  if (asKey && !isStringToken(token)) throw badFrame(`a map key at byte ${pos - 1} is not a string`)
  if (token <= 0x7f || token >= 0xe0) return // fixint
  if (token <= 0x8f) return open(true, token - 0x80)
  if (token <= 0x9f) return open(false, token - 0x90)
  if (token <= 0xbf) return string(token - 0xa0, asKey)
  switch (token) {
    case 0xc0: case 0xc2: case 0xc3: return // nil, false, true
    case 0xc4: return skip(uint(1), 'bin')
    case 0xc5: return skip(uint(2), 'bin')
    case 0xc6: return skip(uint(4), 'bin')
    case 0xca: return skip(4, 'float')
    case 0xcb: return skip(8, 'float')
    case 0xcc: case 0xd0: return skip(1, 'int')
    case 0xcd: case 0xd1: return skip(2, 'int')
    case 0xce: case 0xd2: return skip(4, 'int')
    case 0xcf: return int64(false)
    case 0xd3: return int64(true)
    case 0xd9: return string(uint(1), asKey)
    case 0xda: return string(uint(2), asKey)
    case 0xdb: return string(uint(4), asKey)
    case 0xdc: return open(false, uint(2))
    case 0xdd: return open(false, uint(4))
    case 0xde: return open(true, uint(2))
    case 0xdf: return open(true, uint(4))
    case 0xc1: throw badFrame(`byte ${pos - 1} is 0xc1, which MessagePack never uses`)
    default: // 0xc7-0xc9 ext 8/16/32, 0xd4-0xd8 fixext
      throw badFrame(`an extension type at byte ${pos - 1} (extensions are refused)`)
  }
}

function open(map: boolean, count: number): void {
  // Every value takes at least one byte: a count the rest of the body cannot hold is a lie,
  // refused before msgpackr would allocate for it.
  const values = map ? count * 2 : count
  if (values > src.length - pos) {
    throw badFrame(`a ${map ? 'map' : 'array'} declares ${count} entries but only ${src.length - pos} bytes remain`)
  }
  if (values === 0) return
  if (depth === MAX_DEPTH) throw badFrame(`it nests deeper than ${MAX_DEPTH} levels`)
  depth++
  left[depth] = values
  isMap[depth] = map ? 1 : 0
}

function string(length: number, asKey: boolean): void {
  const start = pos
  skip(length, 'string')
  if (!isUtf8Range(src, start, pos)) throw badFrame(`the string at byte ${start} is not valid UTF-8`)
  if (asKey && mayBeForbidden(src, start, length) && FORBIDDEN_KEYS.has(latin1(src, start, pos))) {
    throw badFrame(`the map key "${latin1(src, start, pos)}" is refused`)
  }
}

function int64(signed: boolean): void {
  need(8, 'int')
  let high = src[pos] * 0x100_0000 + ((src[pos + 1] << 16) | (src[pos + 2] << 8) | src[pos + 3])
  if (signed && high >= 0x8000_0000) high -= 0x1_0000_0000
  const low = src[pos + 4] * 0x100_0000 + ((src[pos + 5] << 16) | (src[pos + 6] << 8) | src[pos + 7])
  // Exact whenever the true value is safe; any unsafe value lands at or beyond 2^53.
  if (!Number.isSafeInteger(high * 0x1_0000_0000 + low)) throw badFrame(`the integer at byte ${pos - 1} is beyond ±(2^53 - 1)`)
  pos += 8
}

function uint(size: 1 | 2 | 4): number {
  need(size, 'length')
  const p = pos
  pos += size
  if (size === 1) return src[p]
  if (size === 2) return (src[p] << 8) | src[p + 1]
  return src[p] * 0x100_0000 + ((src[p + 1] << 16) | (src[p + 2] << 8) | src[p + 3])
}

function skip(length: number, what: string): void {
  need(length, what)
  pos += length
}

function need(length: number, what: string): void {
  if (length > src.length - pos) throw badFrame(`a ${what} at byte ${pos} runs past the end of the frame`)
}

function isStringToken(token: number): boolean {
  return (token >= 0xa0 && token <= 0xbf) || token === 0xd9 || token === 0xda || token === 0xdb
}

function isUtf8Range(body: Uint8Array, start: number, end: number): boolean {
  // Keys and most values are short ASCII: a byte loop beats creating a view for isUtf8.
  if (end - start <= 32) {
    let i = start
    while (i < end && body[i] < 0x80) i++
    if (i === end) return true
  }
  return isUtf8(body.subarray(start, end))
}

function latin1(body: Uint8Array, start: number, end: number): string {
  let s = ''
  for (let i = start; i < end; i++) s += String.fromCharCode(body[i])
  return s
}
