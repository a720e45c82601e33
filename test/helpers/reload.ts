// Helpers for the hot-reload tests ([SRV-2]..[SRV-6]): the ways admins put a file in place,
// a log that can be read back, polling for what the daemon does on its own timers, and the
// hostile fixtures.
import { execFile } from 'node:child_process'
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync, fsyncSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import pino, { type Logger } from 'pino'
import type { Daemon, DaemonConfig } from '../../lib/server/daemon.js'
import { HOST_ID, ROOT, dropLpf, freePort, makeDirs, startDaemon, type Dirs, type LpfSpec, type TestContext } from './server.js'
import type { PackRow, StatusAnswer } from '../../lib/protocol/replies.js'

const run = promisify(execFile)

/** Where the live LPF of the test host lives in a license directory. */
export function livePath(licenseDir: string): string {
  return join(licenseDir, `${HOST_ID}.lp`)
}

/** How an admin puts a new file in place. Each resolves once the writer is done writing. */
export type Writer = (path: string, text: string | Buffer) => Promise<void>

/** `echo … > file` or an editor saving in place: truncate, then write. */
export const writeInPlace: Writer = async (path, text) => {
  writeFileSync(path, text)
}

/** `mv`: written beside it, then renamed over it (atomic). */
export const renameOver: Writer = async (path, text) => {
  writeFileSync(`${path}.tmp`, text)
  renameSync(`${path}.tmp`, path)
}

/** `cp new.lp <hostId>.lp` with the real cp. */
export const cpOver: Writer = async (path, text) => {
  const source = `${path}.${process.pid}.src`
  writeFileSync(source, text)
  try {
    await run('cp', [source, path])
  } finally {
    unlinkSync(source)
  }
}

/** `rm` then a new file a moment later. */
export const deleteThenCreate: Writer = async (path, text) => {
  unlinkSync(path)
  await sleep(150)
  writeFileSync(path, text)
}

/** A slow writer (a copy over a slow link): half the file, a pause, then the rest. */
export function slowWriter(pauseMs = 1_000): Writer {
  return async (path, text) => {
    const bytes = Buffer.from(text)
    const half = Math.floor(bytes.length / 2)
    const fd = openSync(path, 'w')
    try {
      writeSync(fd, bytes, 0, half)
      fsyncSync(fd)
      await sleep(pauseMs)
      writeSync(fd, bytes, half, bytes.length - half)
    } finally {
      closeSync(fd)
    }
  }
}

export const WRITERS: readonly { name: string; write: Writer }[] = [
  { name: 'written in place', write: writeInPlace },
  { name: 'written to a temp file and renamed over', write: renameOver },
  { name: 'cp over', write: cpOver },
  { name: 'deleted then re-created', write: deleteThenCreate },
  { name: 'written slowly (half, then the rest 1 s later)', write: slowWriter(1_000) },
]

/** Polls `check` until it returns something other than undefined/false; fails after timeoutMs. */
export async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`)
    await sleep(20)
  }
}

// status as the daemon answers it ([WIRE-7]): the protocol's own types, not a copy
export type { PackRow, StatusAnswer as DaemonStatus } from '../../lib/protocol/replies.js'

export function statusOf(daemon: Daemon): StatusAnswer {
  return daemon.status()
}

export function packOf(daemon: Daemon, name: string): PackRow | undefined {
  return statusOf(daemon).packs.find((p) => p.name === name)
}

/** A pino logger whose lines the test can read back (the daemon's log is part of [SRV-2]). */
export interface CapturedLog {
  log: Logger
  lines: Record<string, unknown>[]
  /** lines whose msg matches */
  matching(pattern: RegExp): Record<string, unknown>[]
}

export function captureLog(level = 'debug'): CapturedLog {
  const lines: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  return {
    log: pino({ level }, sink),
    lines,
    matching: (pattern) => lines.filter((l) => pattern.test(String(l.msg))),
  }
}

export interface HostileFixture {
  file: string
  code: string
  why: string
  path: string
}

/** fixtures/lpf/hostile/manifest.json: every file there must be rejected with its code. */
export function hostileFixtures(): HostileFixture[] {
  const dir = join(ROOT, 'fixtures/lpf/hostile')
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Omit<HostileFixture, 'path'>[]
  return manifest.map((f) => ({ ...f, path: join(dir, f.file) }))
}

export interface ReloadServer {
  dirs: Dirs
  /** the live `<hostId>.lp` */
  path: string
  port: number
  daemon: Daemon
  captured: CapturedLog
}

/** A daemon serving `packs` on a free port, with its log captured. */
export async function serveLpf(t: TestContext, spec: Omit<LpfSpec, 'port'> & { port?: number }, extra: Partial<DaemonConfig> = {}): Promise<ReloadServer> {
  const dirs = makeDirs(t)
  const port = spec.port ?? (await freePort())
  const path = dropLpf(dirs.licenseDir, { ...spec, port })
  const captured = captureLog()
  const daemon = await startDaemon(t, dirs, { log: captured.log, ...extra })
  return { dirs, path, port, daemon, captured }
}
