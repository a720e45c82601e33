// Framing ([WIRE-1]): a 4-byte unsigned big-endian length N, then N bytes holding one
// MessagePack map. The decoder is a state machine over bytes that reports to a sink (nats.js
// style) and checks N before it keeps any of the body (length-prefixed-stream style).

import { FlrError } from '../errors.js'
import { decodeMap, encode } from './msgpack.js'

/** [WIRE-1] the largest body a client may send. */
export const MAX_FRAME = 65_536

const HEADER = 4
// A split body is kept in a buffer that grows with what has arrived, so a peer that
// announces 64 KiB and sends 10 bytes costs about 10 bytes, never more than N.
const FIRST_CAPACITY = 4096

export interface FrameSink {
  /** One decoded frame. Must not throw: the decoder has already moved past it. */
  frame(msg: Record<string, unknown>): void
  /** The stream's first fault ([WIRE-3]); nothing is reported after it. */
  fault(err: FlrError): void
}

/** One frame: length prefix and MessagePack body, in a single buffer ready to write. */
export function encodeFrame(msg: object): Buffer {
  const frame = encode(msg, HEADER) // the body written after room for its length: no copy
  frame.writeUInt32BE(frame.length - HEADER, 0)
  return frame
}

export class FrameDecoder {
  private readonly sink: FrameSink
  private readonly maxFrame: number
  private failed = false
  /** a header split across chunks: its bytes so far, as a number (no buffer per connection) */
  private headerValue = 0
  private headerFill = 0
  /** Declared length of the body being read, or -1 while reading a header. */
  private bodyLength = -1
  private body: Buffer | null = null
  private bodyFill = 0
  /** [WIRE-10] the reader wants no more frames for now (its peer's replies are backlogged) */
  private paused = false
  /** what arrived while paused, the first from `pendingAt` on: kept whole, decoded on resume */
  private pending: Buffer[] = []
  private pendingAt = 0
  private decoded = 0

  constructor(sink: FrameSink, maxFrame = MAX_FRAME) {
    if (!Number.isSafeInteger(maxFrame) || maxFrame < 1 || maxFrame > 0xffff_ffff) {
      throw new RangeError(`maxFrame must be an integer from 1 to 4294967295, got ${maxFrame}`)
    }
    this.sink = sink
    this.maxFrame = maxFrame
  }

  /** Bytes held for a frame not yet complete; at most maxFrame + 4. */
  get buffered(): number {
    return this.headerFill + (this.body?.length ?? 0)
  }

  /** A frame has started (some of its header or body is here) and is not complete yet. */
  get midFrame(): boolean {
    return this.bodyLength >= 0 || this.headerFill > 0
  }

  /** Frames delivered so far: a reader tells by it whether the frame in progress is a new one. */
  get framesDecoded(): number {
    return this.decoded
  }

  /** Bytes received but not decoded yet, because the reader paused. */
  get held(): number {
    let bytes = -this.pendingAt
    for (const chunk of this.pending) bytes += chunk.length
    return bytes
  }

  get isPaused(): boolean {
    return this.paused
  }

  /**
   * [WIRE-10] Deliver no further frame, not even from the chunk being decoded, until resume():
   * a peer past its reply bound gets no more answers computed for it. Takes effect after the
   * frame being delivered; what is left of the chunk is kept (a view, no copy).
   */
  pause(): void {
    this.paused = true
  }

  /** Decodes what was held back, until done or paused again. Not to be called from a sink. */
  resume(): void {
    this.paused = false
    while (!this.paused && !this.failed && this.pending.length > 0) {
      const chunk = this.pending[0]!
      const at = this.consume(chunk, this.pendingAt)
      if (at < chunk.length) {
        this.pendingAt = at
        return
      }
      this.pending.shift()
      this.pendingAt = 0
    }
  }

  /** Drops whatever is held: the stream is over (the connection closed). */
  close(): void {
    this.failed = true
    this.body = null
    this.pending = []
    this.pendingAt = 0
  }

  /** Feeds bytes as they arrive; frames may be split anywhere or packed many to a chunk. */
  push(chunk: Buffer): void {
    if (this.failed) return
    if (this.paused || this.pending.length > 0) {
      this.pending.push(chunk)
      return
    }
    const at = this.consume(chunk, 0)
    if (at < chunk.length && !this.failed) {
      this.pending.push(chunk)
      this.pendingAt = at
    }
  }

  /** Decodes from `at` until the chunk ends, the stream fails or the reader pauses; where it stopped. */
  private consume(chunk: Buffer, at: number): number {
    while (at < chunk.length && !this.failed && !this.paused) {
      if (this.bodyLength < 0) at = this.readHeader(chunk, at)
      else if (this.body === null && chunk.length - at >= this.bodyLength) at = this.readWholeBody(chunk, at)
      else at = this.readPartOfBody(chunk, at)
    }
    return at
  }

  private readHeader(chunk: Buffer, at: number): number {
    let length: number
    if (this.headerFill === 0 && chunk.length - at >= HEADER) {
      length = chunk.readUInt32BE(at)
      at += HEADER
    } else {
      while (this.headerFill < HEADER && at < chunk.length) {
        this.headerValue = this.headerValue * 256 + chunk[at++]!
        this.headerFill++
      }
      if (this.headerFill < HEADER) return at
      length = this.headerValue
      this.headerValue = 0
      this.headerFill = 0
    }
    // [WIRE-1] [WIRE-3] judged on the header alone, before any of the body is read.
    if (length === 0) this.fail(new FlrError('BAD_FRAME', 'frame length is 0: a frame holds one MessagePack map'))
    else if (length > this.maxFrame) {
      this.fail(new FlrError('FRAME_TOO_LARGE',
        `frame length ${length} is over the limit of ${this.maxFrame} bytes; send smaller requests`,
        { limit: this.maxFrame }))
    } else this.bodyLength = length
    return at
  }

  /** The whole body is in this chunk: decode it in place, without a copy. */
  private readWholeBody(chunk: Buffer, at: number): number {
    const end = at + this.bodyLength
    this.bodyLength = -1
    this.deliver(chunk.subarray(at, end))
    return end
  }

  private readPartOfBody(chunk: Buffer, at: number): number {
    const take = Math.min(this.bodyLength - this.bodyFill, chunk.length - at)
    this.reserve(this.bodyFill + take)
    chunk.copy(this.body!, this.bodyFill, at, at + take)
    this.bodyFill += take
    if (this.bodyFill === this.bodyLength) {
      const body = this.body!
      this.body = null
      this.bodyFill = 0
      this.bodyLength = -1
      this.deliver(body)
    }
    return at + take
  }

  private reserve(size: number): void {
    if (this.body !== null && this.body.length >= size) return
    let capacity = Math.max(this.body?.length ?? 0, Math.min(FIRST_CAPACITY, this.bodyLength))
    while (capacity < size) capacity *= 2
    const grown = Buffer.allocUnsafe(Math.min(capacity, this.bodyLength))
    this.body?.copy(grown, 0, 0, this.bodyFill)
    this.body = grown
  }

  private deliver(body: Buffer): void {
    let msg: Record<string, unknown>
    try {
      msg = decodeMap(body)
    } catch (err) {
      this.fail(err instanceof FlrError ? err : new FlrError('BAD_FRAME', `frame could not be decoded: ${String(err)}`))
      return
    }
    this.decoded++
    this.sink.frame(msg)
  }

  private fail(err: FlrError): void {
    // [WIRE-3] the fault ends the stream: drop what is held and ignore all further input.
    this.failed = true
    this.body = null
    this.pending = []
    this.headerFill = 0
    this.headerValue = 0
    this.sink.fault(err)
  }
}
