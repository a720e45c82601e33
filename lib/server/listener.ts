// A TCP listener on one port and the connections it accepted; a port change ([SRV-5]) runs
// two of these for a while. With a certificate it speaks TLS only ([TLS-1]): a connection is
// admitted (counted, [WIRE-10]) as soon as it is accepted, handshake included, and served once
// its handshake is done; a handshake that stalls is cut after handshakeTimeoutMs.
import { createServer, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer, type TLSSocket } from 'node:tls'
import { FlrError } from '../errors.js'
import { MIN_VERSION, type TlsPair } from './tls-config.js'

/** What a listener does with a connection: admit it (false: it was refused) as accepted, serve it once ready. */
export interface SocketHandlers {
  admit(raw: Socket, encrypted: boolean): boolean
  serve(socket: Socket): void
}

export interface ListenerTls {
  pair: TlsPair
  handshakeTimeoutMs: number
  /** a failed or stalled handshake: logged by the front, never more */
  onClientError(err: Error, socket: TLSSocket): void
}

/**
 * Pending connections the kernel queues before accept (capped by net.core.somaxconn). Node's
 * default, 511, is too few when a port move ([SRV-5]) sends every client to the new port at
 * once: a full queue drops SYNs, and a dropped SYN is retried only after 1 s.
 */
export const BACKLOG = 4096

export class Listener {
  /** the connections being served (after their handshake, on a TLS port) */
  readonly sockets = new Set<Socket>()
  /** every accepted TCP connection, handshakes included: cut at shutdown ([SRV-8]) */
  readonly accepted = new Set<Socket>()

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Binds host:port; rejects PORT_IN_USE (with the port in the message) when another process holds it. */
  static listen(port: number, host: string, handlers: SocketHandlers, tls?: ListenerTls): Promise<Listener> {
    return new Promise((resolve, reject) => {
      const server: Server = tls
        ? createTlsServer({ ...tls.pair, minVersion: MIN_VERSION, handshakeTimeout: tls.handshakeTimeoutMs, noDelay: true } as object)
        : createServer({ noDelay: true })
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(
          err.code === 'EADDRINUSE' || err.code === 'EACCES'
            ? new FlrError('PORT_IN_USE', `port ${port} on ${host} is held by another process (${err.code}); stop it, or have the vendor issue an LPF with another port`)
            : err,
        )
      })
      server.listen({ port, host, exclusive: true, backlog: BACKLOG }, () => {
        const listener = new Listener(server, (server.address() as { port: number }).port)
        server.removeAllListeners('error')
        server.on('error', () => {})
        const served = (socket: Socket) => {
          listener.sockets.add(socket)
          socket.once('close', () => listener.sockets.delete(socket))
          handlers.serve(socket)
        }
        // a TLS server wraps the socket in its own 'connection' listener, which runs first
        server.on('connection', (raw: Socket) => {
          if (!handlers.admit(raw, tls !== undefined)) return
          listener.accepted.add(raw)
          raw.once('close', () => listener.accepted.delete(raw))
          if (!tls) served(raw)
        })
        if (tls) {
          server.on('secureConnection', served)
          // Node leaves the socket open after a failed or timed-out handshake when this event is
          // listened to: a stalled peer would keep its slot for ever ([WIRE-10])
          server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
            socket.destroy()
            tls.onClientError(err, socket)
          })
        }
        resolve(listener)
      })
    })
  }

  /** [TLS-1] a certificate replaced on disk: new handshakes use it, established connections keep theirs */
  setCertificate(pair: TlsPair): void {
    const server = this.server as Server & { setSecureContext?(o: object): void }
    server.setSecureContext?.({ ...pair, minVersion: MIN_VERSION })
  }

  /** Stops accepting; resolves when every accepted connection has closed too. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}
