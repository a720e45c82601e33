// [HTTP-5] The HTTP access log: one JSON line per /request call, one file per UTC day.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import type { Clock } from '../util/clock.js'

export interface AccessLogOptions {
  dir: string
  clock: Pick<Clock, 'now'>
  /** where a failing write is reported (a full disk must not stop the shim) */
  log?: { error(obj: object, msg?: string): void }
}

export function accessLogName(utcDay: string): string {
  return `access_${utcDay}.request.log`
}

export class AccessLog {
  private readonly dir: string
  private readonly clock: Pick<Clock, 'now'>
  private readonly log: AccessLogOptions['log']
  private day = ''
  private stream: WriteStream | undefined
  private closed = false
  /** files of past days still flushing; close() waits for them too */
  private readonly ending = new Set<Promise<void>>()
  private lastError = ''

  constructor(opts: AccessLogOptions) {
    this.dir = opts.dir
    this.clock = opts.clock
    this.log = opts.log
    mkdirSync(this.dir, { recursive: true })
  }

  /** Appends `{time, ...entry}`; `time` is the clock's now as ISO 8601 UTC and picks the day's file. */
  write(entry: object): void {
    if (this.closed) return
    const time = new Date(this.clock.now()).toISOString()
    this.streamFor(time.slice(0, 10)).write(JSON.stringify({ time, ...entry }) + '\n')
  }

  /** Flushes and closes the current file; later writes are dropped. */
  async close(): Promise<void> {
    this.closed = true
    const stream = this.stream
    this.stream = undefined
    if (stream) this.ending.add(endStream(stream))
    await Promise.all(this.ending)
  }

  private streamFor(day: string): WriteStream {
    // a stream that failed is destroyed: the next line tries a fresh one (the disk may have room again)
    if (this.stream && !this.stream.destroyed && day === this.day) return this.stream
    // the old file is ended, not awaited: its buffered lines still reach it, in order
    if (this.stream) {
      const ended = endStream(this.stream)
      this.ending.add(ended)
      void ended.then(() => this.ending.delete(ended))
    }
    this.day = day
    const stream = createWriteStream(join(this.dir, accessLogName(day)), { flags: 'a', mode: 0o640 })
    stream.on('error', (err) => this.reportError(err))
    this.stream = stream
    return stream
  }

  private reportError(err: Error): void {
    // one report per distinct failure, not one per request
    if (err.message === this.lastError) return
    this.lastError = err.message
    this.log?.error({ err }, 'cannot write the HTTP access log')
  }
}

function endStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed) return resolve()
    stream.once('error', () => resolve())
    stream.end(() => resolve())
  })
}
