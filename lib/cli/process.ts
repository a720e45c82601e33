// Binds the CLI to the real process: stdout, stderr, signals, a no-echo prompt.
import { run } from './main.js'
import type { CliIO } from './io.js'

export async function main(argv: string[]): Promise<void> {
  let interrupted: Promise<void> | undefined
  const io: CliIO = {
    out: (s) => process.stdout.write(s + '\n'),
    err: (s) => process.stderr.write(s + '\n'),
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
  process.exitCode = await run(argv, io)
  // long-running commands close their own handles; short ones must not hang on a stray timer
  setTimeout(() => process.exit(), 100).unref()
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
