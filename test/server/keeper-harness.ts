// A license keeper on the fake clock ([SRV-2]..[SRV-6] without sleeps): the real keeper, the real
// seat engine, the real TCP front on real ports, the real LPF loader on signed bytes; only the
// license directory is in memory, so that a file's bytes and mtime move with the fake clock.
import { createHash, createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import type { Test } from 'tap'
import { SeatEngine } from '../../lib/engine/engine.js'
import { memoryStore } from '../../lib/engine/types.js'
import { FlrError } from '../../lib/errors.js'
import { loadLpf } from '../../lib/lpf/load.js'
import { LicenseKeeper } from '../../lib/server/license-keeper.js'
import type { KeeperOptions } from '../../lib/server/license-state.js'
import type { LpfFile } from '../../lib/server/lpf-file.js'
import { TcpFront } from '../../lib/server/tcp-front.js'
import { FakeClock } from '../engine/fake-clock.js'
import { captureLog, type CapturedLog } from '../helpers/reload.js'
import { HOST_ID, VENDOR_PUB, freePort, lpfText, type LpfSpec, type PackSpec } from '../helpers/server.js'

export const START = Date.UTC(2026, 2, 1, 12)
export const GRACE_MS = 5_000
export const RECHECK_MS = 60_000
export const QUIET_MS = 2_000
export const DAY_MS = 86_400_000
export const PACKS: PackSpec[] = [
  { name: 'station', limit: 2 },
  { name: 'wb', limit: 1 },
]
const FILE_NAME = `${HOST_ID}.lp`
const vendorKeys = [createPublicKey(readFileSync(VENDOR_PUB))]

/** The license directory as the keeper reads it: one file or none, written at the fake clock's now. */
export class Disk {
  reads = 0
  /** while set, a read waits for it (having taken the file as it was when the read began) */
  gate: Promise<void> | undefined
  private file: LpfFile | undefined
  private failure: Error | undefined

  constructor(private readonly clock: FakeClock) {}

  write(bytes: string | Buffer): void {
    const data = Buffer.from(bytes)
    this.file = { data, digest: createHash('sha256').update(data).digest('hex'), mtimeMs: this.clock.now() }
    this.failure = undefined
  }

  remove(): void {
    this.file = undefined
    this.failure = undefined
  }

  /** What readLpfFile throws for a path it cannot read (a directory there, say), or any error. */
  breakWith(error: Error = new FlrError('LPF_MISSING', `${FILE_NAME} cannot be read (EISDIR)`)): void {
    this.file = undefined
    this.failure = error
  }

  readonly read = async (): Promise<LpfFile | undefined> => {
    this.reads++
    const { file, failure } = this
    await this.gate
    if (failure) throw failure
    return file
  }
}

export interface Rig {
  clock: FakeClock
  disk: Disk
  keeper: LicenseKeeper
  engine: SeatEngine
  front: TcpFront
  captured: CapturedLog
  /** [lease id, reason] of every lease revoked */
  revoked: [string, string][]
  /** the port the rig's LPFs name unless told otherwise */
  port: number
  /** a signed LPF for this host */
  lpf(spec?: Partial<LpfSpec>): string
  /** advances the clock timer by timer, letting the reloads each timer starts finish before the next fires */
  advance(ms: number): Promise<void>
}

function unused(): never {
  throw new Error('no connection is made in the keeper tests')
}

/** `options`: keeper options to override ([HA-2] sharedStore, [LPF-2] graceMs) */
export async function rig(t: Test, options: Partial<KeeperOptions> = {}): Promise<Rig> {
  const clock = new FakeClock(START)
  const disk = new Disk(clock)
  const captured = captureLog()
  const log = captured.log
  const revoked: [string, string][] = []
  // leases outlive the minutes these tests skip over (but not the months: [SRV-6] takes its own)
  const engine = new SeatEngine({ clock, store: memoryStore, ttlMs: 10 * DAY_MS, onRevoked: (l, reason) => revoked.push([l.lease, reason]) })
  const front = new TcpFront({
    bind: '127.0.0.1',
    maxConnections: 10,
    maxConnectionsPerAddress: 10,
    moveCloseMs: 5_000,
    clock,
    log,
    // no connection is made in these tests: what a connection would ask for is never called
    services: { engine, log, clock, hello: unused, status: unused, auth: unused, reload: unused },
  })
  const keeper = new LicenseKeeper({
    clock,
    wallNow: () => clock.now(),
    read: disk.read,
    load: (data, now) => loadLpf(data, { vendorKeys, hostId: HOST_ID, fileName: FILE_NAME, now }),
    ports: front,
    engine,
    log,
    fileName: FILE_NAME,
    licenseDir: '/licenses',
    removalGraceMs: GRACE_MS,
    recheckMs: RECHECK_MS,
    quietMs: QUIET_MS,
    ...options,
  })
  t.teardown(async () => {
    await keeper.close()
    engine.close()
    await front.close()
  })
  const port = await freePort()
  return {
    clock,
    disk,
    keeper,
    engine,
    front,
    captured,
    revoked,
    port,
    lpf: (spec = {}) => lpfText({ ...spec, port: spec.port ?? port, packs: spec.packs ?? PACKS }),
    advance: async (ms) => {
      const target = clock.now() + ms
      for (let at = clock.nextAt(); at !== undefined && at <= target; at = clock.nextAt()) {
        clock.advance(at - clock.now())
        await keeper.idle()
      }
      clock.advance(target - clock.now())
      await keeper.idle()
    },
  }
}

/** A rig serving PACKS (or the given LPF) on its port, the file written long ago. */
export async function serving(t: Test, text?: (r: Rig) => string): Promise<Rig> {
  const r = await rig(t)
  r.disk.write(text ? text(r) : r.lpf())
  t.same(await r.keeper.reload(), { applied: true }, 'serving to begin with')
  await r.advance(10 * QUIET_MS)
  return r
}

/** Two leases held, one per pack. */
export async function holdLeases(r: Rig): Promise<string[]> {
  const asks = PACKS.map((p, i) => r.engine.lease({ pack: p.name, holder: `h${i}`, client: 'app', address: '127.0.0.1:1' }))
  return (await Promise.all(asks)).map((g) => g.lease)
}

/** An ISO 8601 UTC instant `ms` after START, to the second ([LPF-1]). */
export function isoAt(ms: number): string {
  return new Date(START + ms).toISOString().replace(/\.\d+Z$/, 'Z')
}

/** Another process holding `port` on the front's address ([SRV-5], [SRV-7]); released at teardown. */
export async function holdPort(t: Test, port: number): Promise<() => Promise<void>> {
  const server: Server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve())
  })
  const release = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))
  t.teardown(release)
  return release
}
