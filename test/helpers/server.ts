// End-to-end helpers: a real daemon (in this process, or as a child `flr serve` that can be
// SIGKILLed) in a temporary directory, on free ports, with a freshly signed LPF.
import { createPublicKey } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import pino from 'pino'
import type { Test } from 'tap'
import { Daemon, type DaemonConfig } from '../../lib/server/daemon.js'
import { FlrClient, type ClientOptions } from '../../lib/client/client.js'
import { HOST_ID, VENDOR_PUB, freePort, lpfText, serveArgs, watchServeLog, type LogLine, type LpfSpec, type PackSpec } from '../../bench/harness.js'

// the part the benchmarks share (bench/harness.ts): paths, ports, the LPF, flr serve's log
export { FLR_BIN, HOST_ID, ROOT, VENDOR_KEY, VENDOR_PUB, freePort, lpfText, type LpfSpec, type PackSpec } from '../../bench/harness.js'

/** What these helpers need of a tap test. */
export type TestContext = Pick<Test, 'testdir' | 'teardown'>

/** Writes the LPF the way an admin's `mv` does: a temporary file renamed over the old one. */
export function dropLpf(licenseDir: string, spec: LpfSpec): string {
  const path = join(licenseDir, `${spec.hostId ?? HOST_ID}.lp`)
  writeFileSync(`${path}.tmp`, lpfText(spec))
  renameSync(`${path}.tmp`, path)
  return path
}

export interface Dirs {
  root: string
  licenseDir: string
  stateDir: string
  logDir: string
}

export function makeDirs(t: TestContext): Dirs {
  // tap 21 removes the testdir and runs teardowns in the order their plugins first hooked
  // the test's end: a teardown registered before testdir() makes every teardown (stopping a
  // daemon, killing a child `flr serve`) run before the directory is removed. Otherwise a
  // child still writing into it fails the removal (ENOTEMPTY), the kill never runs, and
  // the test file hangs until tap's timeout.
  t.teardown(() => {})
  const root = t.testdir({ licenses: {}, state: {}, logs: {} })
  return { root, licenseDir: join(root, 'licenses'), stateDir: join(root, 'state'), logDir: join(root, 'logs') }
}

export const quietLog = pino({ level: 'silent' })

/** A real daemon in this process, stopped at teardown. */
export async function startDaemon(t: TestContext, dirs: Dirs, extra: Partial<DaemonConfig> = {}): Promise<Daemon> {
  const daemon = await Daemon.start({
    licenseDir: dirs.licenseDir,
    stateDir: dirs.stateDir,
    logDir: dirs.logDir,
    vendorKeys: [createPublicKey(readFileSync(VENDOR_PUB))],
    hostId: HOST_ID,
    log: quietLog,
    bind: '127.0.0.1',
    httpPort: null,
    ...extra,
  })
  t.teardown(() => daemon.stop())
  return daemon
}

/** A real daemon serving `packs` on a free port, in fresh directories. */
export async function servePacks(t: TestContext, packs: PackSpec[], extra: Partial<DaemonConfig> = {}): Promise<{ port: number; dirs: Dirs; daemon: Daemon }> {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs })
  const daemon = await startDaemon(t, dirs, extra)
  return { port, dirs, daemon }
}

/** A client connected to the daemon, closed at teardown. */
export async function connectClient(t: TestContext, port: number, opts: Partial<ClientOptions> = {}): Promise<FlrClient> {
  const client = await FlrClient.connect({ host: '127.0.0.1', port, client: 'test-client', backoffMinMs: 20, backoffMaxMs: 200, ...opts })
  t.teardown(() => client.close())
  return client
}

export interface ServeProcess {
  child: ChildProcess
  /** every log line so far, parsed */
  logs: LogLine[]
  /** resolves with the first log line whose msg matches */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<LogLine>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** `flr serve` as a child process (for SIGKILL and signal tests). Killed at teardown. */
export function spawnServe(t: TestContext, dirs: Dirs, args: string[] = []): ServeProcess {
  const child = spawn(process.execPath, serveArgs(dirs, args), { stdio: ['ignore', 'pipe', 'pipe'] })
  const log = watchServeLog(child)
  // the exit as node reports it: tests compare it whole
  const exited = log.exited.then(({ code, signal }) => ({ code, signal }))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    return exited
  })
  return { child, logs: log.logs, exited, waitForLog: log.waitForLog }
}
