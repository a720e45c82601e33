// A raw protocol peer for end-to-end tests: node:net plus the real frame codec, nothing of
// the client library, so a test controls every byte it sends ([WIRE-1]..[WIRE-10]).
import { connect, type Socket } from 'node:net'
import { FrameDecoder, encodeFrame } from '../../lib/protocol/frame.js'
import type { TestContext } from './server.js'

/** A frame the server sent: a reply ({id, ok, ...}) or a push ({push, ...}). */
export type Frame = Record<string, unknown>

// Replies may be larger than the 64 KiB request limit (a long status).
const MAX_REPLY = 16 * 1024 * 1024
const DEFAULT_WAIT_MS = 15_000

export class RawPeer {
  /** every frame received, in order */
  readonly frames: Frame[] = []
  /** a fault decoding what the server sent (never expected) */
  decodeFault: Error | undefined
  private nextId = 1
  private readonly watchers = new Set<() => void>()
  readonly closed: Promise<void>
  private isClosed = false

  private constructor(readonly socket: Socket) {
    const decoder = new FrameDecoder(
      {
        frame: (msg) => {
          this.frames.push(msg)
          this.wake()
        },
        fault: (err) => {
          this.decodeFault = err
          this.wake()
        },
      },
      MAX_REPLY,
    )
    socket.on('data', (chunk) => decoder.push(chunk))
    socket.on('error', () => {})
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true
        this.wake()
        resolve()
      }),
    )
  }

  /** Connects; closed (destroyed) at teardown. */
  static open(t: TestContext, port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true })
      socket.once('error', reject)
      socket.once('connect', () => {
        socket.removeListener('error', reject)
        const peer = new RawPeer(socket)
        t.teardown(() => peer.destroy())
        resolve(peer)
      })
    })
  }

  /** Connects and says hello ([WIRE-4]). */
  static async hello(t: TestContext, port: number, client = 'raw-peer'): Promise<RawPeer> {
    const peer = await RawPeer.open(t, port)
    const reply = await peer.call('hello', { protocol: 1, client })
    if (reply.ok !== true) throw new Error(`hello refused: ${JSON.stringify(reply)}`)
    return peer
  }

  get isOpen(): boolean {
    return !this.isClosed
  }

  /** Writes raw bytes (a hand-made frame, or part of one). */
  write(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  /** Sends a request with a fresh id; returns the id. */
  send(op: string, body: Record<string, unknown> = {}): number {
    const id = this.nextId++
    this.socket.write(encodeFrame({ ...body, id, op }))
    return id
  }

  /** Sends a request and waits for the reply with its id. */
  async call(op: string, body: Record<string, unknown> = {}, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame> {
    return this.reply(this.send(op, body), timeoutMs)
  }

  /** The reply with this id, once it arrives. */
  reply(id: number, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame> {
    return this.waitFor((f) => f.id === id && f.push === undefined, `reply to request ${id}`, timeoutMs)
  }

  /** The first frame (already received or still to come) that matches. */
  waitFor(match: (f: Frame) => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame> {
    return this.until(() => this.frames.find(match), what, timeoutMs)
  }

  /** Resolves when `count` frames have arrived. */
  waitForCount(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame[]> {
    return this.until(() => (this.frames.length >= count ? this.frames.slice(0, count) : undefined), `${count} frames`, timeoutMs)
  }

  /** Resolves when the server has closed the connection. */
  async waitClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await this.until(() => (this.isClosed ? true : undefined), 'the connection to close', timeoutMs)
  }

  destroy(): void {
    this.socket.destroy()
  }

  private until<T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = (): boolean => {
        const found = check()
        if (found === undefined) return false
        this.watchers.delete(watcher)
        clearTimeout(timer)
        resolve(found)
        return true
      }
      const watcher = (): void => {
        if (attempt()) return
        if (this.isClosed && check() === undefined) {
          this.watchers.delete(watcher)
          clearTimeout(timer)
          reject(new Error(`connection closed before ${what}; frames so far: ${describe(this.frames)}`))
        }
      }
      const timer = setTimeout(() => {
        this.watchers.delete(watcher)
        reject(new Error(`no ${what} within ${timeoutMs} ms; frames so far: ${describe(this.frames)}`))
      }, timeoutMs)
      this.watchers.add(watcher)
      watcher()
    })
  }

  private wake(): void {
    for (const w of [...this.watchers]) w()
  }
}

/** A frame with a hand-written header: `declared` need not match the body's length. */
export function rawFrame(declared: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(4)
  header.writeUInt32BE(declared, 0)
  return Buffer.concat([header, body])
}

/** A well-formed frame around a hand-made MessagePack body. */
export function frameOf(body: Buffer): Buffer {
  return rawFrame(body.length, body)
}

function describe(frames: Frame[]): string {
  const text = JSON.stringify(frames.slice(-5))
  return `${frames.length} (last: ${text.length > 600 ? `${text.slice(0, 600)}…` : text})`
}

/** A client that keeps leasing and releasing until stopped: proof that others are still served. */
export function bystander(peer: RawPeer, pack: string) {
  let running = true
  let rounds = 0
  const failures: Frame[] = []
  const done = (async () => {
    while (running) {
      const granted = await peer.call('lease', { pack })
      if (granted.ok !== true) failures.push(granted)
      else {
        const released = await peer.call('release', { lease: granted.lease })
        if (released.ok !== true) failures.push(released)
      }
      rounds++
    }
  })()
  return {
    async stop() {
      running = false
      await done
      return { rounds, failures }
    },
  }
}
