// End-to-end helpers: a real daemon (in this process, or as a child `flr serve` that can be
// SIGKILLed) in a temporary directory, on free ports, with a freshly signed LPF.
import { createServer } from 'node:net'
import { createPublicKey } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import type { Test } from 'tap'
import { buildLpfXml, signLpf } from '../../lib/lpf/vendor.js'
import { Daemon, type DaemonConfig } from '../../lib/server/daemon.js'
import { FlrClient, type ClientOptions } from '../../lib/client/client.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const HOST_ID = 'Lnx-TEST-TEST-TEST-TEST'
export const VENDOR_KEY = join(ROOT, 'fixtures/keys/vendor.key.pem')
export const VENDOR_PUB = join(ROOT, 'fixtures/keys/vendor.pub.pem')
export const FLR_BIN = join(ROOT, 'bin/flr.js')

/** What these helpers need of a tap test. */
export type TestContext = Pick<Test, 'testdir' | 'teardown'>

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

export function lpfText(spec: LpfSpec): string {
  return signLpf(
    buildLpfXml({
      vendor: spec.vendor ?? 'Acme',
      generated: '2026-11-01',
      expiration: spec.expiration ?? '2099-12-31',
      hostId: spec.hostId ?? HOST_ID,
      port: spec.port,
      packs: spec.packs.map((p) => ({ name: p.name, limit: p.limit, licenses: p.licenses ?? `<licenses><license product="${p.name}"/></licenses>` })),
    }),
    readFileSync(VENDOR_KEY, 'utf8'),
  )
}

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
  logs: Record<string, unknown>[]
  /** resolves with the first log line whose msg matches */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<Record<string, unknown>>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** `flr serve` as a child process (for SIGKILL and signal tests). Killed at teardown. */
export function spawnServe(t: TestContext, dirs: Dirs, args: string[] = []): ServeProcess {
  const child = spawn(
    process.execPath,
    [FLR_BIN, 'serve', '--license-dir', dirs.licenseDir, '--state-dir', dirs.stateDir, '--log-dir', dirs.logDir, '--vendor-key', VENDOR_PUB, '--host-id', HOST_ID, '--bind', '127.0.0.1', ...(args.includes('--http-port') ? [] : ['--no-http']), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const logs: Record<string, unknown>[] = []
  const waiters: { pattern: RegExp; resolve: (line: Record<string, unknown>) => void }[] = []
  let buffered = ''
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  child.stdout!.on('data', (d) => {
    buffered += d
    let nl
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      let entry: Record<string, unknown>
      try {
        entry = JSON.parse(line)
      } catch {
        continue
      }
      logs.push(entry)
      for (const w of [...waiters]) {
        if (w.pattern.test(String(entry.msg))) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(entry)
        }
      }
    }
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    return exited
  })
  return {
    child,
    logs,
    exited,
    waitForLog(pattern, timeoutMs = 15_000) {
      const seen = logs.find((l) => pattern.test(String(l.msg)))
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs)
        waiters.push({ pattern, resolve: (l) => (clearTimeout(timer), resolve(l)) })
        void exited.then(({ code, signal }) => reject(new Error(`flr serve exited (${code ?? signal}) before logging ${pattern}; stderr: ${stderr}`)))
      })
    },
  }
}
