// pino JSON logs: to stdout, and to <log-dir>/flr.log when a log directory is set.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import pino, { type Logger } from 'pino'

export type { Logger }

/**
 * [LEASE-10] Log lines held for a log file that cannot be written (a full disk, an I/O
 * error) before further lines are dropped: the file's trouble must neither take the
 * daemon down nor grow its memory without bound.
 */
const MAX_HELD_BYTES = 4 * 1024 * 1024

export function createLogger(opts: { level: string; logDir?: string; toStdout?: boolean }): Logger {
  const streams: pino.StreamEntry[] = []
  if (opts.toStdout !== false) {
    const stdout = pino.destination({ fd: 1, sync: false, maxLength: MAX_HELD_BYTES })
    // stdout closed under us (a pipe whose reader left): the file log goes on
    stdout.on('error', () => {})
    streams.push({ level: opts.level as pino.Level, stream: stdout })
  }
  if (opts.logDir) {
    mkdirSync(opts.logDir, { recursive: true })
    const path = join(opts.logDir, 'flr.log')
    const file = pino.destination({ dest: path, mkdir: true, sync: false, maxLength: MAX_HELD_BYTES })
    watchLogFile(file, path)
    streams.push({ level: opts.level as pino.Level, stream: file })
  }
  // redact anything that could carry a secret, wherever a caller put it
  return pino(
    { level: opts.level, base: { pid: process.pid }, redact: ['password', '*.password', 'hash', '*.hash'] },
    pino.multistream(streams),
  )
}

/**
 * A log file that cannot be written (ENOSPC, EIO, EROFS) is said once on stderr, and once
 * more when it can be written again; meanwhile sonic-boom keeps the unwritten lines (up to
 * MAX_HELD_BYTES) and tries again with the next line. Without a listener, its 'error'
 * event would end the process ([LEASE-10]: a full disk never takes the server down).
 */
function watchLogFile(file: ReturnType<typeof pino.destination>, path: string): void {
  let failing = false
  file.on('error', (err: NodeJS.ErrnoException) => {
    if (failing) return
    failing = true
    process.stderr.write(`flr: the log file ${path} cannot be written (${err.code ?? err.message}); log lines go to stdout only until it can\n`)
  })
  file.on('write', () => {
    if (!failing) return
    failing = false
    process.stderr.write(`flr: the log file ${path} can be written again\n`)
  })
}
