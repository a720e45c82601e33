// The HTTP side of the daemon: the shim on HTTP and, given a certificate, on HTTPS too.
import type { Server } from 'node:http'
import { createHttpShim, startHttp, type HttpHandler, type HttpShimOptions } from './http.js'
import type { Logger } from './logger.js'
import type { Server as HttpsServer } from 'node:https'
import type { ServerTls } from './tls-config.js'

export interface HttpFrontOptions {
  host: string
  /** null turns it off ([SEC 7] --no-http) */
  httpPort: number | null
  httpsPort: number | null
  /** [TLS-1] the certificate configuration the lease port shares; a replacement reaches HTTPS too */
  tls?: ServerTls
  log: Logger
  shim: HttpShimOptions
  /** [OBS-1] [OBS-4] routes put in front of the shim's (metrics, dashboard) */
  wrap?: (shim: HttpHandler) => HttpHandler
}

export class HttpFront {
  private readonly servers: Server[] = []
  httpPort: number | null = null
  httpsPort: number | null = null

  private constructor() {}

  /** Binds the ports asked for; one handler serves both. */
  static async start(opts: HttpFrontOptions): Promise<HttpFront> {
    const front = new HttpFront()
    const shim = createHttpShim(opts.shim)
    const handler = opts.wrap ? opts.wrap(shim) : shim
    const { host, log } = opts
    if (opts.httpPort !== null) {
      const { server, port } = await startHttp({ port: opts.httpPort, host }, handler)
      front.servers.push(server)
      front.httpPort = port
      log.info({ port }, `HTTP shim listening on port ${port}`)
    }
    if (opts.httpsPort !== null && opts.tls) {
      const { server, port } = await startHttp({ port: opts.httpsPort, host, tls: opts.tls.pair }, handler)
      opts.tls.onChange((pair) => (server as HttpsServer).setSecureContext(pair))
      front.servers.push(server)
      front.httpsPort = port
      log.info({ port }, `HTTPS shim listening on port ${port}`)
    }
    return front
  }

  /** [SRV-8] Stops accepting and closes every connection at once; resolves once all are closed. */
  close(): Promise<void> {
    const closing = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))
    for (const s of this.servers) s.closeAllConnections()
    return Promise.all(closing).then(() => {})
  }
}
