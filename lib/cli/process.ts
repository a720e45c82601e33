// Binds the CLI to the real process: stdout, stderr, signals, a no-echo prompt.
import { run } from './main.js'
import type { CliIO } from './io.js'

export async function main(argv: string[]): Promise<void> {
  let interrupted: Promise<void> | undefined
  const stdout = closablePipe(process.stdout)
  const stderr = closablePipe(process.stderr)
  const io: CliIO = {
    out: (s) => stdout.write(s + '\n'),
    err: (s) => stderr.write(s + '\n'),
    env: process.env,
    // Handlers only for a command that asks (serve, lease): while one is installed Node no
    // longer ends the process on Ctrl-C/SIGTERM, and a command that never looks (flr status
    // waiting on a peer that does not answer) would swallow the first one.
    get interrupted() {
      interrupted ??= new Promise<void>((resolve) => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
      return interrupted
    },
    prompt: process.stdin.isTTY ? promptHidden : undefined,
  }
  const code = await run(argv, io)
  // a failed write to the output (closablePipe) has already set 1: a success does not undo it
  if (code !== 0 || process.exitCode === undefined) process.exitCode = code
  // long-running commands close their own handles; short ones must not hang on a stray timer.
  // Not before stdout has drained: a long output to a pipe (flr report --json of a year, [OBS-3])
  // was cut off at the exit
  const exitSoon = () => setTimeout(() => process.exit(), 100).unref()
  if (process.stdout.writableLength > 0) process.stdout.once('drain', exitSoon)
  else exitSoon()
}

/**
 * `flr sign … | head`, `flr inspect big.lp | less` quit early: the reader is gone (EPIPE). That
 * is no failure of the command: what it would still print is dropped, and it ends as it would
 * have (a signed file written, a lease released), with its own exit code, no stack trace.
 * Any other write error (a full disk under `> file`) is not silent: exit code 1.
 */
function closablePipe(stream: NodeJS.WriteStream): { write(text: string): void } {
  let closed = false
  stream.on('error', (err: NodeJS.ErrnoException) => {
    closed = true
    if (err.code === 'EPIPE') return
    process.exitCode = 1
    if (stream !== process.stderr && !stderrClosed()) process.stderr.write(`flr: cannot write the output: ${err.message}\n`)
  })
  return {
    write(text) {
      if (!closed) stream.write(text)
    },
  }
}

function stderrClosed(): boolean {
  return process.stderr.destroyed || !process.stderr.writable
}

function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin
    process.stderr.write(question)
    stdin.setRawMode(true)
    stdin.resume()
    let answer = ''
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done()
        if (ch === '\u0003') return done(new Error('cancelled'))
        if (ch === '\u007f') answer = answer.slice(0, -1)
        else answer += ch
      }
    }
    const done = (err?: Error) => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
      if (err) reject(err)
      else resolve(answer)
    }
    stdin.on('data', onData)
  })
}
