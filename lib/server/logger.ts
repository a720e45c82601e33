// pino JSON logs: to stdout, and to <log-dir>/flr.log when a log directory is set.
import { mkdirSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import pino, { type Logger } from 'pino'

export type { Logger }

/**
 * While flr.log cannot be written (a full disk: the log directory defaults to the state
 * directory's), lines wait in memory up to this much; beyond it they are dropped.
 */
const FILE_BACKLOG_BYTES = 16 * 1024 * 1024

export function createLogger(opts: { level: string; logDir?: string; toStdout?: boolean }): Logger {
  const streams: pino.StreamEntry[] = []
  let logFile: { reopen(): void } | undefined
  let stdout: ReturnType<typeof pino.destination> | undefined
  if (opts.toStdout !== false) {
    stdout = pino.destination({ fd: 1, sync: false })
    // pino itself stops writing on EPIPE (a closed pipe); any other error would be re-emitted
    // with no listener and end the daemon: logging is never a reason to stop serving (issue 13)
    stdout.on('error', (err: Error) => reportOnce('stdout', err))
    streams.push({ level: opts.level as pino.Level, stream: stdout })
  }
  if (opts.logDir) {
    mkdirSync(opts.logDir, { recursive: true })
    // Synchronous: a line is on disk (or has failed) when the call returns, so the last line
    // before an exit (fatal.ts) is never lost, and nothing is left for pino's exit-time flush,
    // which retries a failing write forever (sonic-boom 4 flushSync: a full disk hung the exit).
    // The daemon logs nothing per lease at info level, so this costs the lease path nothing.
    const file = pino.destination({ dest: join(opts.logDir, 'flr.log'), mkdir: true, sync: true, maxLength: FILE_BACKLOG_BYTES })
    file.on('error', (err: Error) => reportOnce('flr.log', err))
    streams.push({ level: opts.level as pino.Level, stream: file })
    logFile = file
  }
  // redact anything that could carry a secret, wherever a caller put it
  const log = pino(
    { level: opts.level, base: { pid: process.pid }, redact: ['password', '*.password', 'hash', '*.hash'] },
    pino.multistream(streams),
  )
  if (stdout) stdoutOf.set(log, stdout)
  if (logFile) fileOf.set(log, logFile)
  return log
}

const fileOf = new WeakMap<Logger, { reopen(): void }>()

/**
 * SIGHUP: flr.log is opened again under its name, so that after logrotate moved it away (or an
 * admin renamed it) new lines go to a new flr.log. No-op for a logger without a log directory.
 */
export function reopenLogFile(log: Logger): void {
  try {
    fileOf.get(log)?.reopen()
  } catch (e) {
    reportOnce('flr.log', e as Error)
  }
}

const stdoutOf = new WeakMap<Logger, { flushSync(): void }>()

/**
 * Before an exit: the stdout destination is asynchronous, hand it what it holds. Not the
 * multistream's flushSync: that would also retry a failing flr.log forever (a full disk).
 */
export function flushForExit(log: Logger): void {
  try {
    stdoutOf.get(log)?.flushSync()
  } catch {
    // stdout is gone: flr.log has the lines
  }
}

const reported = new Set<string>()

/**
 * The first failure of a log destination, to stderr: the log itself may be what fails. Written
 * with writeSync to fd 2, never through the logger, since this runs inside one of its writes.
 */
function reportOnce(where: string, err: Error): void {
  if (reported.has(where)) return
  reported.add(where)
  try {
    const kept = where === 'flr.log' ? `; lines wait in memory (up to ${FILE_BACKLOG_BYTES >> 20} MiB) until it can be written` : ''
    writeSync(2, `flr serve: cannot write the log to ${where} (${err.message}); serving goes on${kept}\n`)
  } catch {
    // stderr is gone too: nothing left to tell
  }
}
