// The library runtime clients embed: connect, hello, lease with auto-renew, follow `moving`,
// reconnect with backoff and resume by lease id, keep leases usable through the grace period.
import { EventEmitter } from 'node:events'
import { FlrError } from '../errors.js'
import { PROTOCOL } from '../protocol/fields.js'
import type { Op, RequestBody } from '../protocol/messages.js'
import type { Answer, HelloAnswer, OkReply, LeaseAnswer, Push, RenewAnswer, StatusAnswer } from '../protocol/replies.js'
import { Channel } from './channel.js'
import { Lease } from './lease.js'
import type { TlsClientOptions } from './transport.js'

export { Lease } from './lease.js'
export type { TlsClientOptions } from './transport.js'

/** [WIRE-4] what the server said to hello. */
export type Hello = HelloAnswer
/** [WIRE-5] */
export type LeaseGrant = LeaseAnswer

export interface ClientOptions {
  host?: string
  port?: number
  /** [WIRE-4] who this is: the default holder of its leases */
  client: string
  app?: string
  /** reconnect after a lost connection (default true) */
  reconnect?: boolean
  connectTimeoutMs?: number
  /** backoff between reconnect attempts: doubles from min to max */
  backoffMinMs?: number
  backoffMaxMs?: number
  /** [TLS-2] connect over TLS, verifying the server by CA or fingerprint */
  tls?: TlsClientOptions
  /** the site's client token, sent in hello when the server requires one (docs/security.md) */
  token?: string
}

export interface LeaseOptions {
  /** how long the server may wait for a seat (ms, at most 600,000) [LEASE-5] */
  wait?: number
  /** hold the lease as someone other than the connection's client [LEASE-2] */
  holder?: string
}

/**
 * Events: `connected` (Hello), `disconnected` (Error), `moving` (port), `shutdown`.
 * A client keeps one connection; leases are not tied to it ([LEASE-4]) and survive reconnects.
 */
export class FlrClient extends EventEmitter {
  private channel: Channel | undefined
  private connecting: Promise<Channel> | undefined
  private closed = false
  private readonly held = new Set<Lease>()
  private host: string
  private port: number
  hello: Hello | undefined

  private constructor(private readonly opts: ClientOptions) {
    super()
    this.host = opts.host ?? '127.0.0.1'
    this.port = opts.port ?? 19110
  }

  /** Connects and says hello; rejects if the first attempt fails (no retry before the first success). */
  static async connect(opts: ClientOptions): Promise<FlrClient> {
    const client = new FlrClient(opts)
    await client.open()
    return client
  }

  get serverPort(): number {
    return this.port
  }

  /** Sends one request on the current connection; waits for a reconnect in progress. */
  async request<O extends Op>(op: O, ...body: {} extends RequestBody<O> ? [RequestBody<O>?] : [RequestBody<O>]): Promise<Answer<O>> {
    const channel = this.channel?.isOpen ? this.channel : await this.reconnecting()
    const reply = await channel.request(op, body[0] ?? ({} as RequestBody<O>))
    return answerOf(reply)
  }

  /** [WIRE-5] Takes a lease and keeps it renewed at TTL/3 until release() or close(). */
  async lease(pack: string, options: LeaseOptions = {}): Promise<Lease> {
    const grant = await this.request('lease', { pack, ...options })
    const lease = new Lease(this, grant)
    this.held.add(lease)
    return lease
  }

  /** [WIRE-7] */
  status(): Promise<StatusAnswer> {
    return this.request('status')
  }

  /** Closes the connection and stops renewing; leases stay with the server until they expire. */
  close(): void {
    this.closed = true
    for (const lease of this.held) lease.stop()
    this.held.clear()
    this.channel?.close()
  }

  /** @internal */
  forget(lease: Lease): void {
    this.held.delete(lease)
  }

  private async open(port = this.port): Promise<Channel> {
    const channel = await Channel.open(
      this.host,
      port,
      this.opts.connectTimeoutMs ?? 5_000,
      (push) => this.onPush(channel, push),
      (c) => this.onClose(c),
      this.opts.tls,
    )
    try {
      const reply = await channel.request('hello', { protocol: PROTOCOL, client: this.opts.client, ...(this.opts.app ? { app: this.opts.app } : {}), ...(this.opts.token ? { token: this.opts.token } : {}) })
      this.hello = answerOf(reply)
    } catch (e) {
      channel.close()
      throw e
    }
    this.port = port
    const previous = this.channel
    this.channel = channel
    // in-flight replies on the old connection still arrive; it closes once they have
    if (previous && previous !== channel) closeWhenIdle(previous)
    this.emit('connected', this.hello)
    // [LEASE-4] resume every lease by its id on the new connection
    for (const lease of this.held) void lease.renewNow()
    return channel
  }

  private onPush(from: Channel, push: Push): void {
    switch (push.push) {
      case 'revoked': {
        for (const lease of this.held) if (lease.id === push.lease) lease.revoked(push.reason)
        break
      }
      case 'moving': {
        // [SRV-5] resume on the new port; the old connection stays until it is idle
        const port = push.port
        this.emit('moving', port)
        // nobody may be waiting on the retry: a client closed meanwhile must not leave an unhandled rejection
        if (from === this.channel) void (this.connecting ??= this.retry(port).finally(() => (this.connecting = undefined))).catch(() => {})
        break
      }
      case 'shutdown':
        this.emit('shutdown')
        break
    }
  }

  private onClose(channel: Channel): void {
    if (channel !== this.channel) return
    this.emit('disconnected', new FlrError('CONNECTION_LOST'))
    if (!this.closed && this.opts.reconnect !== false) void this.reconnecting().catch(() => {})
  }

  private reconnecting(): Promise<Channel> {
    if (this.closed) return Promise.reject(new FlrError('CONNECTION_LOST', 'the client is closed'))
    if (this.opts.reconnect === false) return Promise.reject(new FlrError('CONNECTION_LOST'))
    this.connecting ??= this.retry(this.port).finally(() => (this.connecting = undefined))
    return this.connecting
  }

  /** Tries until it connects or the client is closed, backing off between attempts. */
  private async retry(port: number): Promise<Channel> {
    let delay = this.opts.backoffMinMs ?? 100
    const max = this.opts.backoffMaxMs ?? 5_000
    for (;;) {
      if (this.closed) throw new FlrError('CONNECTION_LOST', 'the client is closed')
      try {
        return await this.open(port)
      } catch {
        await sleep(delay * (0.5 + Math.random() / 2))
        delay = Math.min(max, delay * 2)
      }
    }
  }
}


/** A reply's answer: its fields without id and ok. */
function answerOf<O extends Op>(reply: OkReply<O>): Answer<O> {
  const answer: Answer<O> & { id?: number; ok?: true } = { ...reply }
  delete answer.id
  delete answer.ok
  return answer
}

function closeWhenIdle(channel: Channel): void {
  const check = () => {
    if (!channel.isOpen) return
    if (channel.idle) channel.close()
    else setTimeout(check, 50).unref()
  }
  check()
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
