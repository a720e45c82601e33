// MessagePack for peers ([WIRE-1], [WIRE-3]), written by hand for the values flr exchanges:
// the codec was the largest share of the server's own CPU, split between msgpackr and a
// screen that walked every body before msgpackr walked it again.
//
// encode writes the very bytes msgpackr's Packr wrote with the options flr used (useRecords,
// structuredClone and moreTypes off, variableMapSize, undefined left out) for the values flr
// sends: plain objects, arrays, strings, numbers, booleans and null, but for one deliberate
// difference: a safe integer beyond 32 bits is an int64 where msgpackr wrote a float64
// ([WIRE-2]). Anything else (a Map, a Date, a Buffer, a bigint, a class instance ...) is a
// TypeError: no reply or request holds one, and a value written some other way would be a
// bug to see, not bytes to send.
// decode is one pass over the bytes that refuses what msgpackr, built for trusted data, would
// take (extensions, 0xc1, non-string or __proto__/constructor keys, invalid UTF-8, integers
// a Number cannot hold, deep nesting, lengths the body cannot hold, trailing bytes) and builds
// the value msgpackr's Unpackr built. test/protocol/codec-equivalence.test.ts holds both to
// the codec they replace (reference-msgpack.ts), byte for byte and refusal for refusal.
// Over 300 lines on purpose: one format's writer and reader, kept in one file so that what
// encode writes and what decode accepts are read side by side.

import { isUtf8 } from 'node:buffer'
import { FlrError } from '../errors.js'

/** Deepest container nesting accepted; our messages nest three levels at most. */
export const MAX_DEPTH = 32

// ---- encode ---------------------------------------------------------------------------------

// Values are written into a shared slab and handed out as views of it, as msgpackr does: a
// later encode writes after them, so nothing is copied, and a full slab is left to the GC
// with the last frame that uses it.
const SLAB = 8192
let out = Buffer.allocUnsafeSlow(SLAB)
let start = 0
let at = 0

/**
 * Encodes a plain value (objects, arrays, strings, numbers, booleans, null; undefined is
 * left out of objects and nil elsewhere) after `headroom` bytes left for the caller to fill.
 */
export function encode(value: unknown, headroom = 0): Buffer {
  start = at
  ensure(headroom)
  at += headroom
  write(value)
  return out.subarray(start, at)
}

/** Room for `size` more bytes; a bigger slab takes over the value written so far. */
function ensure(size: number): void {
  if (at + size <= out.length) return
  const next = Buffer.allocUnsafeSlow(Math.max(SLAB, 2 * (at - start + size)))
  out.copy(next, 0, start, at)
  at -= start
  start = 0
  out = next
}

function write(value: unknown): void {
  switch (typeof value) {
    case 'string': return writeString(value)
    case 'number': return writeNumber(value)
    case 'boolean': return writeByte(value ? 0xc3 : 0xc2)
    case 'undefined': return writeByte(0xc0)
    case 'object':
      if (value === null) return writeByte(0xc0)
      // msgpackr's own test: a plain object or array by its constructor; all else is refused
      if (value.constructor === Object) return writeObject(value as Record<string, unknown>)
      if (value.constructor === Array) return writeArray(value as unknown[])
  }
  writeOther(value)
}

function writeByte(byte: number): void {
  ensure(1)
  out[at++] = byte
}

/** Anything else: none of it is in a message flr sends (test/protocol/msgpack.test.ts). */
function writeOther(value: unknown): never {
  const kind = typeof value === 'object' ? `a ${(value as object).constructor?.name ?? 'null-prototype object'}` : `a ${typeof value}`
  throw new TypeError(`cannot encode ${kind}: a peer message holds only plain objects, arrays, strings, numbers, booleans and null`)
}

function writeObject(object: Record<string, unknown>): void {
  // The header goes in once the entries are counted: one byte saved for it, moved if it needs more.
  ensure(1)
  const header = at++ - start // relative: ensure() may move the value to a bigger slab
  let count = 0
  for (const key in object) {
    // msgpackr's walk and filter: enumerable own keys in for-in order, undefined values left out
    if (typeof object.hasOwnProperty === 'function' && !object.hasOwnProperty(key)) continue
    const value = object[key]
    if (value === undefined) continue
    writeString(key)
    write(value)
    count++
  }
  if (count < 0x10) out[start + header] = 0x80 | count
  else widenMapHeader(header, count)
}

/** A map16/32 header in place of the byte saved for it (`header`, relative): the entries move up. */
function widenMapHeader(header: number, count: number): void {
  const size = count < 0x10000 ? 3 : 5
  ensure(size - 1)
  const where = start + header
  out.copyWithin(where + size, where + 1, at)
  at += size - 1
  if (size === 3) {
    out[where] = 0xde
    out[where + 1] = count >> 8
    out[where + 2] = count & 0xff
  } else {
    out[where] = 0xdf
    out.writeUInt32BE(count, where + 1)
  }
}

function writeArray(array: unknown[]): void {
  const length = array.length
  ensure(5)
  if (length < 0x10) out[at++] = 0x90 | length
  else if (length < 0x10000) {
    out[at++] = 0xdc
    out[at++] = length >> 8
    out[at++] = length & 0xff
  } else {
    out[at++] = 0xdd
    out.writeUInt32BE(length, at)
    at += 4
  }
  for (let i = 0; i < length; i++) write(array[i])
}

// writeNumber and writeString work on locals: V8 loads a module variable again at every use,
// and that was most of the cost of writing a string byte by byte.

function writeNumber(n: number): void {
  ensure(9)
  const b = out
  let p = at
  if (n >>> 0 === n) { // msgpackr's test; -0 is written as 0
    if (n < 0x80) b[p++] = n
    else if (n < 0x100) {
      b[p++] = 0xcc
      b[p++] = n
    } else if (n < 0x10000) {
      b[p++] = 0xcd
      b[p++] = n >> 8
      b[p++] = n & 0xff
    } else {
      b[p++] = 0xce
      p = b.writeUInt32BE(n, p)
    }
  } else if (n >> 0 === n) {
    if (n >= -0x20) b[p++] = n & 0xff
    else if (n >= -0x80) {
      b[p++] = 0xd0
      b[p++] = n & 0xff
    } else if (n >= -0x8000) {
      b[p++] = 0xd1
      b[p++] = (n >> 8) & 0xff
      b[p++] = n & 0xff
    } else {
      b[p++] = 0xd2
      p = b.writeInt32BE(n, p)
    }
  } else if (Number.isSafeInteger(n)) {
    // [WIRE-2] an integer beyond 32 bits (ms timestamps: expiresAt, serverTime) is an int64,
    // never a float64 as msgpackr wrote it: strictly typed peers (Java unpackLong, Rust
    // rmp-serde) refuse a float where an integer belongs. int64 for either sign, as msgpackr
    // writes a bigint: the same 9 bytes as uint64, and every decoder reads both. The high word
    // is floored so that high * 2^32 + low is n for a negative n too (low is always unsigned).
    const high = Math.floor(n / 0x1_0000_0000)
    b[p++] = 0xd3
    p = b.writeInt32BE(high, p)
    p = b.writeUInt32BE(n - high * 0x1_0000_0000, p)
  } else {
    // a fraction, or beyond ±(2^53 - 1) (which no integer field holds): float64, as msgpackr
    b[p++] = 0xcb
    p = b.writeDoubleBE(n, p)
  }
  at = p
}

function writeString(s: string): void {
  const units = s.length
  ensure(5 + 3 * units) // a UTF-16 unit takes at most 3 bytes
  const b = out
  const p = at
  // The text goes after a header sized for `units` bytes (msgpackr's guess) and is moved up
  // if its byte length needs a longer one: it cannot need a shorter one.
  const guess = units < 0x20 ? 1 : units < 0x100 ? 2 : units < 0x10000 ? 3 : 5
  const text = p + guess
  // Short strings are encoded here as msgpackr does, a lone surrogate as its 3 bytes; longer
  // ones by Buffer, which writes one as U+FFFD (msgpackr's split, kept for identical bytes).
  const length = units < 0x40 ? encodeShort(b, s, text) : b.write(s, text, 'utf8')
  const size = length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5
  if (size > guess) b.copyWithin(p + size, text, text + length)
  if (size === 1) b[p] = 0xa0 | length
  else if (size === 2) {
    b[p] = 0xd9
    b[p + 1] = length
  } else if (size === 3) {
    b[p] = 0xda
    b[p + 1] = length >> 8
    b[p + 2] = length & 0xff
  } else {
    b[p] = 0xdb
    b.writeUInt32BE(length, p + 1)
  }
  at = p + size + length
}

/** Writes `s` as UTF-8 into `b` at `p` the way msgpackr's short-string loop does; returns the byte length. */
function encodeShort(b: Buffer, s: string, p: number): number {
  const from = p
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i)
    if (c < 0x80) b[p++] = c
    else if (c < 0x800) {
      b[p++] = (c >> 6) | 0xc0
      b[p++] = (c & 0x3f) | 0x80
    } else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c & 0x03ff) << 10) + (s.charCodeAt(++i) & 0x03ff)
      b[p++] = (c >> 18) | 0xf0
      b[p++] = ((c >> 12) & 0x3f) | 0x80
      b[p++] = ((c >> 6) & 0x3f) | 0x80
      b[p++] = (c & 0x3f) | 0x80
    } else {
      b[p++] = (c >> 12) | 0xe0
      b[p++] = ((c >> 6) & 0x3f) | 0x80
      b[p++] = (c & 0x3f) | 0x80
    }
  }
  return p - from
}

// ---- decode ---------------------------------------------------------------------------------

/** Decodes exactly one MessagePack value filling `body`; anything else is BAD_FRAME. */
export function decode(body: Buffer): unknown {
  if (body.length === 0) throw badFrame('the frame is empty')
  src = body
  pos = 0
  try {
    const value = read(0)
    if (pos !== body.length) throw badFrame(`${body.length - pos} trailing byte(s) follow the value`)
    return value
  } finally {
    src = EMPTY
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

// The read's state lives at module level: decode calls out to nothing that could re-enter it,
// and a request is tens of bytes, so a reader object per frame would cost more than the read.
const EMPTY = Buffer.alloc(0)
let src: Buffer = EMPTY
let pos = 0

/** The value at `pos`, inside `depth` open (non-empty) containers. */
function read(depth: number): unknown {
  need(1, 'value')
  const token = src[pos++]
  if (token <= 0x7f) return token
  if (token >= 0xe0) return token - 0x100
  if (token <= 0x8f) return readMap(token - 0x80, depth)
  if (token <= 0x9f) return readArray(token - 0x90, depth)
  if (token <= 0xbf) return readString(token - 0xa0)
  let n: number
  switch (token) {
    case 0xc0: return null
    case 0xc2: return false
    case 0xc3: return true
    case 0xc4: return readBin(readLength(1))
    case 0xc5: return readBin(readLength(2))
    case 0xc6: return readBin(readLength(4))
    case 0xca:
      need(4, 'float')
      n = src.readFloatBE(pos)
      pos += 4
      return n
    case 0xcb:
      need(8, 'float')
      n = src.readDoubleBE(pos)
      pos += 8
      return n
    case 0xcc:
      need(1, 'int')
      return src[pos++]
    case 0xcd:
      need(2, 'int')
      n = (src[pos] << 8) | src[pos + 1]
      pos += 2
      return n
    case 0xce:
      need(4, 'int')
      n = src.readUInt32BE(pos)
      pos += 4
      return n
    case 0xcf: return readInt64(false)
    case 0xd0:
      need(1, 'int')
      return (src[pos++] << 24) >> 24
    case 0xd1:
      need(2, 'int')
      n = (((src[pos] << 24) >> 16) | src[pos + 1])
      pos += 2
      return n
    case 0xd2:
      need(4, 'int')
      n = src.readInt32BE(pos)
      pos += 4
      return n
    case 0xd3: return readInt64(true)
    case 0xd9: return readString(readLength(1))
    case 0xda: return readString(readLength(2))
    case 0xdb: return readString(readLength(4))
    case 0xdc: return readArray(readLength(2), depth)
    case 0xdd: return readArray(readLength(4), depth)
    case 0xde: return readMap(readLength(2), depth)
    case 0xdf: return readMap(readLength(4), depth)
    case 0xc1: throw badFrame(`byte ${pos - 1} is 0xc1, which MessagePack never uses`)
    default: // 0xc7-0xc9 ext 8/16/32, 0xd4-0xd8 fixext
      throw badFrame(`an extension type at byte ${pos - 1} (extensions are refused)`)
  }
}

function readMap(count: number, depth: number): Record<string, unknown> {
  open(true, count, depth)
  // Like msgpackr's: a plain object, a repeated key's last value in its first place. Assigning
  // cannot reach a prototype: __proto__ (Object.prototype's one setter) is refused as a key.
  const map: Record<string, unknown> = {}
  for (let i = 0; i < count; i++) {
    const key = readKey()
    map[key] = read(depth + 1)
  }
  return map
}

function readArray(length: number, depth: number): unknown[] {
  open(false, length, depth)
  const array = new Array<unknown>(length)
  for (let i = 0; i < length; i++) array[i] = read(depth + 1)
  return array
}

function open(map: boolean, count: number, depth: number): void {
  // Every value takes at least one byte: a count the rest of the body cannot hold is a lie,
  // refused before anything is allocated for it.
  const values = map ? count * 2 : count
  if (values > src.length - pos) {
    throw badFrame(`a ${map ? 'map' : 'array'} declares ${count} entries but only ${src.length - pos} bytes remain`)
  }
  if (values > 0 && depth === MAX_DEPTH) throw badFrame(`it nests deeper than ${MAX_DEPTH} levels`)
}

function readKey(): string {
  need(1, 'value')
  const token = src[pos++]
  let key: string
  if (token >= 0xa0 && token <= 0xbf) key = readString(token - 0xa0)
  else if (token === 0xd9) key = readString(readLength(1))
  else if (token === 0xda) key = readString(readLength(2))
  else if (token === 0xdb) key = readString(readLength(4))
  else throw badFrame(`a map key at byte ${pos - 1} is not a string`)
  // Keys that would reach or shadow Object.prototype's machinery in a decoded object.
  if (key === '__proto__' || key === 'constructor') throw badFrame(`the map key "${key}" is refused`)
  return key
}

function readString(length: number): string {
  need(length, 'string')
  return length <= SHORT ? shortString(length) : text(length)
}

// Short strings repeat from frame to frame: keys (id, op, lease ...) and many values (ops,
// pack names, holders). Building a string costs more than finding it again by its bytes in a
// small table (a slot per hash, the last string in it kept): that halved the cost of a read.
const SHORT = 16
const SLOTS = 1024
const slotStrings = new Array<string>(SLOTS).fill('')
const slotLengths = new Uint8Array(SLOTS).fill(0xff) // no short string is 255 bytes: an empty slot
const slotBytes = new Uint8Array(SLOTS * SHORT)

/** The string of `length` (<= SHORT) bytes at `pos`, all there; ASCII ones are kept in the table. */
function shortString(length: number): string {
  const s = src
  const start = pos
  let hash = length
  for (let i = start; i < start + length; i++) {
    if (s[i] >= 0x80) return text(length) // not kept: compared bytes are then always ASCII
    hash = (hash * 31 + s[i]) | 0
  }
  const slot = hash & (SLOTS - 1)
  const at = slot * SHORT
  if (slotLengths[slot] === length) {
    let i = 0
    while (i < length && slotBytes[at + i] === s[start + i]) i++
    if (i === length) {
      pos += length
      return slotStrings[slot]
    }
  }
  const string = text(length)
  for (let i = 0; i < length; i++) slotBytes[at + i] = s[start + i]
  slotLengths[slot] = length
  slotStrings[slot] = string
  return string
}

/** The `length` bytes at `pos` (all there) as a string, refused unless they are UTF-8. */
function text(length: number): string {
  const s = src
  const start = pos
  const end = (pos += length)
  // ASCII needs no check: a scan here is cheaper than a view and a call, for a short string
  if (length <= 64) {
    let i = start
    while (i < end && s[i] < 0x80) i++
    if (i === end) return s.toString('latin1', start, end)
  }
  if (!isUtf8(s.subarray(start, end))) throw badFrame(`the string at byte ${start} is not valid UTF-8`)
  return s.toString('utf8', start, end)
}

function readBin(length: number): Buffer {
  need(length, 'bin')
  // A copy (Uint8Array's slice, not Buffer's view), as msgpackr's copyBuffers: a bin value
  // must not pin the receive buffer it came in.
  return Uint8Array.prototype.slice.call(src, pos, (pos += length)) as Buffer
}

function readInt64(signed: boolean): number {
  need(8, 'int')
  let high = src.readUInt32BE(pos)
  if (signed && high >= 0x8000_0000) high -= 0x1_0000_0000
  // Exact whenever the true value is safe; any unsafe value lands at or beyond 2^53.
  const n = high * 0x1_0000_0000 + src.readUInt32BE(pos + 4)
  if (!Number.isSafeInteger(n)) throw badFrame(`the integer at byte ${pos - 1} is beyond ±(2^53 - 1)`)
  pos += 8
  return n
}

function readLength(size: 1 | 2 | 4): number {
  need(size, 'length')
  const p = pos
  pos += size
  if (size === 1) return src[p]
  if (size === 2) return (src[p] << 8) | src[p + 1]
  return src.readUInt32BE(p)
}

function need(length: number, what: string): void {
  if (length > src.length - pos) throw badFrame(`a ${what} at byte ${pos} runs past the end of the frame`)
}
