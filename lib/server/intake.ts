// [WIRE-10] How much of one peer the server takes, and when: the read side of a connection.
// Frames are taken from the socket a bounded number per event-loop turn, none while the
// peer's unread replies are past 1 MiB (not even from the chunk in hand), and a frame that
// has started must be finished in time. Everything else about a connection is Connection's.
import type { Socket } from 'node:net'
import type { FlrError } from '../errors.js'
import { FrameDecoder } from '../protocol/frame.js'
import type { Clock } from '../util/clock.js'
import type { Logger } from './logger.js'

/** [WIRE-10] what one connection may hold, and for how long. */
export interface ConnectionLimits {
  /** a frame that has started must be complete within this */
  frameMs: number
  /** no frame and nothing pending for this long: closed */
  idleMs: number
  /** replies past maxBuffered not read within this: closed */
  stalledMs: number
  /** replies buffered for a peer before it gets no more answers */
  maxBuffered: number
}

export const CONNECTION_LIMITS: Readonly<ConnectionLimits> = {
  frameMs: 10_000,
  idleMs: 600_000,
  stalledMs: 10_000,
  maxBuffered: 1024 * 1024,
}

/**
 * Requests of one connection handled in one go before the others get a turn. libuv reads up
 * to 32 chunks of 64 KiB from one socket in a row: without a budget, one peer's burst (100,000
 * requests in one write) kept everyone else waiting for a second.
 */
const FRAMES_PER_TURN = 256

/** The event loop's turns, counted: one setImmediate per turn that has input, for all connections. */
let turn = 0
let turnEnding = false
function currentTurn(): number {
  if (!turnEnding) {
    turnEnding = true
    setImmediate(endTurn)
  }
  return turn
}
function endTurn(): void {
  turn++
  turnEnding = false
}

export interface IntakeSink {
  frame(msg: Record<string, unknown>): void
  fault(err: FlrError): void
  /** a log line's context: who the peer is */
  who(): Record<string, unknown>
}

export class Intake {
  private readonly decoder: FrameDecoder
  /** when the peer last sent anything, on `clock` */
  lastInput: number
  private backlogCheckQueued = false
  /** set while the peer's replies are past the bound and it has not drained them */
  private stalledTimer: unknown
  /** the frame in progress, and how many frames were done when its clock started */
  private frameTimer: unknown
  private frameTimerAt = -1
  /** frames taken in this turn of the event loop */
  private framesThisTurn = 0
  private turn = -1
  private yielding = false
  private closed = false

  constructor(
    private readonly socket: Socket,
    private readonly limits: ConnectionLimits,
    private readonly clock: Clock,
    private readonly sink: IntakeSink,
    private readonly log: Logger,
  ) {
    this.lastInput = clock.now()
    this.decoder = new FrameDecoder({
      frame: (msg) => {
        sink.frame(msg)
        // the bound holds within a chunk: past it, the rest of the chunk waits
        if (socket.writableLength > limits.maxBuffered) this.holdBack()
        else if (++this.framesThisTurn >= FRAMES_PER_TURN) this.yieldTurn()
      },
      fault: (err) => sink.fault(err),
    })
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
  }

  /** Something of the peer's is unfinished: a frame begun, or bytes not decoded yet. */
  get busy(): boolean {
    return this.decoder.midFrame || this.decoder.held > 0
  }

  /** A reply was written: once this turn's replies are with the kernel, judge the backlog. */
  wrote(): void {
    // writeFrame flushes a turn's frames on the tick it queued first, before this check: until
    // then they count as buffered though nothing waits
    if (!this.backlogCheckQueued) {
      this.backlogCheckQueued = true
      process.nextTick(() => this.checkBacklog())
    }
  }

  /** The connection is over: its timers stop and nothing it sent is kept. */
  close(): void {
    this.closed = true
    this.clock.clearTimeout(this.frameTimer)
    this.clock.clearTimeout(this.stalledTimer)
    this.decoder.close()
  }

  private onData(chunk: Buffer): void {
    this.lastInput = this.clock.now()
    const now = currentTurn()
    if (now !== this.turn) {
      this.turn = now
      this.framesThisTurn = 0
    }
    this.decoder.push(chunk)
    this.watchFrame()
  }

  /** Replies past the bound: no more frames, nor chunks; checkBacklog (queued) decides what next. */
  private holdBack(): void {
    this.decoder.pause()
    this.socket.pause()
    this.wrote()
  }

  /** The budget of this turn is spent: the rest waits for the next turn of the event loop. */
  private yieldTurn(): void {
    this.decoder.pause()
    this.socket.pause()
    if (this.yielding) return
    this.yielding = true
    setImmediate(() => {
      this.yielding = false
      this.framesThisTurn = 0
      this.resume()
    })
  }

  /**
   * Replies past 1 MiB not yet taken by the peer: take none of its requests until it has read
   * them all, and cut it off if it has not within stalledMs. A client that sends thousands of
   * requests at once and reads as fast as it can is slowed down, not dropped; a peer that
   * stops reading is closed, and its backlog stays near 1 MiB meanwhile.
   */
  private checkBacklog(): void {
    this.backlogCheckQueued = false
    const socket = this.socket
    if (socket.destroyed || this.stalledTimer) return
    if (socket.writableLength <= this.limits.maxBuffered) {
      // the kernel took this turn's replies: the rest of the chunk may go on
      if (this.decoder.isPaused) this.resume()
      return
    }
    this.decoder.pause()
    socket.pause()
    this.stalledTimer = this.clock.setTimeout(() => {
      this.log.warn({ ...this.sink.who(), buffered: socket.writableLength }, 'peer stopped reading: closing')
      socket.destroy()
    }, this.limits.stalledMs)
    socket.once('drain', () => {
      this.clock.clearTimeout(this.stalledTimer)
      this.stalledTimer = undefined
      this.resume()
    })
  }

  private resume(): void {
    // whichever of the backlog and the turn holds the peer back must have let go
    if (this.closed || this.yielding || this.stalledTimer) return
    this.decoder.resume()
    if (!this.decoder.isPaused) this.socket.resume()
    this.watchFrame()
  }

  /** A frame that has started must be complete within frameMs. */
  private watchFrame(): void {
    if (!this.decoder.midFrame) {
      if (this.frameTimer) this.clock.clearTimeout(this.frameTimer)
      this.frameTimer = undefined
      return
    }
    // the same frame as when the clock started: it keeps running
    if (this.frameTimer && this.frameTimerAt === this.decoder.framesDecoded) return
    if (this.frameTimer) this.clock.clearTimeout(this.frameTimer)
    this.frameTimerAt = this.decoder.framesDecoded
    this.frameTimer = this.clock.setTimeout(() => {
      this.log.info({ ...this.sink.who(), held: this.decoder.buffered }, `a frame was not complete within ${this.limits.frameMs} ms: closing`)
      this.socket.destroy()
    }, this.limits.frameMs)
  }
}
