// Conformance vectors ([WIRE-1]..[WIRE-9]): request and reply frames as files in
// docs/protocol-vectors/, for client authors in any language, replayed against a real server by
// conformance.test.ts. This module reads, replays and (FLR_WRITE_VECTORS=1) records them.
import { connect, type Socket } from 'node:net'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FrameDecoder, encodeFrame } from '../../lib/protocol/frame.js'
import { setPassword } from '../../lib/admin/password.js'
import { ROOT, dropLpf, freePort, makeDirs, startDaemon, type PackSpec, type TestContext } from '../helpers/server.js'

export const VECTORS_DIR = join(ROOT, 'docs/protocol-vectors')

type Json = Record<string, unknown>

/** One step of a scenario, on one peer (a TCP connection named by the scenario). */
export interface Step {
  peer: string
  /** open the connection */
  connect?: true
  /** a request to send; `frame` is its bytes, in hex */
  send?: Json
  /** bytes to send as they are (a hand-made or faulty frame), in hex */
  sendRaw?: string
  /** the next frame the server sends this peer: decoded, and its bytes in hex */
  receive?: Json
  frame?: string
  /** paths (dotted; array items by index) whose values vary from run to run: compared by type only */
  mask?: string[]
  /** remember the value at a path under a name (e.g. a lease id) */
  bind?: Record<string, string>
  /** put a remembered value at a path before sending */
  use?: Record<string, string>
  /** the value at a path must equal a remembered one */
  same?: Record<string, string>
  /** the server must close the connection, with nothing more sent */
  closed?: true
  note?: string
}

export interface Vector {
  name: string
  description: string
  server: { leaseTtlMs: number; graceMs: number; adminPassword?: string; packs: PackSpec[] }
  steps: Step[]
}

/** Fields that differ on every run: ids the server draws, clocks, ports, versions, and messages (for people). */
const VARYING = new Set(['lease', 'expiresAt', 'serverTime', 'server', 'grantedAt', 'loadedAt', 'port', 'listeningPort', 'digest', 'address', 'message', 'at'])

export function hex(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ')
}

export function unhex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex')
}

export function readVectors(): Vector[] {
  return readdirSync(VECTORS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(VECTORS_DIR, f), 'utf8')) as Vector)
}

export function writeVector(v: Vector): void {
  writeFileSync(join(VECTORS_DIR, `${v.name}.json`), `${JSON.stringify(v, null, 2)}\n`)
}

export function get(o: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Json)[k] : undefined), o)
}

function set(o: Json, path: string, value: unknown): void {
  const keys = path.split('.')
  const last = keys.pop()!
  const parent = keys.reduce<unknown>((v, k) => (v as Json)[k], o) as Json
  parent[last] = value
}

/** The paths of every varying field of a decoded frame. */
export function varyingPaths(o: unknown, prefix = ''): string[] {
  if (o === null || typeof o !== 'object') return []
  return Object.entries(o as Json).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k
    if (VARYING.has(k) && (typeof v === 'string' || typeof v === 'number')) return [path]
    return varyingPaths(v, path)
  })
}

/** The frame as received, with every masked value replaced by the recorded one (after a type check). */
export function masked(actual: Json, recorded: Json, mask: string[]): { frame: Json; problems: string[] } {
  const frame = structuredClone(actual)
  const problems: string[] = []
  for (const path of mask) {
    const a = get(frame, path)
    const r = get(recorded, path)
    if (typeof a !== typeof r) problems.push(`${path}: expected a ${typeof r}, got ${JSON.stringify(a)}`)
    else set(frame, path, r)
  }
  return { frame, problems }
}

/** One connection: frames in arrival order. */
export class Peer {
  readonly frames: Json[] = []
  private readonly raw: Buffer[] = []
  private closed = false
  private wake: (() => void) | undefined

  private constructor(private readonly socket: Socket) {
    // replies may exceed the 64 KiB request limit; the decoder hands back maps, so keep the bytes too
    const decoder = new FrameDecoder({ frame: (m) => this.frames.push(m), fault: (e) => socket.destroy(e) }, 16 * 1024 * 1024)
    let pending = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
        const n = 4 + pending.readUInt32BE(0)
        this.raw.push(pending.subarray(0, n))
        pending = pending.subarray(n)
      }
      decoder.push(chunk)
      this.wake?.()
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      this.closed = true
      this.wake?.()
    })
  }

  static open(port: number): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true })
      socket.once('error', reject)
      socket.once('connect', () => {
        socket.removeListener('error', reject)
        resolve(new Peer(socket))
      })
    })
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  /** The next frame (decoded, and its bytes), or undefined once the server has closed. */
  async next(what: string, timeoutMs = 20_000): Promise<{ frame: Json; bytes: Buffer } | undefined> {
    const deadline = Date.now() + timeoutMs
    while (this.frames.length === 0) {
      if (this.closed) return undefined
      if (Date.now() > deadline) throw new Error(`no frame within ${timeoutMs} ms: ${what}`)
      await new Promise<void>((resolve) => {
        this.wake = resolve
        setTimeout(resolve, 200).unref()
      })
    }
    return { frame: this.frames.shift()!, bytes: this.raw.shift()! }
  }

  destroy(): void {
    this.socket.destroy()
  }
}

/** A real daemon for a vector: its packs on a free port, its TTL and grace, its admin password. */
export async function serveVector(t: TestContext, v: Vector): Promise<number> {
  const dirs = makeDirs(t)
  const port = await freePort()
  if (v.server.adminPassword) await setPassword(dirs.stateDir, v.server.adminPassword)
  dropLpf(dirs.licenseDir, { port, packs: v.server.packs })
  await startDaemon(t, dirs, { leaseTtlMs: v.server.leaseTtlMs, graceMs: v.server.graceMs })
  return port
}

export interface Check {
  ok(value: unknown, message: string): void
  equal(a: unknown, b: unknown, message: string): void
}

/**
 * Plays the steps against a server on `port`. Replaying, each received frame is checked
 * against the recorded one; recording (`record`), the frames are written into the steps.
 */
export async function play(t: TestContext, port: number, v: Vector, check: Check, record = false): Promise<void> {
  const peers = new Map<string, Peer>()
  const names = new Map<string, unknown>()
  t.teardown(() => {
    for (const p of peers.values()) p.destroy()
  })
  for (const [i, step] of v.steps.entries()) {
    const at = `${v.name} step ${i + 1} (${step.peer})`
    if (step.connect) {
      peers.set(step.peer, await Peer.open(port))
      continue
    }
    const peer = peers.get(step.peer)!
    if (step.sendRaw !== undefined) {
      peer.write(unhex(step.sendRaw))
    } else if (step.send) {
      const body = structuredClone(step.send)
      for (const [path, name] of Object.entries(step.use ?? {})) set(body, path, names.get(name))
      const bytes = encodeFrame(body)
      if (record) {
        step.send = body
        step.frame = hex(bytes)
      } else if (!step.use) {
        // the recorded bytes are the encoding of the recorded request, and are what is sent
        check.equal(step.frame, hex(bytes), `${at}: the frame is the encoding of the request`)
      }
      peer.write(step.use || record ? bytes : unhex(step.frame!))
    } else if (step.closed) {
      const got = await peer.next(at)
      check.ok(got === undefined, `${at}: the server closed the connection${got ? `, but sent ${JSON.stringify(got.frame)}` : ''}`)
    } else {
      const got = await peer.next(at)
      if (!got) {
        check.ok(false, `${at}: the connection closed before a frame came`)
        return
      }
      for (const [path, name] of Object.entries(step.same ?? {})) check.equal(get(got.frame, path), names.get(name), `${at}: ${path} is ${name}`)
      for (const [path, name] of Object.entries(step.bind ?? {})) names.set(name, get(got.frame, path))
      if (record) {
        step.receive = got.frame
        step.frame = hex(got.bytes)
        step.mask = varyingPaths(got.frame)
        continue
      }
      const { frame, problems } = masked(got.frame, step.receive!, step.mask ?? [])
      check.ok(problems.length === 0, `${at}: masked fields have their types${problems.length ? `: ${problems.join('; ')}` : ''}`)
      check.equal(JSON.stringify(frame), JSON.stringify(step.receive), `${at}: ${String(step.receive!.push ?? (step.receive!.ok ? 'reply' : `error ${get(step.receive, 'error.code')}`))} as recorded (masked: ${(step.mask ?? []).join(', ') || 'none'})`)
    }
  }
}
