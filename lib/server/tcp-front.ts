// The TCP side of the daemon: the lease listener (two of them for a while after a port move,
// [SRV-5]), the connection registry, admission ([WIRE-10] SERVER_BUSY), push routing to a
// lease's owner ([WIRE-9]) and the connections' part of shutdown ([SRV-8]). Its timers run on
// the injected clock.
import type { Socket } from 'node:net'
import { FlrError, isFlrError } from '../errors.js'
import { encodeFrame } from '../protocol/frame.js'
import { fail } from '../protocol/messages.js'
import type { Lease, RevokeReason } from '../engine/engine.js'
import type { Clock } from '../util/clock.js'
import { Admission } from './admission.js'
import { Connection, type ConnectionServices } from './connection.js'
import { Listener, type ListenerTls } from './listener.js'
import type { ServerTls, TlsPair } from './tls-config.js'
import type { Problem } from '../protocol/replies.js'
import type { PortUse } from './license-state.js'
import type { Logger } from './logger.js'

export interface TcpFrontOptions {
  /** the address the lease port binds to */
  bind: string
  /** [WIRE-10] --max-connections */
  maxConnections: number
  /** [WIRE-10] --max-connections-per-address */
  maxConnectionsPerAddress: number
  /** [SRV-5] how long old connections live after `moving` */
  moveCloseMs: number
  clock: Clock
  log: Logger
  /** what each connection sees of the daemon */
  services: ConnectionServices
  /** [TLS-1] the lease port speaks TLS only, with this certificate (replaced by setCertificate) */
  tls?: { source: ServerTls; handshakeTimeoutMs?: number }
}

/** [TLS-1] a handshake must be done within this long, or the connection is cut */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000

/** How long a refused peer has to read its error and close, before the socket is cut. */
const REFUSED_LINGER_MS = 1_000
/** [SRV-8] connections that do not close on their own within this long are cut: exit stays within 5 s */
const SHUTDOWN_CUT_MS = 1_000

export class TcpFront implements PortUse {
  private listener: Listener | undefined
  /** old listeners after a port move, until they close ([SRV-5]) */
  private readonly retired = new Set<Listener>()
  private readonly connections = new Map<Socket, Connection>()
  /**
   * [WIRE-9] The engine carries a lease's owner opaquely (its tests use strings); over TCP the
   * owner is the Connection that last granted or renewed it. Only open connections of this front
   * are here, so a lookup is the routing: typed, and nothing is sent to a closed one.
   */
  private readonly owners = new Map<unknown, Connection>()
  private readonly admission: Admission
  private admitting = true
  /** [WIRE-10] what each accepted socket gives back when it closes (a TLS socket's count is taken at accept) */
  private readonly admitted = new WeakMap<Socket, () => void>()
  /** [HA-5] every connection was sent `moving` to the new leader: close() says no `shutdown` after it */
  private movedAway = false

  constructor(private readonly opts: TcpFrontOptions) {
    this.admission = new Admission(opts.maxConnections, opts.maxConnectionsPerAddress)
    opts.tls?.source.onChange((pair) => this.setCertificate(pair))
  }

  get port(): number | undefined {
    return this.listener?.port
  }

  /** [OBS-1] open lease connections, read at scrape time */
  get connectionCount(): number {
    return this.connections.size
  }

  /** [SRV-5] Binds `port` first; only then are connections on the old one sent `moving`. */
  async use(port: number): Promise<Problem | undefined> {
    // an LPF back on the port in use ends a failed move
    if (this.listener?.port === port) return undefined
    let next: Listener
    try {
      next = await Listener.listen(port, this.opts.bind, { admit: (raw, encrypted) => this.admit(raw, encrypted), serve: (socket) => this.serve(socket) }, this.listenerTls())
    } catch (e) {
      if (!isFlrError(e)) throw e
      this.opts.log.error({ port, code: e.code }, `cannot bind the LPF's port: ${e.message}`)
      return { code: e.code, message: e.message }
    }
    const old = this.listener
    this.listener = next
    this.opts.log.info({ port: next.port, previousPort: old?.port }, `listening for leases on port ${next.port}`)
    if (old) this.retire(old, next.port)
    return undefined
  }

  /** [TLS-1] a certificate replaced on disk: the next handshakes on every port use it */
  private setCertificate(pair: TlsPair): void {
    for (const l of [this.listener, ...this.retired]) l?.setCertificate(pair)
  }

  private listenerTls(): ListenerTls | undefined {
    const { tls, log } = this.opts
    if (!tls) return undefined
    return {
      pair: tls.source.pair,
      handshakeTimeoutMs: tls.handshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS,
      onClientError: (err, socket) => log.debug({ address: socket.remoteAddress, code: (err as NodeJS.ErrnoException).code }, `TLS handshake failed: ${err.message}`),
    }
  }

  /** [WIRE-9] revoked goes to the connection that last granted or renewed the lease, if still open. */
  pushRevoked(lease: Lease, reason: RevokeReason): void {
    this.owners.get(lease.owner)?.push('revoked', { lease: lease.lease, pack: lease.pack, reason })
  }

  /** [HA-5] [WIRE-9] `moving {host, port}` to every connection: another node leads now. */
  moveAll(host: string, port: number): void {
    this.movedAway = true
    for (const conn of this.connections.values()) conn.push('moving', { host, port })
  }

  /** [HA-5] [WIRE-9] `shutdown` to every connection: this node stopped leading, the next leader is not known yet. */
  shutdownAll(): void {
    for (const conn of this.connections.values()) conn.push('shutdown')
  }

  /** [SRV-8] From now on every new connection is refused. */
  stopAdmitting(): void {
    this.admitting = false
  }

  /**
   * [SRV-8] `shutdown` to every connection, which then ends; the listener stops accepting.
   * Resolves once every connection has closed; those that do not within SHUTDOWN_CUT_MS are cut.
   */
  async close(): Promise<void> {
    this.admitting = false
    for (const conn of this.connections.values()) {
      if (!this.movedAway) conn.push('shutdown')
      conn.end()
    }
    const closing = this.listener?.close()
    const { clock } = this.opts
    const cut = clock.setTimeout(() => {
      for (const socket of this.connections.keys()) socket.destroy()
      // handshakes still under way ([TLS-1]) would hold the listener open until their timeout
      for (const socket of this.listener?.accepted ?? []) socket.destroy()
    }, SHUTDOWN_CUT_MS)
    await closing
    clock.clearTimeout(cut)
  }

  /** Old port: `moving` to everyone on it, stop accepting, close what is left after moveCloseMs. */
  private retire(old: Listener, port: number): void {
    for (const socket of old.sockets) this.connections.get(socket)?.push('moving', { port })
    this.retired.add(old)
    void old.close().then(() => this.retired.delete(old))
    this.opts.clock.setTimeout(() => {
      for (const socket of old.accepted) socket.destroy()
    }, this.opts.moveCloseMs)
  }

  /**
   * [WIRE-10] over --max-connections or --max-connections-per-address: SERVER_BUSY, then closed.
   * On a TLS port this runs before the handshake, so that handshakes count ([TLS-1]); the
   * refusal there is a plain close, since no frame can be read before a handshake.
   */
  private admit(raw: Socket, encrypted: boolean): boolean {
    const admitted = this.admitting ? this.admission.admit(raw) : new FlrError('SERVER_BUSY', 'the server is shutting down')
    if (admitted instanceof FlrError) {
      if (encrypted) raw.destroy()
      else this.refuse(raw, admitted)
      return false
    }
    raw.once('close', admitted)
    this.admitted.set(raw, admitted)
    return true
  }

  private serve(socket: Socket): void {
    const admitted = this.admitted.get(socket)
    const conn = new Connection(socket, this.opts.services, () => {
      admitted?.()
      this.connections.delete(socket)
      this.owners.delete(conn)
    })
    this.connections.set(socket, conn)
    this.owners.set(conn, conn)
  }

  /**
   * [WIRE-10] One error frame, then closed. What the peer sends is read and dropped: a socket
   * never read never sees the peer's FIN and would stay open (a descriptor leaked per refusal,
   * and a listener that never finishes closing, [SRV-8]); closing with its bytes unread would
   * reset the connection and could lose the error frame. A peer that does not close is cut.
   */
  private refuse(socket: Socket, error: FlrError): void {
    socket.on('error', () => {})
    socket.resume()
    socket.end(encodeFrame(fail(0, error)))
    this.opts.clock.setTimeout(() => socket.destroy(), REFUSED_LINGER_MS)
  }
}
