// What a command may touch of the outside world, injected so commands run in-process in tests.
import { isFlrError } from '../errors.js'

export interface CliIO {
  out(text: string): void
  err(text: string): void
  env: NodeJS.ProcessEnv
  /** resolves when the user asks a long-running command to stop (Ctrl-C, SIGTERM) */
  interrupted: Promise<void>
  /** reads a line without echo; undefined when stdin is not a terminal */
  prompt?(question: string): Promise<string>
}

/** Thrown by commands to end with exit code 1 and a message (no stack trace for users). */
export class CommandFailed extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message)
  }
}

/** A fixed-width table: numbers right-aligned, text left-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))]
  const width = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)))
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'))
  return cells
    .map((r) => r.map((c, i) => (numeric[i] ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ').trimEnd())
    .join('\n')
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2)
}

/** A failure a user can act on: the code and the message, nothing else. */
export function describeError(e: unknown): string {
  if (isFlrError(e)) return `${e.code}: ${e.message}`
  if (e instanceof CommandFailed) return e.message
  return e instanceof Error ? e.message : String(e)
}
