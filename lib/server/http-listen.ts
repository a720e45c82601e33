// Listening for the HTTP shim: the server (HTTP or HTTPS) with its timeouts, the refusal of a
// port that cannot be had, and the answer to a request Node cannot parse. Split from http.ts
// (issue 12): this is socket plumbing, the routes are in http.ts.
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Duplex } from 'node:stream'
import { FlrError } from '../errors.js'

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void

export interface HttpListenOptions {
  port: number
  host?: string
  /** PEM; HTTPS when given */
  tls?: { cert: string | Buffer; key: string | Buffer }
  /** defaults: HTTP_TIMEOUTS; tests shorten them to see them act */
  timeouts?: Partial<HttpTimeouts>
}

export interface HttpTimeouts {
  /** the whole header block must arrive within this (slowloris) */
  headersTimeout: number
  /** the whole request, body included */
  requestTimeout: number
  /** an idle kept-alive connection is closed after this */
  keepAliveTimeout: number
  /** how often Node checks the two above; its default (30 s) would let them overrun by that much */
  connectionsCheckingInterval: number
  tlsHandshakeTimeout: number
}

export const HTTP_TIMEOUTS: Readonly<HttpTimeouts> = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 1_000,
  tlsHandshakeTimeout: 10_000,
}

/** Listens with `handler` on `opts.port` (0: a free one); resolves with the server and the bound port. */
export async function startHttp(opts: HttpListenOptions, handler: HttpHandler): Promise<{ server: Server; port: number }> {
  const { tlsHandshakeTimeout, ...timeouts } = { ...HTTP_TIMEOUTS, ...opts.timeouts }
  const server: Server = opts.tls
    ? createHttpsServer({ ...timeouts, cert: opts.tls.cert, key: opts.tls.key, handshakeTimeout: tlsHandshakeTimeout }, handler)
    : createHttpServer(timeouts, handler)
  server.on('clientError', answerClientError)
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, opts))
    server.once('error', onError)
    server.listen(opts.port, opts.host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const address = server.address()
  return { server, port: typeof address === 'object' && address !== null ? address.port : opts.port }
}

function listenError(err: NodeJS.ErrnoException, opts: HttpListenOptions): Error {
  const option = opts.tls ? '--https-port' : '--http-port'
  if (err.code === 'EADDRINUSE') {
    return new FlrError('PORT_IN_USE', `port ${opts.port} is held by another process: choose another with ${option} (0 picks a free one)`)
  }
  if (err.code === 'EACCES') return new Error(`no permission to listen on port ${opts.port}: choose a port above 1023 with ${option}`)
  return err
}

/** A request Node cannot parse, or one that timed out: a JSON error like every other, then close. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // a response already under way cannot take a second status line
  const busy = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true
  if (err.code === 'ECONNRESET' || !socket.writable || busy) return void socket.destroy()
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'the request headers are too large']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'the request took too long to arrive']
    : [400, 'the request is not valid HTTP/1.1']
  const body = JSON.stringify({ error: { code: 'BAD_REQUEST', message } })
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}
