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
  constructor(message: string, readonly exitCode = 1, readonly code?: string) {
    super(message)
  }
}

/** [SRV-1] `flr status` reached the server (or its record) and it serves no lease: documented in docs/operating.md */
export const EXIT_NOT_SERVING = 3

/** Ends with `exitCode` after the command has printed all it had to say: nothing more on stderr. */
export class QuietExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`)
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

/** --json output: always one object (a list goes under a key, `{leases: [...]}`), never a bare array */
export function json<T extends object>(value: T extends readonly unknown[] ? never : T): string {
  return JSON.stringify(value, null, 2)
}

/** The stable code of a failure, for `--json` errors on stderr: `{"error": {code, message}}` */
export function errorCode(e: unknown): string {
  if (isFlrError(e)) return e.code
  if (e instanceof CommandFailed) return e.code ?? (e.exitCode === 2 ? 'USAGE' : 'FAILED')
  return 'FAILED'
}

/** A failure a user can act on: the code and the message, nothing else. */
export function describeError(e: unknown): string {
  if (isFlrError(e)) return `${e.code}: ${e.message}`
  if (e instanceof CommandFailed) return e.message
  return e instanceof Error ? e.message : String(e)
}
