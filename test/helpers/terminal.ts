// An in-process terminal for `run(argv, io)`: captures output, types answers at prompts,
// and presses Ctrl-C on demand.
import type { CliIO } from '../../lib/cli/io.js'

export interface Terminal {
  io: CliIO
  out: string[]
  err: string[]
  /** the prompts asked, in order */
  questions: string[]
  /** everything written to stdout / stderr, one string each */
  stdout(): string
  stderr(): string
  /** what Ctrl-C does */
  interrupt(): void
}

/** `answers` are typed at the prompts in order; without them stdin is not a terminal (no prompt). */
export function terminal(env: Record<string, string> = {}, answers?: string[]): Terminal {
  const out: string[] = []
  const err: string[] = []
  const questions: string[] = []
  let interrupt = (): void => {}
  const interrupted = new Promise<void>((resolve) => (interrupt = resolve))
  const io: CliIO = {
    out: (s) => void out.push(s),
    err: (s) => void err.push(s),
    env,
    interrupted,
    prompt: answers
      ? async (q) => {
          questions.push(q)
          const a = answers.shift()
          if (a === undefined) throw new Error(`unexpected prompt: ${q}`)
          return a
        }
      : undefined,
  }
  return { io, out, err, questions, stdout: () => out.join('\n'), stderr: () => err.join('\n'), interrupt }
}
