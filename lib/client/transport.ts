// How a client reaches a server: the socket under a Channel. One seam, so that the way a
// connection is made (plain TCP today; TLS with CA or fingerprint verification, [TLS-2])
// is decided in one place, apart from framing and failover.
import { connect, type Socket } from 'node:net'
import { FlrError } from '../errors.js'

export interface TransportOptions {
  host: string
  port: number
  /** how long the connection (and any handshake) may take */
  timeoutMs: number
}

/** Opens a connected socket, or rejects CONNECTION_LOST with a message that says what to check. */
export function openTransport(opts: TransportOptions): Promise<Socket> {
  const { host, port, timeoutMs } = opts
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true })
    const timer = setTimeout(() => socket.destroy(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs)
    socket.once('error', (err) => {
      clearTimeout(timer)
      // [SRV-1] the lease port is the LPF's and is bound only while an LPF is loaded: say so
      const why = (err as NodeJS.ErrnoException).code ?? err.message
      reject(new FlrError('CONNECTION_LOST', `cannot reach flr at ${host}:${port} (${why}): check that flr serve runs there with a valid LPF whose port is ${port}`))
    })
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.removeAllListeners('error')
      resolve(socket)
    })
  })
}
