// The library runtime clients embed: connect to the first server of a list that answers,
// hello, lease with auto-renew, follow `moving` and NOT_LEADER to the leader ([HA-6]),
// reconnect with backoff and resume by lease id, keep leases usable through the grace period.
import { EventEmitter } from 'node:events'
import { FlrError, isFlrError, type ErrorCode } from '../errors.js'
import type { Op, RequestBody } from '../protocol/messages.js'
import type { Answer, LeaseAnswer, Push, StatusAnswer } from '../protocol/replies.js'
import type { Channel } from './channel.js'
import { Lease } from './lease.js'
import { answerOf, connectRound, type Hello, type Opened, type RoundContext } from './round.js'
import { ServerList, formatAddress, parseAddress } from './servers.js'
import type { TlsClientOptions } from './transport.js'

export { Lease } from './lease.js'
export type { TlsClientOptions } from './transport.js'

export type { Hello } from './round.js'
/** [WIRE-5] */
export type LeaseGrant = LeaseAnswer

export interface ClientOptions {
  host?: string
  port?: number
  /** [HA-6] servers as `host:port`, tried in order (instead of host and port); grows with hello's `servers` */
  servers?: readonly string[]
  /** [WIRE-4] who this is: the default holder of its leases */
  client: string
  app?: string
  /** reconnect after a lost connection (default true) */
  reconnect?: boolean
  /** how long one connection attempt, hello included, may take (default 5 s) */
  connectTimeoutMs?: number
  /** [HA-6] the deadline of every request (default 10 s; a lease with `wait` gets wait + this) */
  requestTimeoutMs?: number
  /** [HA-6] a connection silent this long is probed with ping (default 3 s) */
  pingIntervalMs?: number
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

/** SPEC HA-4: the standby's answer to an op only the leader serves; defined by the server side */
const NOT_LEADER = 'NOT_LEADER' as ErrorCode
/** how many times one request follows NOT_LEADER or a lost connection before it gives up (its deadline comes first, as a rule) */
const MAX_HOPS = 32
/** ops that do no harm said twice: read-only, or idempotent ([LEASE-2] lease per holder and pack; renew; release) */
const SAY_AGAIN: ReadonlySet<Op> = new Set<Op>(['lease', 'renew', 'release', 'status', 'ping', 'leases'])

/**
 * Events: `connected` (Hello), `disconnected` (Error), `moving` (port, host?), `shutdown`.
 * A client keeps one connection; leases are not tied to it ([LEASE-4]) and survive reconnects,
 * to the same server or to another node of the cluster ([HA-6]).
 */
export class FlrClient extends EventEmitter {
  private channel: Channel | undefined
  /** the channel a NOT_LEADER or a `moving` said to leave: no new request goes on it */
  private leaving: Channel | undefined
  private connecting: Promise<Channel> | undefined
  private closed = false
  private readonly held = new Set<Lease>()
  private readonly list: ServerList
  private address: string | undefined
  /** an `auth` that succeeded, said again on every new connection (admin state is per connection) */
  private auth: RequestBody<'auth'> | undefined
  private readonly roundContext: RoundContext
  hello: Hello | undefined

  private constructor(private readonly opts: ClientOptions) {
    super()
    const given = opts.servers?.length ? opts.servers : [formatAddress({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 19110 })]
    this.list = new ServerList(given)
    this.roundContext = {
      opts,
      list: this.list,
      closed: () => this.closed,
      onPush: (channel, push) => this.onPush(channel, push),
      onClose: (channel) => this.onClose(channel),
    }
  }

  /** Connects and says hello; rejects if no server of the list answers (no retry before the first success). */
  static async connect(opts: ClientOptions): Promise<FlrClient> {
    const client = new FlrClient(opts)
    await client.round(undefined)
    return client
  }

  /** The server talked to now, `host:port`. */
  get server(): string {
    return this.address ?? this.list.all[0]!
  }

  /** Every server known: the ones given, then the ones learned. */
  get servers(): readonly string[] {
    return this.list.all
  }

  get serverPort(): number {
    return parseAddress(this.server)!.port
  }

  /**
   * Sends one request, within its deadline; waits for a reconnect in progress (as long as the
   * deadline). NOT_LEADER means the standby did not do it: it is sent again to the leader. An
   * op that may safely be said twice is sent again on the next connection when its own was lost
   * before the answer (a `lease` is idempotent per holder and pack, [LEASE-2]).
   */
  async request<O extends Op>(op: O, ...body: {} extends RequestBody<O> ? [RequestBody<O>?] : [RequestBody<O>]): Promise<Answer<O>> {
    const payload = body[0] ?? ({} as RequestBody<O>)
    const timeoutMs = this.timeoutFor(op, payload)
    const giveUpAt = performance.now() + timeoutMs
    let delay = this.opts.backoffMinMs ?? 100
    let resent = false
    const namedLeaders = new Set<string>()
    for (let hop = 0; ; hop++) {
      const channel = await this.ready(giveUpAt)
      try {
        const reply = await channel.request(op, payload, timeoutMs)
        if (op === 'auth') this.auth = payload as unknown as RequestBody<'auth'>
        return answerOf(reply)
      } catch (e) {
        if (!isFlrError(e) || hop >= MAX_HOPS || this.closed) throw e
        // a release said again after a lost answer: LEASE_UNKNOWN means the first one did it
        if (resent && op === 'release' && e.code === 'LEASE_UNKNOWN') return {} as Answer<O>
        if (e.code === 'CONNECTION_LOST') {
          // a missed deadline has used up the time; a connection closed under the request has not
          if (!SAY_AGAIN.has(op) || this.opts.reconnect === false || performance.now() >= giveUpAt) throw e
          resent = true
          continue
        }
        if (e.code !== NOT_LEADER) throw e
        const leader = typeof e.details.leader === 'string' && parseAddress(e.details.leader) ? e.details.leader : undefined
        // a leader named for the first time is gone to at once; none named (an election under
        // way), or one named again that did not answer (it died and its term has not run out
        // yet): wait a little before asking around again
        if (!leader || leader === channel.address || namedLeaders.has(leader)) {
          if (performance.now() + delay > giveUpAt) throw e
          await sleep(delay)
          delay = Math.min(this.opts.backoffMaxMs ?? 2_000, delay * 2)
        }
        if (leader) namedLeaders.add(leader)
        this.leave(channel, leader)
      }
    }
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

  /** [HA-6] a request's deadline: requestTimeoutMs, plus the wait a lease asks for */
  private timeoutFor(op: Op, body: unknown): number {
    const base = this.opts.requestTimeoutMs ?? 10_000
    const wait = op === 'lease' ? (body as { wait?: unknown }).wait : undefined
    return typeof wait === 'number' ? base + wait : base
  }

  /** The channel to send on: the current one, or the one being connected, waited for until giveUpAt. */
  private async ready(giveUpAt: number): Promise<Channel> {
    if (this.closed) throw new FlrError('CONNECTION_LOST', 'the client is closed')
    if (this.channel?.isOpen && this.channel !== this.leaving) return this.channel
    const connecting = this.connecting ?? this.reconnecting()
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_, reject) => {
      const left = Math.max(0, giveUpAt - performance.now())
      timer = setTimeout(() => reject(new FlrError('CONNECTION_LOST', `no flr server answered within ${Math.round(left)} ms (${this.list.all.join(', ')})`)), left)
    })
    try {
      return await Promise.race([connecting, late])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Leaves `from` for `hint` (or the next server): requests in flight on it still get their replies. */
  private leave(from: Channel, hint: string | undefined): void {
    if (from !== this.channel || this.closed) return
    this.leaving = from
    // nobody may be waiting on it: a client closed meanwhile must not leave an unhandled rejection
    void (this.connecting ??= this.attempts(hint).finally(() => (this.connecting = undefined))).catch(() => {})
  }

  private reconnecting(): Promise<Channel> {
    if (this.closed) return Promise.reject(new FlrError('CONNECTION_LOST', 'the client is closed'))
    if (this.opts.reconnect === false) return Promise.reject(this.channel ? new FlrError('CONNECTION_LOST', `connection to ${this.server} lost`) : new FlrError('CONNECTION_LOST'))
    this.connecting ??= this.attempts(undefined).finally(() => (this.connecting = undefined))
    return this.connecting
  }

  /** Rounds over the servers until one answers or the client is closed, backing off between rounds. */
  private async attempts(hint: string | undefined): Promise<Channel> {
    let delay = this.opts.backoffMinMs ?? 100
    const max = this.opts.backoffMaxMs ?? 2_000
    for (;;) {
      if (this.closed) throw new FlrError('CONNECTION_LOST', 'the client is closed')
      try {
        return await this.round(hint)
      } catch (e) {
        // without reconnect a redirect gets one round, no more
        if (this.opts.reconnect === false) throw e
        await sleep(delay * (0.5 + Math.random() / 2))
        delay = Math.min(max, delay * 2)
      }
    }
  }

  /** [HA-6] One round over the servers (round.ts), and the connection it found taken up. */
  private async round(hint: string | undefined): Promise<Channel> {
    return this.adopt(await connectRound(this.roundContext, hint, this.address))
  }

  private async adopt({ channel, hello, address }: Opened): Promise<Channel> {
    channel.startProbing()
    // admin state belongs to a connection: an admin client is admin again on the new one
    if (this.auth) await channel.request('auth', this.auth).catch(() => {})
    if (!channel.isOpen) throw channel.error
    this.address = address
    this.hello = hello
    const previous = this.channel
    this.channel = channel
    this.leaving = undefined
    // in-flight replies on the old connection still arrive; it closes once they have
    if (previous && previous !== channel) closeWhenIdle(previous)
    this.emit('connected', this.hello)
    // [LEASE-4] [HA-6] resume every lease by its id on the new connection
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
        // [SRV-5] a new port on the same host; with `host` (SPEC HA-5): another node takes over
        const host = (push as { host?: unknown }).host
        const target = formatAddress({ host: typeof host === 'string' && host !== '' ? host : parseAddress(from.address)!.host, port: push.port })
        if (typeof host === 'string' && host !== '') this.list.learn([target])
        else this.list.replace(from.address, target)
        this.emit('moving', push.port, typeof host === 'string' ? host : undefined)
        this.leave(from, target)
        break
      }
      case 'shutdown':
        this.emit('shutdown')
        break
    }
  }

  private onClose(channel: Channel): void {
    if (channel !== this.channel) return
    // a missed deadline or probe says so in the error's message
    this.emit('disconnected', channel.error ?? new FlrError('CONNECTION_LOST'))
    if (!this.closed && this.opts.reconnect !== false) void this.reconnecting().catch(() => {})
  }
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
