// pino JSON logs: to stdout, and to <log-dir>/flr.log when a log directory is set.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import pino, { type Logger } from 'pino'

export type { Logger }

export function createLogger(opts: { level: string; logDir?: string; toStdout?: boolean }): Logger {
  const streams: pino.StreamEntry[] = []
  if (opts.toStdout !== false) streams.push({ level: opts.level as pino.Level, stream: pino.destination({ fd: 1, sync: false }) })
  if (opts.logDir) {
    mkdirSync(opts.logDir, { recursive: true })
    streams.push({ level: opts.level as pino.Level, stream: pino.destination({ dest: join(opts.logDir, 'flr.log'), mkdir: true, sync: false }) })
  }
  // redact anything that could carry a secret, wherever a caller put it
  return pino(
    { level: opts.level, base: { pid: process.pid }, redact: ['password', '*.password', 'hash', '*.hash'] },
    pino.multistream(streams),
  )
}
