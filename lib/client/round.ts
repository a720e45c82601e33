// [HA-6] One round of connection attempts over the servers a client knows: each in turn,
// the hint (a leader named by NOT_LEADER or hello, the target of `moving`) first, each given
// connectTimeoutMs to connect and as long to answer hello. What the client does with the
// connection it finds (client.ts) is not this module's concern.
import { FlrError } from '../errors.js'
import { PROTOCOL } from '../protocol/fields.js'
import type { Op } from '../protocol/messages.js'
import type { Answer, HelloAnswer, OkReply, Push } from '../protocol/replies.js'
import { Channel } from './channel.js'
import type { ClientOptions } from './client.js'
import { parseAddress, type ServerList } from './servers.js'

/** [WIRE-4] what the server said to hello; from a node of a cluster also role, leader and servers (SPEC HA-4). */
export type Hello = HelloAnswer & { role?: string; leader?: string; servers?: readonly string[] }

/** A connection that answered hello. */
export interface Opened {
  channel: Channel
  hello: Hello
  address: string
}

/** What a round needs of its client. */
export interface RoundContext {
  opts: ClientOptions
  list: ServerList
  closed(): boolean
  onPush(channel: Channel, push: Push): void
  onClose(channel: Channel): void
}

/**
 * [HA-6] One round: each server in turn (the hint first). A standby that names the leader
 * sends the round there; a standby is kept only when no leader answers (status still works on
 * it, and the requests' NOT_LEADER lead on). Rejects when none answers.
 */
export async function connectRound(ctx: RoundContext, hint: string | undefined, current: string | undefined): Promise<Opened> {
  const queue = ctx.list.candidates(hint, current)
  const tried: string[] = []
  const failures: string[] = []
  let lastError: unknown
  let standby: Opened | undefined
  while (queue.length > 0) {
    const address = queue.shift()!
    if (tried.includes(address)) continue
    tried.push(address)
    let opened: { channel: Channel; hello: Hello }
    try {
      opened = await open(ctx, address)
    } catch (e) {
      lastError = e
      failures.push(`${address}: ${(e as Error).message}`)
      continue
    }
    if (ctx.closed()) {
      opened.channel.close()
      standby?.channel.close()
      throw new FlrError('CONNECTION_LOST', 'the client is closed')
    }
    queue.push(...ctx.list.learn(opened.hello.servers))
    if (opened.hello.role === 'standby') {
      const leader = opened.hello.leader
      if (typeof leader === 'string' && parseAddress(leader)) {
        ctx.list.learn([leader])
        queue.unshift(leader)
      }
      if (standby) opened.channel.close()
      else standby = { ...opened, address }
      continue
    }
    standby?.channel.close()
    return { ...opened, address }
  }
  if (standby) return standby
  // one server: its own error, which says what to check; several: each one's
  if (failures.length === 1) throw lastError
  throw new FlrError('CONNECTION_LOST', `no flr server answered: ${failures.join('; ')}`)
}

/** Connects to one server and says hello, within connectTimeoutMs for each. */
async function open(ctx: RoundContext, address: string): Promise<{ channel: Channel; hello: Hello }> {
  const { host, port } = parseAddress(address)!
  const connectTimeoutMs = ctx.opts.connectTimeoutMs ?? 5_000
  const channel = await Channel.open({
    host,
    port,
    connectTimeoutMs,
    requestTimeoutMs: ctx.opts.requestTimeoutMs ?? 10_000,
    pingIntervalMs: ctx.opts.pingIntervalMs ?? 3_000,
    tls: ctx.opts.tls,
    onPush: (push) => ctx.onPush(channel, push),
    onClose: (c) => ctx.onClose(c),
  })
  try {
    const reply = await channel.request('hello', { protocol: PROTOCOL, client: ctx.opts.client, ...(ctx.opts.app ? { app: ctx.opts.app } : {}), ...(ctx.opts.token ? { token: ctx.opts.token } : {}) }, connectTimeoutMs)
    return { channel, hello: answerOf(reply) as Hello }
  } catch (e) {
    channel.close()
    throw e
  }
}

/** A reply's answer: its fields without id and ok. */
export function answerOf<O extends Op>(reply: OkReply<O>): Answer<O> {
  const answer: Answer<O> & { id?: number; ok?: true } = { ...reply }
  delete answer.id
  delete answer.ok
  return answer
}
