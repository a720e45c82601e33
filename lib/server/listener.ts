// A TCP listener on one port and the connections it accepted; a port change ([SRV-5]) runs
// two of these for a while.
import { createServer, type Server, type Socket } from 'node:net'
import { FlrError } from '../errors.js'

/**
 * Pending connections the kernel queues before accept (capped by net.core.somaxconn). Node's
 * default, 511, is too few when a port move ([SRV-5]) sends every client to the new port at
 * once: a full queue drops SYNs, and a dropped SYN is retried only after 1 s.
 */
export const BACKLOG = 4096

export class Listener {
  readonly sockets = new Set<Socket>()

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Binds host:port; rejects PORT_IN_USE (with the port in the message) when another process holds it. */
  static listen(port: number, host: string, onSocket: (socket: Socket) => void): Promise<Listener> {
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true })
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
        server.on('connection', (socket) => {
          listener.sockets.add(socket)
          socket.once('close', () => listener.sockets.delete(socket))
          onSocket(socket)
        })
        resolve(listener)
      })
    })
  }

  /** Stops accepting; resolves when every accepted connection has closed too. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}
