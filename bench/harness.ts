// What the tests (test/helpers) and the benchmarks (bench/common.ts) both need to drive a
// real server: where the checkout is, free ports, a signed LPF for the test host, the
// command line of `flr serve` and the watch over its JSON log, and a raw protocol
// connection that speaks frames directly ([WIRE-1], [WIRE-2]) with no client library in
// the way. It lives in bench/ because the benchmarks run compiled (dist/bench) and only
// lib/, bench/ and fixtures/ are compiled; the tests import it as TypeScript.
import type { ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildLpfXml, signLpf, type LpfSpec as VendorLpfSpec } from '../lib/lpf/vendor.js'
import { FrameDecoder } from '../lib/protocol/frame.js'
import { writeFrame } from '../lib/server/socket-writer.js'
import type { Op, RequestBody } from '../lib/protocol/messages.js'
import type { WireError } from '../lib/protocol/replies.js'

export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)))
export const FLR_BIN = join(ROOT, 'bin/flr.js')
export const HOST_ID = 'Lnx-TEST-TEST-TEST-TEST'
export const VENDOR_KEY = join(ROOT, 'fixtures/keys/vendor.key.pem')
export const VENDOR_PUB = join(ROOT, 'fixtures/keys/vendor.pub.pem')

/** The checkout: two levels up from bench/ as TypeScript, three from dist/bench. */
function findRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin/flr.js'))) return dir
  }
  throw new Error(`no flr checkout above ${from}`)
}

/** A port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

// ---- the LPF ----

export interface PackSpec {
  name: string
  limit: number
  licenses?: string
}

export interface LpfSpec {
  port: number
  packs: PackSpec[]
  hostId?: string
  vendor?: string
  expiration?: string
  /** [HA-2] more hosts after `hostId` (each with its port): a cluster LPF */
  otherHosts?: { hostId: string; port: number }[]
  /** [LPF-2] the grace attribute, such as `7d`; omitted, none */
  grace?: string
}

/** A freshly signed LPF, with the test vendor key, for the test host unless told otherwise. */
export function lpfText(spec: LpfSpec): string {
  return signLpf(
    buildLpfXml({
      vendor: spec.vendor ?? 'Acme',
      generated: '2026-11-01',
      expiration: spec.expiration ?? '2099-12-31',
      hostId: spec.hostId ?? HOST_ID,
      port: spec.port,
      otherHosts: spec.otherHosts,
      grace: spec.grace,
      packs: spec.packs.map((p) => ({ name: p.name, limit: p.limit, licenses: p.licenses ?? `<licenses><license product="${p.name}"/></licenses>` })),
    }),
    readFileSync(VENDOR_KEY, 'utf8'),
  )
}

/**
 * The LPF-loading benches' file (unsigned): `packs` packs for the test host on port 19110,
 * each with one `<license>`, or with `licenses` as every pack's licenses text when given.
 */
export function manyPacksSpec(packs: number, licenses = ''): VendorLpfSpec {
  return {
    vendor: 'Acme',
    generated: '2026-11-01',
    expiration: '2099-12-31',
    hostId: HOST_ID,
    port: 19110,
    packs: Array.from({ length: packs }, (_, i) => ({
      name: `pack-${i}`,
      limit: i % 1000,
      licenses: licenses || `<license product="pack-${i}" edition="pro" features="a,b,c" expires="2099-12-31"/>`,
    })),
  }
}

// ---- flr serve ----

export interface ServeDirs {
  licenseDir: string
  stateDir: string
  logDir: string
}

/** `flr serve`'s arguments for the test host (or `hostId`) and key on `dirs`, bound to loopback; the HTTP shim off unless `args` set its port. */
export function serveArgs(dirs: ServeDirs, args: string[] = [], hostId = HOST_ID): string[] {
  return [
    FLR_BIN, 'serve',
    '--license-dir', dirs.licenseDir, '--state-dir', dirs.stateDir, '--log-dir', dirs.logDir,
    '--vendor-key', VENDOR_PUB, '--host-id', hostId, '--bind', '127.0.0.1',
    // commander lets --no-http win over --http-port: it goes only when no port is asked for
    ...(args.includes('--http-port') ? [] : ['--no-http']),
    ...args,
  ]
}

export interface LogLine {
  msg: string
  time: number
  /** performance.now() when the line was read */
  seenAt: number
  [field: string]: unknown
}

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  /** performance.now() at exit */
  at: number
}

export interface ServeLog {
  /** every JSON line the child has logged so far */
  readonly logs: LogLine[]
  /** the first line (logged already or still to come) whose msg matches */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<LogLine>
  readonly exited: Promise<Exit>
}

/** Reads a `flr serve` child's JSON log from its stdout, line by line as it comes. */
export function watchServeLog(child: ChildProcess, defaultTimeoutMs = 15_000): ServeLog {
  const logs: LogLine[] = []
  const waiters: { pattern: RegExp; resolve: (line: LogLine) => void }[] = []
  let stderr = ''
  let buffered = ''
  child.stderr!.on('data', (d) => (stderr += d))
  child.stdout!.on('data', (d) => {
    buffered += d
    let nl
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      let line: LogLine
      try {
        line = { ...JSON.parse(text), seenAt: performance.now() }
      } catch {
        continue
      }
      logs.push(line)
      for (const w of [...waiters]) {
        if (!w.pattern.test(String(line.msg))) continue
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(line)
      }
    }
  })
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })))
  return {
    logs,
    exited,
    waitForLog(pattern, timeoutMs = defaultTimeoutMs) {
      const seen = logs.find((l) => pattern.test(String(l.msg)))
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`flr serve logged nothing matching ${pattern} within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs)
        waiters.push({ pattern, resolve: (l) => (clearTimeout(timer), resolve(l)) })
        void exited.then(({ code, signal }) => {
          clearTimeout(timer)
          reject(new Error(`flr serve exited (${code ?? signal}) before logging ${pattern}; stderr: ${stderr}`))
        })
      })
    },
  }
}

// ---- a raw protocol connection ----

/** A reply as a raw connection sees it, ok or not, before anything checks its shape. */
export interface Reply {
  id: number
  ok: boolean
  error?: WireError
  /** no reply came: the connection ended first (the request may or may not have taken effect) */
  lost?: true
  [field: string]: unknown
}

/** Replies may be larger than the 64 KiB request limit (a long leases list). */
const MAX_REPLY = 16 * 1024 * 1024

/**
 * One TCP connection speaking frames directly: requests matched to replies by id, pushes
 * kept in order. Once the connection is gone every pending request is answered
 * CONNECTION_LOST, so nothing waits for ever.
 */
export class RawConnection {
  readonly pushes: Record<string, unknown>[] = []
  readonly closed: Promise<void>
  private nextId = 1
  private readonly pending = new Map<number, (reply: Reply) => void>()
  private readonly pushWaiters: { name: string; resolve: (p: Record<string, unknown>) => void }[] = []
  private failure: Error | undefined

  private constructor(readonly socket: Socket) {
    const decoder = new FrameDecoder(
      {
        frame: (msg) => {
          if (typeof msg.push === 'string') return this.onPush(msg)
          const resolve = this.pending.get(msg.id as number)
          if (!resolve) return
          this.pending.delete(msg.id as number)
          resolve(msg as Reply)
        },
        fault: (err) => socket.destroy(err),
      },
      MAX_REPLY,
    )
    socket.setNoDelay(true)
    socket.on('data', (chunk) => decoder.push(chunk))
    socket.on('error', (err) => this.fail(err))
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.fail(new Error('connection closed'))
        resolve()
      }),
    )
  }

  /** Connects, and says hello as `client` when given ([WIRE-4]); rejects if hello is refused. */
  static async open(port: number, client?: string): Promise<RawConnection> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1' }, () => {
        s.off('error', reject)
        resolve(s)
      })
      s.once('error', reject)
    })
    const conn = new RawConnection(socket)
    if (client === undefined) return conn
    const hello = await conn.request('hello', { protocol: 1, client })
    if (!hello.ok) {
      conn.destroy()
      throw new Error(`hello refused: ${JSON.stringify(hello.error)}`)
    }
    return conn
  }

  get isOpen(): boolean {
    return this.failure === undefined
  }

  /** `host:port` of this end, as the server records it in a lease's `address` */
  get localAddress(): string {
    return `${this.socket.localAddress}:${this.socket.localPort}`
  }

  /** A request with a fresh id, answered by its reply (ok or not). */
  request<O extends Op>(op: O, body?: RequestBody<O>): Promise<Reply>
  /** An op the protocol may not know, or fields it would refuse: a test sends those too. */
  request(op: string, body?: Record<string, unknown>): Promise<Reply>
  request(op: string, body: object = {}): Promise<Reply> {
    const id = this.nextId++
    if (this.failure) return Promise.resolve(lost(id, this.failure))
    return new Promise((resolve) => {
      this.pending.set(id, resolve)
      writeFrame(this.socket, { ...body, id, op })
    })
  }

  /** The first push named `name` (already received or still to come). */
  nextPush(name: string): Promise<Record<string, unknown>> {
    const seen = this.pushes.find((p) => p.push === name)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve) => this.pushWaiters.push({ name, resolve }))
  }

  /** Hands over the socket, hello said, with none of this object's listeners left on it. */
  detach(): Socket {
    for (const event of ['data', 'error', 'close']) this.socket.removeAllListeners(event)
    return this.socket
  }

  /** Goes away without a word, like a crashed client. */
  destroy(): Promise<void> {
    this.socket.destroy()
    return this.closed
  }

  private onPush(msg: Record<string, unknown>): void {
    this.pushes.push(msg)
    for (const w of [...this.pushWaiters]) {
      if (w.name !== msg.push) continue
      this.pushWaiters.splice(this.pushWaiters.indexOf(w), 1)
      w.resolve(msg)
    }
  }

  private fail(err: Error): void {
    this.failure ??= err
    const pending = [...this.pending]
    this.pending.clear()
    for (const [id, resolve] of pending) resolve(lost(id, err))
  }
}

function lost(id: number, err: Error): Reply {
  return { id, ok: false, error: { code: 'CONNECTION_LOST', message: err.message }, lost: true }
}
