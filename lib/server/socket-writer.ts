// How the server writes frames to a socket ([WIRE-10]): frames of one event-loop turn leave
// in one write, and frames for a peer that is already behind get memory of their own. This
// is socket policy, not framing, so it lives here, beside the backlog check in
// connection.ts that decides when a peer is read from again; protocol/frame.ts keeps the
// bytes (encodeFrame, FrameDecoder).
import type { Writable } from 'node:stream'
import { encodeFrame } from '../protocol/frame.js'

/**
 * Writes one frame. Frames written in the same event-loop turn (replies to the requests of
 * one chunk, acks of one group commit) leave in one write: one syscall and one TCP segment
 * instead of one each, which is most of the cost of a small request.
 */
export function writeFrame(socket: Writable, msg: object): void {
  writeEncoded(socket, encodeFrame(msg))
}

/** writeFrame for a frame already encoded (encodeFrame), e.g. one a sender keeps to send again. */
export function writeEncoded(socket: Writable, frame: Buffer): void {
  if (socket.writableCorked === 0) {
    socket.cork()
    process.nextTick(uncork, socket)
  }
  // A frame is mostly a view of a shared slab (the codec's, or Buffer's pool), and keeps all
  // of it alive while it waits. Frames for a peer already past its high-water mark may wait
  // long: they get memory of their own, so a peer that stops reading holds its own bytes
  // ([WIRE-10]), not every slab its replies were cut from.
  socket.write(socket.writableNeedDrain && frame.byteLength < frame.buffer.byteLength ? ownCopy(frame) : frame)
}

function ownCopy(frame: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(frame.byteLength)
  frame.copy(copy)
  return copy
}

function uncork(socket: Writable): void {
  socket.uncork()
}
