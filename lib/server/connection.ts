// One object per TCP connection (aedes style): frames in, one handler per op behind a
// single dispatch switch, replies and pushes out through a buffer bounded per peer ([WIRE-10]).
import type { Socket } from 'node:net'
import { FlrError, isFlrError } from '../errors.js'
import { FrameDecoder, writeFrame } from '../protocol/frame.js'
import { parseRequest, requestId, ok, fail, push, type PushName, type Request } from '../protocol/messages.js'
import type { Lease, SeatEngine } from '../engine/engine.js'
import { WaitScope } from '../engine/waiters.js'
import type { Logger } from './logger.js'

/** What a connection needs from the daemon: a narrow view, not the daemon itself. */
export interface ConnectionServices {
  readonly engine: SeatEngine
  readonly log: Logger
  hello(): Record<string, unknown>
  status(): Record<string, unknown>
  auth(password: string): Promise<void>
  reload(): Promise<Record<string, unknown>>
  /** [WIRE-10] the per-connection timeouts; the spec's values unless a test shortens them */
  limits?: Partial<ConnectionLimits>
}

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

/** A reply's fields besides id and ok; none for an empty reply. */
type Body = object | void

export const HELLO_TIMEOUT_MS = 10_000
/**
 * [WIRE-10] Requests of one connection handled in one go before the others get a turn. libuv
 * reads up to 32 chunks of 64 KiB from one socket in a row: without a budget, one peer's
 * burst (100,000 requests in one write) kept everyone else waiting for a second.
 */
const FRAMES_PER_TURN = 256

/** The event loop's turns, counted (one setImmediate per turn that has input, for every connection). */
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

export class Connection {
  readonly address: string
  client: string | undefined
  private admin = false
  private closed = false
  /** made for the first request that may wait: most connections never wait ([LEASE-5]) */
  private waits: WaitScope | undefined
  private readonly decoder: FrameDecoder
  private readonly limits: ConnectionLimits
  private helloTimer: NodeJS.Timeout | undefined
  private backlogCheckQueued = false
  /** [WIRE-10] set while the peer's replies are past the bound and it has not drained them */
  private stalledTimer: NodeJS.Timeout | undefined
  /** [WIRE-10] the frame in progress, and how many frames were done when its clock started */
  private frameTimer: NodeJS.Timeout | undefined
  private frameTimerAt = -1
  private idleTimer: NodeJS.Timeout
  /** when the peer last sent something or something pending ended ([WIRE-10] idle) */
  private lastActive = Date.now()
  /** requests whose answer is still to come (waits, store writes, auth) */
  private inFlight = 0
  /** frames handled since this connection last let the others have a turn */
  private framesThisTurn = 0
  private turn = -1
  private yielding = false

  constructor(
    private readonly socket: Socket,
    private readonly services: ConnectionServices,
    private readonly onClose: (c: Connection) => void,
  ) {
    this.address = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
    this.limits = { ...CONNECTION_LIMITS, ...services.limits }
    this.decoder = new FrameDecoder({
      frame: (msg) => {
        this.onFrame(msg)
        // [WIRE-10] the bound holds within a chunk: past it, the rest of the chunk waits
        if (this.socket.writableLength > this.limits.maxBuffered) this.holdBack()
        else if (++this.framesThisTurn >= FRAMES_PER_TURN) this.yieldTurn()
      },
      fault: (err) => this.fault(err),
    })
    socket.setNoDelay(true)
    socket.on('data', (chunk) => this.onData(chunk))
    socket.on('error', (err) => services.log.debug({ err, address: this.address }, 'connection error'))
    socket.on('close', () => this.cleanup())
    // [WIRE-4] hello within 10 s of connecting, or the connection is closed
    this.helloTimer = setTimeout(() => this.socket.destroy(), HELLO_TIMEOUT_MS)
    this.helloTimer.unref()
    this.idleTimer = setTimeout(() => this.checkIdle(), this.limits.idleMs)
    this.idleTimer.unref()
  }

  private onData(chunk: Buffer): void {
    this.lastActive = Date.now()
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
    this.queueBacklogCheck()
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
      this.resumeReading()
    })
  }

  /** [WIRE-10] a frame that has started must be complete within frameMs. */
  private watchFrame(): void {
    if (!this.decoder.midFrame) {
      if (this.frameTimer) clearTimeout(this.frameTimer)
      this.frameTimer = undefined
      return
    }
    // the same frame as when the clock started: it keeps running
    if (this.frameTimer && this.frameTimerAt === this.decoder.framesDecoded) return
    if (this.frameTimer) clearTimeout(this.frameTimer)
    this.frameTimerAt = this.decoder.framesDecoded
    this.frameTimer = setTimeout(() => {
      this.services.log.info({ address: this.address, client: this.client, held: this.decoder.buffered }, `a frame was not complete within ${this.limits.frameMs} ms: closing`)
      this.socket.destroy()
    }, this.limits.frameMs)
    this.frameTimer.unref()
  }

  /** [WIRE-10] no frame and nothing pending for idleMs: closed. */
  private checkIdle(): void {
    if (this.closed) return
    const now = Date.now()
    // something pending: the quiet time starts once it is done, not before
    if (this.inFlight > 0 || this.socket.writableLength > 0 || this.decoder.midFrame || this.decoder.held > 0) this.lastActive = now
    const left = this.lastActive + this.limits.idleMs - now
    if (left > 0) {
      this.idleTimer = setTimeout(() => this.checkIdle(), left)
      this.idleTimer.unref()
      return
    }
    this.services.log.info({ address: this.address, client: this.client }, `no frame for ${this.limits.idleMs} ms and nothing pending: closing`)
    this.socket.destroy()
  }

  get isOpen(): boolean {
    return !this.closed
  }

  /** [WIRE-9] a push (no id) */
  push(name: PushName, body: Record<string, unknown> = {}): void {
    this.send(push(name, body))
  }

  /** Ends the connection once what is queued has been written. */
  end(): void {
    if (!this.closed) this.socket.end()
  }

  private send(msg: object): void {
    // after a fault or shutdown has ended the stream, late replies are dropped, not written after end
    if (this.closed || this.socket.destroyed || this.socket.writableEnded) return
    writeFrame(this.socket, msg)
    this.queueBacklogCheck()
  }

  private queueBacklogCheck(): void {
    // judged once this turn's frames have been handed to the kernel (writeFrame flushes them
    // on the tick it queued first): until then, they count as buffered though nothing waits
    if (!this.backlogCheckQueued) {
      this.backlogCheckQueued = true
      process.nextTick(() => this.checkBacklog())
    }
  }

  /**
   * [WIRE-10] Replies past 1 MiB not yet taken by the peer: take none of its requests (not even
   * from the chunk in hand, see the decoder's sink) until it has read them all, and cut it off
   * if it has not within stalledMs. A client that sends thousands of requests at once and
   * reads as fast as it can is slowed down, not dropped; a peer that stops reading is closed,
   * and its backlog stays near 1 MiB meanwhile.
   */
  private checkBacklog(): void {
    this.backlogCheckQueued = false
    const socket = this.socket
    if (socket.destroyed || this.stalledTimer) return
    if (socket.writableLength <= this.limits.maxBuffered) {
      // the kernel took this turn's replies: the rest of the chunk may go on
      if (this.decoder.isPaused) this.resumeReading()
      return
    }
    this.decoder.pause()
    socket.pause()
    this.stalledTimer = setTimeout(() => {
      this.services.log.warn({ address: this.address, client: this.client, buffered: socket.writableLength }, 'peer stopped reading: closing')
      socket.destroy()
    }, this.limits.stalledMs)
    this.stalledTimer.unref()
    socket.once('drain', () => {
      clearTimeout(this.stalledTimer)
      this.stalledTimer = undefined
      this.lastActive = Date.now()
      this.resumeReading()
    })
  }

  private resumeReading(): void {
    // whichever of the backlog and the turn holds the peer back must have let go
    if (this.closed || this.yielding || this.stalledTimer) return
    this.decoder.resume()
    if (!this.decoder.isPaused) this.socket.resume()
    this.watchFrame()
  }

  /** [WIRE-3] a fault ends the connection after one error frame with id 0 */
  private fault(err: FlrError): void {
    this.services.log.info({ address: this.address, code: err.code }, 'bad frame: closing connection')
    this.send(fail(0, err))
    this.socket.end()
    this.socket.destroySoon?.()
  }

  private onFrame(msg: Record<string, unknown>): void {
    let request: Request
    try {
      request = parseRequest(msg)
    } catch (e) {
      this.send(fail(requestId(msg), e as FlrError))
      return
    }
    const { id, op } = request
    let body: Body | Promise<Body>
    try {
      body = this.handle(request)
    } catch (e) {
      this.send(fail(id, this.asFlrError(e, op)))
      return
    }
    if (!(body instanceof Promise)) return this.send(ok(id, body))
    this.inFlight++
    body.then(
      (answer) => this.answered(ok(id, answer)),
      (e: unknown) => this.answered(fail(id, this.asFlrError(e, op))),
    )
  }

  private answered(reply: object): void {
    if (--this.inFlight === 0) this.lastActive = Date.now()
    this.send(reply)
  }

  private asFlrError(e: unknown, op: string): FlrError {
    if (isFlrError(e)) return e
    if (this.closed) return new FlrError('CONNECTION_LOST')
    this.services.log.error({ err: e, op, address: this.address }, 'request failed')
    return new FlrError('INTERNAL')
  }

  /**
   * The reply's body (a fresh object, which ok() copies into the reply; none for an empty
   * one), or a promise of it for the ops that wait. An op that answers at once does so
   * without a promise: a busy server handles hundreds of thousands of requests a second.
   */
  private handle(req: Request): Body | Promise<Body> {
    if (req.op !== 'hello' && this.client === undefined) throw new FlrError('HELLO_REQUIRED')
    const { engine } = this.services
    switch (req.op) {
      case 'hello':
        return this.hello(req.protocol, req.client)
      case 'ping':
        return
      case 'status':
        return this.services.status()
      case 'lease':
        return engine.lease({
          pack: req.pack,
          holder: req.holder ?? this.client!,
          client: this.client!,
          address: this.address,
          waitMs: req.wait,
          owner: this,
          waits: req.wait ? (this.waits ??= new WaitScope()) : undefined,
        })
      case 'renew':
        return engine.renew(req.lease, this)
      case 'release':
        return engine.release(req.lease)
      case 'auth':
        return this.services.auth(req.password).then(() => {
          this.admin = true
        })
      case 'leases':
        this.requireAdmin()
        return { leases: engine.leases(req.pack).map(({ owner: _owner, ...lease }: Lease) => lease) }
      case 'revoke':
        this.requireAdmin()
        return engine.revoke(req.lease)
      case 'reload':
        this.requireAdmin()
        return this.services.reload()
      default:
        // parseRequest answers UNKNOWN_OP before this; the switch stays exhaustive for the compiler
        throw new FlrError('UNKNOWN_OP')
    }
  }

  private hello(protocol: number, client: string): Record<string, unknown> {
    if (protocol !== 1) throw new FlrError('PROTOCOL_UNSUPPORTED', `this server speaks protocol 1, not ${protocol}`)
    clearTimeout(this.helloTimer)
    this.helloTimer = undefined
    this.client = client
    return this.services.hello()
  }

  private requireAdmin(): void {
    if (!this.admin) throw new FlrError('AUTH_REQUIRED')
  }

  private cleanup(): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.helloTimer)
    clearTimeout(this.idleTimer)
    clearTimeout(this.frameTimer)
    clearTimeout(this.stalledTimer)
    // [WIRE-10] the memory a cut-off peer held comes back: nothing it sent is kept
    this.decoder.close()
    // [LEASE-4] closing releases nothing, but cancels this connection's waits
    this.waits?.cancel(new FlrError('CONNECTION_LOST'))
    this.onClose(this)
  }
}
