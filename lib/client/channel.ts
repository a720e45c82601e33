// One TCP connection to a server: framed requests matched to replies by id, pushes out.
import type { Socket } from 'node:net'
import { FlrError } from '../errors.js'
import { encodeFrame, FrameDecoder } from '../protocol/frame.js'
import type { Op, RequestBody } from '../protocol/messages.js'
import { isPush, type OkReply, type Push, type WireError } from '../protocol/replies.js'
import { openTransport, type TlsClientOptions } from './transport.js'

/** Replies from the server may exceed the 64 KiB request limit (a long leases list). */
const MAX_REPLY = 16 * 1024 * 1024

interface Pending {
  resolve(reply: OkReply): void
  reject(err: Error): void
}

/** Called with each push the server sends ([WIRE-9]). */
export type PushHandler = (push: Push) => void

export class Channel {
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private closedError: FlrError | undefined

  private constructor(
    private readonly socket: Socket,
    onPush: PushHandler,
    onClose: (channel: Channel) => void,
  ) {
    const decoder = new FrameDecoder(
      {
        frame: (msg) => {
          if (typeof msg.push === 'string') {
            // a push of a newer server that this client does not know is dropped ([WIRE-9])
            if (isPush(msg)) onPush(msg)
            return
          }
          this.settle(msg)
        },
        fault: (err) => socket.destroy(err),
      },
      MAX_REPLY,
    )
    socket.on('data', (chunk) => decoder.push(chunk))
    socket.on('error', () => {})
    socket.on('close', () => {
      this.closedError = new FlrError('CONNECTION_LOST', `connection to ${socket.remoteAddress}:${socket.remotePort} closed`)
      for (const p of this.pending.values()) p.reject(this.closedError)
      this.pending.clear()
      onClose(this)
    })
  }

  static open(
    host: string,
    port: number,
    timeoutMs: number,
    onPush: PushHandler,
    onClose: (channel: Channel) => void,
    tls?: TlsClientOptions,
  ): Promise<Channel> {
    return openTransport({ host, port, timeoutMs, tls }).then((socket) => new Channel(socket, onPush, onClose))
  }

  get isOpen(): boolean {
    return this.closedError === undefined
  }

  get idle(): boolean {
    return this.pending.size === 0
  }

  request<O extends Op>(op: O, body: RequestBody<O>): Promise<OkReply<O>> {
    if (this.closedError) return Promise.reject(this.closedError)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      // the reply to this id answers this op: its shape is the op's ([WIRE-2])
      this.pending.set(id, { resolve: resolve as (reply: OkReply) => void, reject })
      // a client sends a request at a time: the server's write policy (server/socket-writer.ts) is not its concern
      this.socket.write(encodeFrame({ ...body, id, op }))
    })
  }

  close(): void {
    this.socket.end()
  }

  private settle(msg: Record<string, unknown>): void {
    const id = typeof msg.id === 'number' ? msg.id : 0
    const p = this.pending.get(id)
    if (!p) {
      // id 0: a fault from the server; the connection is about to close
      return
    }
    this.pending.delete(id)
    if (msg.ok === true) p.resolve(msg as OkReply)
    else {
      const { code, message, ...details } = (msg.error ?? {}) as Partial<WireError>
      p.reject(new FlrError(code ?? 'INTERNAL', message, details))
    }
  }
}
