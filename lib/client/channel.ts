// One connection to a server: framed requests matched to replies by id, pushes out. Every
// request has a deadline and a silent connection is probed with ping ([HA-6]): a server that
// stops answering (frozen, partitioned, half-open) closes the channel like a lost socket.
import type { Socket } from 'node:net'
import { FlrError } from '../errors.js'
import { encodeFrame, FrameDecoder } from '../protocol/frame.js'
import type { Op, RequestBody } from '../protocol/messages.js'
import { isPush, type OkReply, type Push, type WireError } from '../protocol/replies.js'
import { openTransport, type TlsClientOptions } from './transport.js'

/** Replies from the server may exceed the 64 KiB request limit (a long leases list). */
const MAX_REPLY = 16 * 1024 * 1024
/** how many deadlines a request may last while the server keeps answering other things */
const SLOW_OP_FACTOR = 6

interface Pending {
  resolve(reply: OkReply): void
  reject(err: Error): void
}

/** Called with each push the server sends ([WIRE-9]). */
export type PushHandler = (push: Push) => void

export interface ChannelOptions {
  host: string
  port: number
  /** how long the connection (and any handshake) may take */
  connectTimeoutMs: number
  /** the deadline of a request that names none, and of a probe */
  requestTimeoutMs: number
  /** with nothing heard for this long, a ping asks whether the server is still there */
  pingIntervalMs: number
  /** [TLS-2] connect over TLS, verifying the server by CA or fingerprint (transport.ts) */
  tls?: TlsClientOptions
  onPush: PushHandler
  onClose(channel: Channel): void
}

export class Channel {
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private closedError: FlrError | undefined
  private lastHeard = performance.now()
  private probeTimer: NodeJS.Timeout | undefined
  private probing = false
  /** `host:port`, for messages */
  readonly address: string

  private constructor(
    private readonly socket: Socket,
    private readonly opts: ChannelOptions,
  ) {
    this.address = `${opts.host}:${opts.port}`
    const decoder = new FrameDecoder(
      {
        frame: (msg) => {
          if (typeof msg.push === 'string') {
            // a push of a newer server that this client does not know is dropped ([WIRE-9])
            if (isPush(msg)) opts.onPush(msg)
            return
          }
          this.settle(msg)
        },
        fault: (err) => socket.destroy(err),
      },
      MAX_REPLY,
    )
    socket.on('data', (chunk) => {
      this.lastHeard = performance.now()
      decoder.push(chunk)
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(this.probeTimer)
      this.closedError ??= new FlrError('CONNECTION_LOST', `connection to ${this.address} closed`)
      for (const p of this.pending.values()) p.reject(this.closedError)
      this.pending.clear()
      opts.onClose(this)
    })
  }

  static async open(opts: ChannelOptions): Promise<Channel> {
    const socket = await openTransport({ host: opts.host, port: opts.port, timeoutMs: opts.connectTimeoutMs, tls: opts.tls })
    return new Channel(socket, opts)
  }

  get isOpen(): boolean {
    return this.closedError === undefined
  }

  /** why it closed, once it has */
  get error(): FlrError | undefined {
    return this.closedError
  }

  get idle(): boolean {
    return this.pending.size === 0
  }

  /**
   * Sends one request; rejects CONNECTION_LOST if no answer comes within `timeoutMs` while
   * nothing else is heard from the server either (the probes, [HA-6]), and then closes the
   * connection: a server that misses a deadline counts as gone. A server that answers its
   * pings meanwhile is slow, not gone: the request waits on, up to SLOW_OP_FACTOR deadlines.
   */
  request<O extends Op>(op: O, body: RequestBody<O>, timeoutMs = this.opts.requestTimeoutMs): Promise<OkReply<O>> {
    if (this.closedError) return Promise.reject(this.closedError)
    const id = this.nextId++
    const sentAt = performance.now()
    return new Promise((resolve, reject) => {
      const expire = (): void => {
        const now = performance.now()
        const heard = now - this.lastHeard
        // the server answered something since (a ping, another reply) within the deadline: it is
        // alive and this op is slow (auth hashes on purpose, a loaded host); wait on, up to a cap
        if (heard < timeoutMs && now - sentAt < timeoutMs * SLOW_OP_FACTOR) timer = setTimeout(expire, timeoutMs - heard)
        else this.fail(`no answer to ${op} from ${this.address} within ${timeoutMs} ms`)
      }
      let timer = setTimeout(expire, timeoutMs)
      // the reply to this id answers this op: its shape is the op's ([WIRE-2])
      this.pending.set(id, {
        resolve: (reply) => {
          clearTimeout(timer)
          resolve(reply as OkReply<O>)
        },
        reject: (err) => {
          clearTimeout(timer)
          reject(err)
        },
      })
      // a client sends a request at a time: the server's write policy (server/socket-writer.ts) is not its concern
      this.socket.write(encodeFrame({ ...body, id, op }))
    })
  }

  /**
   * [HA-6] From now on, a connection silent for pingIntervalMs is sent a ping; a ping missing
   * its deadline closes it. A half-open connection (packets dropped, a SIGSTOPped server whose
   * kernel keeps the socket open) raises no error of its own: this is how it is noticed.
   */
  startProbing(): void {
    if (!this.isOpen || this.probeTimer) return
    const check = (): void => {
      if (!this.isOpen) return
      const silent = performance.now() - this.lastHeard
      if (silent >= this.opts.pingIntervalMs && !this.probing) {
        this.probing = true
        this.request('ping', {}).then(
          () => (this.probing = false),
          () => {}, // the channel is closed: onClose tells the client
        )
      }
      // while a probe is out its own deadline decides; look again one interval on
      this.probeTimer = setTimeout(check, silent >= this.opts.pingIntervalMs ? this.opts.pingIntervalMs : this.opts.pingIntervalMs - silent)
      this.probeTimer.unref()
    }
    this.probeTimer = setTimeout(check, this.opts.pingIntervalMs)
    this.probeTimer.unref()
  }

  close(): void {
    clearTimeout(this.probeTimer)
    this.socket.end()
  }

  /** Gives up on the connection: every pending request rejects with this reason. */
  fail(message: string): void {
    if (this.closedError) return
    this.closedError = new FlrError('CONNECTION_LOST', message)
    this.socket.destroy()
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
