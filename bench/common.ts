// Shared by the benchmarks: servers under test as child processes (a real `flr serve`, the
// echo ceiling, the in-memory server), a raw-TCP load generator speaking our framing, the
// server's own CPU time from /proc, percentiles, and cleanup of every child and temp dir.
// What the tests need as well (ports, the LPF, spawning flr serve and reading its log, a
// raw protocol connection) is in harness.ts, shared with test/helpers.
// Run only compiled (dist/bench/*.js): `npm run bench`.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import type { Socket } from 'node:net'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { FrameDecoder, encodeFrame } from '../lib/protocol/frame.js'
import { writeEncoded } from '../lib/server/socket-writer.js'
import { HOST_ID, ROOT, RawConnection, freePort, lpfText, serveArgs, watchServeLog, type Exit, type LogLine, type PackSpec, type Reply } from './harness.js'

export { FLR_BIN, HOST_ID, ROOT, RawConnection, freePort, type LogLine, type PackSpec, type Reply } from './harness.js'
export const BENCH_DIST = join(ROOT, 'dist/bench')

// ---- cleanup: every child is killed and every temp dir removed, however the bench ends ----

const children = new Set<ChildProcess>()
const tempDirs = new Set<string>()

function cleanupNow(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  tempDirs.clear()
}
process.on('exit', cleanupNow)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanupNow()
    process.exit(130)
  })
}

/** A temporary directory removed when the bench exits; `base` picks the file system (e.g. /dev/shm). */
export function tempDir(prefix: string, base = os.tmpdir()): string {
  const dir = mkdtempSync(join(base, `flr-bench-${prefix}-`))
  tempDirs.add(dir)
  return dir
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  tempDirs.delete(dir)
}

// ---- numbers ----

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

export function sortedCopy(values: number[]): Float64Array {
  return Float64Array.from(values).sort()
}

export const fmt = {
  int: (n: number) => Math.round(n).toLocaleString('en'),
  ms: (n: number) => (n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(0)} ms`),
  us: (n: number) => (n < 10 ? `${n.toFixed(1)} µs` : `${n.toFixed(0)} µs`),
  mib: (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`,
  mb: (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`,
  pct: (r: number) => `${(r * 100).toFixed(0)}%`,
  verdict: (met: boolean) => (met ? 'met' : '**not met**'),
}

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

// ---- another process's resources, from /proc ----

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/** User + system CPU time of `pid` so far, in µs (clock-tick resolution, usually 10 ms). */
export function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // the command name may hold spaces and parentheses: fields are counted after its last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return ((utime + stime) / CLOCK_TICKS) * 1e6
}

export interface ProcessMemory {
  rss: number
  /** peak RSS so far (VmHWM) */
  peak: number
  /** anonymous memory: the JS heap, buffers, native allocations */
  anon: number
  /** file-backed pages mapped in: code, and LMDB's memory-mapped store */
  file: number
}

/** Resident memory of `pid`, in bytes, from /proc/<pid>/status. */
export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
  return { rss: kb('VmRSS'), peak: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile') + kb('RssShmem') }
}

/** This process's limits on open files. */
export function openFilesLimit(): { soft: number; hard: number } {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
  const value = (v: string | undefined) => (v === undefined || v === 'unlimited' ? Infinity : Number(v))
  return { soft: value(m?.[1]), hard: value(m?.[2]) }
}

export function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ')
}

// ---- servers under test ----

export interface ServeDirs {
  root: string
  licenseDir: string
  stateDir: string
  logDir: string
}

export function serveDirs(root: string): ServeDirs {
  const dirs = { root, licenseDir: join(root, 'licenses'), stateDir: join(root, 'state'), logDir: join(root, 'logs') }
  for (const dir of [dirs.licenseDir, dirs.stateDir, dirs.logDir]) mkdirSync(dir, { recursive: true })
  return dirs
}

/** A freshly signed `<hostId>.lp` for the test host, with the test vendor key. */
export function writeLpf(licenseDir: string, port: number, packs: PackSpec[]): void {
  writeFileSync(join(licenseDir, `${HOST_ID}.lp`), lpfText({ port, packs }))
}

export interface ServerChild {
  readonly child: ChildProcess
  readonly pid: number
  readonly port: number
  /** when spawn() was called, performance.now() */
  readonly spawnedAt: number
  readonly logs: LogLine[]
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<LogLine>
  readonly exited: Promise<Exit>
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs` */
  stop(graceMs?: number): Promise<Exit>
}

/**
 * A real `flr serve` (bin/flr.js, the compiled code) on `dirs`, with the LPF's port `port`.
 * `openFiles` raises the child's soft limit on open files through the shell (at most to the
 * hard limit) for the many-connections bench.
 */
export async function startServe(dirs: ServeDirs, port: number, opts: { args?: string[]; openFiles?: number; readyPattern?: RegExp } = {}): Promise<ServerChild> {
  const args = serveArgs(dirs, opts.args)
  const spawnedAt = performance.now()
  const child = opts.openFiles
    ? spawn('sh', ['-c', `ulimit -n ${opts.openFiles} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const server = watchServer(child, port, spawnedAt)
  await server.waitForLog(opts.readyPattern ?? /^LPF loaded: serving/)
  return server
}

function watchServer(child: ChildProcess, port: number, spawnedAt: number): ServerChild {
  children.add(child)
  const { logs, waitForLog, exited } = watchServeLog(child, 30_000)
  void exited.then(() => children.delete(child))
  return {
    child,
    pid: child.pid!,
    port,
    spawnedAt,
    logs,
    exited,
    waitForLog,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      const result = await exited
      clearTimeout(timer)
      return result
    },
  }
}

/** A bench server script (dist/bench/<name>.js) that prints `{"port": N}` once it listens. */
export async function startScriptServer(name: string, args: string[] = []): Promise<{ pid: number; port: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [join(BENCH_DIST, `${name}.js`), ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.add(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => (children.delete(child), resolve())))
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port)
    })
    void exited.then(() => reject(new Error(`${name} exited before it listened`)))
  })
  return {
    pid: child.pid!,
    port,
    async stop() {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}

// ---- the load generator: raw frames over TCP, many requests in flight per connection ----

/** Opens `count` connections, at most `parallel` connecting at once (the listen backlog is finite). */
export async function openConnections(port: number, count: number, parallel = 64, client = 'bench'): Promise<RawConnection[]> {
  const conns: RawConnection[] = new Array(count)
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      conns[i] = await RawConnection.open(port, `${client}-${i}`)
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker))
  return conns
}

export function closeAll(conns: RawConnection[]): void {
  for (const c of conns) void c?.destroy()
}

/** Thrown by a cycle when the server answers an error: a bench never counts failures as work. */
export function expectOk(reply: Reply, what: string): Reply {
  if (!reply.ok) throw new Error(`${what} failed: ${JSON.stringify(reply.error)}`)
  return reply
}

export interface LoadOptions {
  port: number
  conns: number
  inFlight: number
  warmupMs: number
  durationMs: number
  /** the process whose CPU time is the server's */
  serverPid: number
  /**
   * The next request of `slot`: its first when `reply` is undefined, else the one after
   * `reply` (throw if the reply is not what the cycle needs). `frame` encodes a request (a
   * fresh object: it sets its id) with the slot's id; a slot may keep a frame it sends again
   * and again.
   */
  next(slot: number, reply: Reply | undefined, frame: (msg: Record<string, unknown>) => Buffer): Buffer
}

export interface LoadResult {
  requests: number
  seconds: number
  latenciesMs: Float64Array
  /** server CPU (user + system) during the measured window */
  serverCpuUs: number
  /** this process's CPU during the measured window: if it nears 1 s per s, the generator is the limit */
  clientCpuUs: number
}

/**
 * conns × inFlight slots, each sending its next request the moment the reply to its last
 * arrives: a warm-up, then a measured window over which requests completed, their latencies
 * and the server's CPU are counted. Callbacks, not a promise per request, and frames a slot
 * may keep: the generator shares 2 cores with the server and must cost it as little as
 * possible, or its own queueing is what the latencies measure.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  let phase: 'warmup' | 'measure' | 'done' = 'warmup'
  let latencies: Float64Array = new Float64Array(1 << 20)
  let requests = 0
  let outstanding = 0
  let failed: unknown
  let settled = (): void => {}
  const fail = (e: unknown): void => {
    failed ??= e
    phase = 'done'
    settled()
  }
  const sockets = await Promise.all(Array.from({ length: opts.conns }, (_, c) => helloSocket(opts.port, `bench-load-${c}`)))
  sockets.forEach((socket, c) => {
    // slot ids are 1..inFlight on each connection; 0 is hello's
    const sentAt = new Float64Array(opts.inFlight + 1)
    // the message is the caller's fresh object: it takes the slot's id, no copy
    const framers = Array.from({ length: opts.inFlight + 1 }, (_, id) => (msg: Record<string, unknown>) => {
      msg.id = id
      return encodeFrame(msg)
    })
    const send = (id: number, reply: Reply | undefined): void => {
      const frame = opts.next(c * opts.inFlight + id - 1, reply, framers[id]!)
      sentAt[id] = performance.now()
      outstanding++
      writeEncoded(socket, frame)
    }
    const decoder = new FrameDecoder({
      frame: (msg) => {
        const id = msg.id
        // a push, or an error about the connection itself (id 0): nothing this load expects
        if (typeof id !== 'number' || id < 1 || id > opts.inFlight) return fail(new Error(`unexpected frame under load: ${JSON.stringify(msg)}`))
        outstanding--
        if (phase === 'measure') {
          if (requests === latencies.length) latencies = growTo(latencies, requests * 2)
          latencies[requests++] = performance.now() - sentAt[id]!
        }
        if (phase === 'done') return outstanding === 0 ? settled() : undefined
        try {
          send(id, msg as Reply)
        } catch (e) {
          fail(e)
        }
      },
      fault: fail,
    })
    socket.on('data', (chunk) => decoder.push(chunk))
    socket.on('error', fail)
    socket.on('close', () => phase !== 'done' && fail(new Error('the server closed a connection under load')))
    for (let id = 1; id <= opts.inFlight; id++) send(id, undefined)
  })
  try {
    await sleep(opts.warmupMs)
    if (failed) throw failed
    phase = 'measure'
    const cpu0 = processCpuUs(opts.serverPid)
    const client0 = process.cpuUsage()
    const t0 = performance.now()
    await sleep(opts.durationMs)
    const seconds = (performance.now() - t0) / 1000
    const cpu1 = processCpuUs(opts.serverPid)
    const client1 = process.cpuUsage(client0)
    const counted = requests
    phase = 'done'
    // the cycles in flight finish, so the next load starts on a server with nothing pending
    await new Promise<void>((resolve) => {
      settled = resolve
      if (outstanding === 0 || failed) resolve()
    })
    if (failed) throw failed
    return {
      requests: counted,
      seconds,
      latenciesMs: latencies.slice(0, counted).sort(),
      serverCpuUs: cpu1 - cpu0,
      clientCpuUs: client1.user + client1.system,
    }
  } finally {
    for (const socket of sockets) socket.destroy()
  }
}

function growTo(values: Float64Array, length: number): Float64Array {
  const grown = new Float64Array(length)
  grown.set(values)
  return grown
}

/** A connection that has said hello ([WIRE-4]), and no listener on it yet. */
async function helloSocket(port: number, client: string): Promise<Socket> {
  return (await RawConnection.open(port, client)).detach()
}

/** Several measured windows of one server as one: totals added, latency samples pooled. */
export function mergeLoads(results: LoadResult[]): LoadResult {
  const pooled = new Float64Array(results.reduce((n, r) => n + r.latenciesMs.length, 0))
  let at = 0
  for (const r of results) {
    pooled.set(r.latenciesMs, at)
    at += r.latenciesMs.length
  }
  return {
    requests: results.reduce((n, r) => n + r.requests, 0),
    seconds: results.reduce((n, r) => n + r.seconds, 0),
    latenciesMs: pooled.sort(),
    serverCpuUs: results.reduce((n, r) => n + r.serverCpuUs, 0),
    clientCpuUs: results.reduce((n, r) => n + r.clientCpuUs, 0),
  }
}
