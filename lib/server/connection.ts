// One object per TCP connection (aedes style): frames in, one handler per op behind a
// single dispatch switch, replies and pushes out through a buffer bounded per peer ([WIRE-10]).
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { isLoopback, peerAddress } from '../admin/peer-address.js'
import { FlrError, isFlrError } from '../errors.js'
import { parseRequest, requestId, ok, fail, push, type PushArgs, type ReportRequest, type Request } from '../protocol/messages.js'
import type { Answer, HelloAnswer, PushName, ReloadAnswer, ReportAnswer, StatusAnswer } from '../protocol/replies.js'
import type { Lease } from '../engine/engine.js'
import { WaitScope } from '../engine/waiters.js'
import type { Clock } from '../util/clock.js'
import type { Logger } from './logger.js'
import { CONNECTION_LIMITS, Intake, type ConnectionLimits } from './intake.js'
import { writeFrame } from './socket-writer.js'
import type { ClientAuth } from './client-auth.js'
import type { FrontEngine } from './role-engine.js'

export { CONNECTION_LIMITS, type ConnectionLimits } from './intake.js'

/** What a connection needs from the daemon: a narrow view, not the daemon itself. */
export interface ConnectionServices {
  readonly engine: FrontEngine
  readonly log: Logger
  /** [HA-4] a standby's refusal (NOT_LEADER) of every op but hello, ping and status; none while serving */
  standby?(): FlrError | undefined
  /** the hello, idle, frame and stalled timers, on the daemon's clock like its others */
  readonly clock: Clock
  hello(): HelloAnswer
  status(): StatusAnswer
  /** [WIRE-8] the gate counts and locks out per peer address */
  auth(password: string, peer: string): Promise<void>
  reload(): Promise<ReloadAnswer>
  /** with --client-token-file: who a hello's token names, and the ties of holders to identities (client-auth.ts) */
  readonly clientAuth?: ClientAuth
  /** [OBS-3] the usage report; `admin`: the connection has authenticated (by holder needs it) */
  report?(req: ReportRequest, admin: boolean): Promise<ReportAnswer>
  /** [WIRE-10] the per-connection timeouts; the spec's values unless a test shortens them */
  limits?: Partial<ConnectionLimits>
  /** [OBS-1] told of each request answered: its op, and performance.now() when it was read */
  requestDone?(op: string, started: number): void
}

/** A reply's fields besides id and ok ([WIRE-2], typed in protocol/replies.ts); none for an empty reply. */
type Body = Answer | void

export const HELLO_TIMEOUT_MS = 10_000

export class Connection {
  readonly address: string
  /** the peer's address without the port, ::ffff: folded ([WIRE-8]) */
  readonly peer: string
  /** [TLS-3] whether this connection is TLS */
  readonly encrypted: boolean
  client: string | undefined
  /** the identity of the hello's client token (client-auth.ts) */
  private identity: string | undefined
  private admin = false
  private closed = false
  /** made for the first request that may wait: most connections never wait ([LEASE-5]) */
  private waits: WaitScope | undefined
  private readonly intake: Intake
  private readonly limits: ConnectionLimits
  private readonly clock: Clock
  private helloTimer: unknown
  private idleTimer: unknown
  /** when something pending last ended ([WIRE-10] idle) */
  private lastActive: number
  /** requests whose answer is still to come (waits, store writes, auth) */
  private inFlight = 0

  constructor(
    private readonly socket: Socket,
    private readonly services: ConnectionServices,
    private readonly onClose: (c: Connection) => void,
  ) {
    this.address = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
    this.peer = peerAddress(socket.remoteAddress)
    this.encrypted = (socket as TLSSocket).encrypted === true
    this.limits = { ...CONNECTION_LIMITS, ...services.limits }
    this.clock = services.clock
    this.lastActive = this.clock.now()
    this.intake = new Intake(socket, this.limits, this.clock, {
      frame: (msg) => this.onFrame(msg),
      fault: (err) => this.fault(err),
      who: () => ({ address: this.address, client: this.client }),
    }, services.log)
    socket.setNoDelay(true)
    socket.on('error', (err) => services.log.debug({ err, address: this.address }, 'connection error'))
    socket.on('close', () => this.cleanup())
    // [WIRE-4] hello within 10 s of connecting, or the connection is closed
    this.helloTimer = this.clock.setTimeout(() => this.socket.destroy(), HELLO_TIMEOUT_MS)
    this.idleTimer = this.clock.setTimeout(() => this.checkIdle(), this.limits.idleMs)
  }

  /** [WIRE-10] no frame and nothing pending for idleMs: closed. */
  private checkIdle(): void {
    if (this.closed) return
    const now = this.clock.now()
    // something pending: the quiet time starts once it is done, not before
    if (this.inFlight > 0 || this.socket.writableLength > 0 || this.intake.busy) this.lastActive = now
    const left = Math.max(this.lastActive, this.intake.lastInput) + this.limits.idleMs - now
    if (left > 0) {
      this.idleTimer = this.clock.setTimeout(() => this.checkIdle(), left)
      return
    }
    this.services.log.info({ address: this.address, client: this.client }, `no frame for ${this.limits.idleMs} ms and nothing pending: closing`)
    this.socket.destroy()
  }

  get isOpen(): boolean {
    return !this.closed
  }

  /** [WIRE-9] a push (no id) */
  push<N extends PushName>(name: N, ...body: PushArgs<N>): void {
    this.send(push(name, ...body))
  }

  /** Ends the connection once what is queued has been written. */
  end(): void {
    if (!this.closed) this.socket.end()
  }

  private send(msg: object): void {
    // after a fault or shutdown has ended the stream, late replies are dropped, not written after end
    if (this.closed || this.socket.destroyed || this.socket.writableEnded) return
    writeFrame(this.socket, msg)
    this.intake.wrote()
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
    const started = performance.now()
    let body: Body | Promise<Body>
    try {
      body = this.handle(request)
    } catch (e) {
      this.send(fail(id, this.asFlrError(e, op)))
      this.services.requestDone?.(op, started)
      return
    }
    if (!(body instanceof Promise)) {
      this.send(ok(id, body))
      return this.services.requestDone?.(op, started)
    }
    this.inFlight++
    body.then(
      (answer) => this.answered(ok(id, answer), op, started),
      (e: unknown) => this.answered(fail(id, this.asFlrError(e, op)), op, started),
    )
  }

  private answered(reply: object, op: string, started: number): void {
    if (--this.inFlight === 0) this.lastActive = this.clock.now()
    this.send(reply)
    this.services.requestDone?.(op, started)
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
    if (req.op !== 'hello' && req.op !== 'ping' && req.op !== 'status') {
      const standby = this.services.standby?.()
      if (standby) throw standby
    }
    const { engine, clientAuth } = this.services
    switch (req.op) {
      case 'hello':
        return this.hello(req.protocol, req.client, req.token)
      case 'ping':
        return
      case 'status':
        return this.services.status()
      case 'lease':
        if (clientAuth) return this.leaseAs(clientAuth, req.pack, req.holder ?? this.client!, req.wait)
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
        clientAuth?.admitLeaseId(this.identity, req.lease)
        return engine.renew(req.lease, this)
      case 'release':
        clientAuth?.admitLeaseId(this.identity, req.lease)
        return engine.release(req.lease)
      case 'auth':
        // [TLS-3] refused before the password is looked at or counted: it already crossed the network
        if (!this.encrypted && !isLoopback(this.peer)) {
          this.services.log.warn({ address: this.peer }, `admin login over plaintext from ${this.peer} refused (TLS_REQUIRED)`)
          throw new FlrError('TLS_REQUIRED', `admin login from ${this.peer} needs TLS: start flr serve with --tls-cert (or --tls-cert auto), and connect with --tls-ca or --tls-fingerprint; over plaintext it is accepted only on the server host`)
        }
        return this.services.auth(req.password, this.peer).then(() => {
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
      case 'report':
        // [OBS-3] by holder names people: admin only
        if (req.by === 'holder') this.requireAdmin()
        if (!this.services.report) throw new FlrError('NOT_SERVING', 'this server keeps no usage history')
        return this.services.report(req, this.admin)
      default:
        // parseRequest answers UNKNOWN_OP before this; the switch stays exhaustive for the compiler
        throw new FlrError('UNKNOWN_OP')
    }
  }

  /** a lease under client authentication: admitted for this identity, then tied to it */
  private leaseAs(auth: ClientAuth, pack: string, holder: string, wait: number | undefined) {
    const identity = auth.admitLease(this.identity, pack, holder)
    const grant = this.services.engine.lease({ pack, holder, client: this.client!, address: this.address, waitMs: wait, owner: this, waits: wait ? (this.waits ??= new WaitScope()) : undefined })
    return grant.then((g) => (auth.granted(identity, pack, holder, g.lease), g))
  }

  private hello(protocol: number, client: string, token: string | undefined): HelloAnswer {
    if (protocol !== 1) throw new FlrError('PROTOCOL_UNSUPPORTED', `this server speaks protocol 1, not ${protocol}`)
    this.identity = this.services.clientAuth?.identify(token)
    this.clock.clearTimeout(this.helloTimer)
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
    this.clock.clearTimeout(this.helloTimer)
    this.clock.clearTimeout(this.idleTimer)
    // [WIRE-10] the memory a cut-off peer held comes back: nothing it sent is kept
    this.intake.close()
    // [LEASE-4] closing releases nothing, but cancels this connection's waits
    this.waits?.cancel(new FlrError('CONNECTION_LOST'))
    this.onClose(this)
  }
}
