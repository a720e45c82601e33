// issue 13: an error nobody expected (a rejection no code handles, an exception no code catches)
// must not leave flr serve half-alive, nor end it without a word. Every known source is handled
// where it arises (notes/small.md lists them); this is the net under them: the error and its
// cause go to flr.log and to stderr, then the process exits non-zero, so that the service
// manager (systemd Restart=on-failure) starts it again and the admin can read why. Leases
// survive as after kill -9 ([LEASE-7]: nothing acknowledged was left unwritten; [LEASE-8]).
import { writeSync } from 'node:fs'
import { inspect } from 'node:util'
import { flushForExit, type Logger } from './logger.js'

/** EX_SOFTWARE (sysexits.h): an internal software error, not a usage or configuration one. */
export const FATAL_EXIT_CODE = 70

export interface FatalOptions {
  log: Logger
  /** how the process ends (tests of this module pass their own) */
  exit?: (code: number) => void
}

/** Installs the handlers; returns a function that removes them. */
export function exitOnUnexpected(opts: FatalOptions): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code))
  let dying = false
  const die = (origin: 'unhandledRejection' | 'uncaughtException', error: unknown): void => {
    // a second failure while the first is reported (the log itself failing) changes nothing
    if (dying) return
    dying = true
    report(opts.log, origin, error)
    exit(FATAL_EXIT_CODE)
  }
  const onRejection = (reason: unknown) => die('unhandledRejection', reason)
  const onException = (err: Error, origin: string) => die(origin === 'unhandledRejection' ? 'unhandledRejection' : 'uncaughtException', err)
  process.on('unhandledRejection', onRejection)
  process.on('uncaughtException', onException)
  return () => {
    process.off('unhandledRejection', onRejection)
    process.off('uncaughtException', onException)
  }
}

function report(log: Logger, origin: string, error: unknown): void {
  const what = origin === 'unhandledRejection' ? 'a promise rejection nobody handled' : 'an exception nobody caught'
  // stderr first, by a plain synchronous write: it works even when the logger is what failed.
  // util.inspect shows the stack and every `cause` (nested [cause] blocks).
  try {
    writeSync(2, `flr serve: exiting with code ${FATAL_EXIT_CODE} after ${what}; the service manager should restart it.\n${inspect(error, { depth: 6 })}\n`)
  } catch {
    // stderr closed: the log below still says it
  }
  try {
    // pino's err serializer puts the causes' messages and stacks into `message` and `stack`;
    // `causes` keeps each one's own message for whoever greps the log. flr.log is written
    // synchronously (logger.ts): this line is on disk before the process exits.
    log.fatal({ err: error, origin, causes: causeChain(error) }, `unexpected error: ${what}; exiting with code ${FATAL_EXIT_CODE} so that the service manager restarts flr`)
    flushForExit(log)
  } catch {
    // the logger itself failed: stderr has it
  }
}

/** The message of each `cause`, outermost first (at most 8: a cycle must not loop). */
function causeChain(error: unknown): string[] {
  const chain: string[] = []
  let cause = (error as { cause?: unknown } | undefined)?.cause
  while (cause !== undefined && chain.length < 8) {
    chain.push(cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause))
    cause = (cause as { cause?: unknown } | null)?.cause
  }
  return chain
}
