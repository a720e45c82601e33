// [LPF-6] "no file under 4 MiB stalls the daemon": the screen bounds what any parser sees, but an
// admitted 4 MiB file still costs xmldom and verify seconds (25 s for 249-deep nesting on a loaded
// 2-core machine), all before the signature is checked. judgeLpf runs that load (load.ts, unchanged)
// on a worker thread, so the event loop keeps answering clients, and ends it at a deadline.
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { FlrError, type ErrorCode } from '../errors.js'
import { loadLpf, type LoadOptions } from './load.js'
import type { JudgeAnswer, JudgeRequest } from './load-worker.js'
import type { LicensePlan, PackPlan } from './plan.js'

/**
 * How long one file may take to judge. The worst admitted 4 MiB file took 25 s on a 2-core machine
 * at load average 22 (notes/wellformed.md) and a normal 4 MiB LPF a few seconds; 60 s leaves room
 * for a loaded machine without refusing a real file. Past it, the file is refused (LPF_MALFORMED)
 * rather than letting a worker burn a core forever: clients are served meanwhile either way.
 */
export const JUDGE_DEADLINE_MS = 60_000

/**
 * Below this size a file is judged on the calling thread: even its worst admitted shape costs
 * at most ~0.2 s there on a 2-core machine at load average 22 (25 s per 4 MiB, notes/wellformed.md),
 * and a real LPF of a few packs is far smaller. A worker costs ~0.1 s to start from dist/, but
 * seconds under the tests' TypeScript loader, which would slow every small reload in the tests.
 */
export const INLINE_BELOW_BYTES = 32 * 1024

export interface JudgeOptions {
  /** default JUDGE_DEADLINE_MS; tests inject a short one */
  deadlineMs?: number
  /** default INLINE_BELOW_BYTES; 0 sends every file to the worker */
  inlineBelow?: number
  /** aborted (the daemon stops): the worker is ended and the promise rejects with the reason */
  signal?: AbortSignal
}

// The worker file sits next to this module with this module's extension: `.js` from dist/, `.ts`
// when tests import the source (the worker inherits process.execArgv, so tap's TypeScript import
// hooks load it too).
const here = fileURLToPath(import.meta.url)
const WORKER_URL = new URL(`./load-worker${extname(here)}`, import.meta.url)

/**
 * The judging thread, started at the first file that needs it and kept for the next ones (a start
 * costs ~0.2 s, more than judging a 1,000-pack file); unref'd, so an idle one keeps no process
 * alive. One that is ended (a deadline, an abort) or dies is replaced at the next file.
 */
interface JudgeThread {
  readonly worker: Worker
  readonly waiting: Map<number, (answer: JudgeAnswer | Error) => void>
}
let thread: JudgeThread | undefined
let nextId = 1

function judgeThread(): JudgeThread {
  if (thread) return thread
  const t: JudgeThread = { worker: new Worker(WORKER_URL), waiting: new Map() }
  t.worker.unref()
  t.worker.on('message', (answer: JudgeAnswer) => {
    const answered = t.waiting.get(answer.id)
    t.waiting.delete(answer.id)
    answered?.(answer)
  })
  const gone = (e: Error): void => {
    if (thread === t) thread = undefined
    for (const answered of t.waiting.values()) answered(e)
    t.waiting.clear()
  }
  t.worker.on('error', gone)
  t.worker.on('exit', (code) => gone(new Error(`the LPF judging worker exited (code ${code}) without an answer`)))
  thread = t
  return t
}

/** Ends the judging thread (its file took too long, or the caller gave up on it). */
function endThread(t: JudgeThread): void {
  if (thread === t) thread = undefined
  void t.worker.terminate()
}

/** loadLpf on a worker thread: the same plan, or the same FlrError (code, message, details). */
export function judgeLpf(bytes: Buffer, opts: LoadOptions, jopts: JudgeOptions = {}): Promise<LicensePlan> {
  const deadlineMs = jopts.deadlineMs ?? JUDGE_DEADLINE_MS
  const { signal } = jopts
  if (signal?.aborted) return Promise.reject(signal.reason)
  if (bytes.length < (jopts.inlineBelow ?? INLINE_BELOW_BYTES)) return new Promise((resolve) => resolve(loadLpf(bytes, opts)))
  return new Promise<LicensePlan>((resolve, reject) => {
    const t = judgeThread()
    const id = nextId++
    let settled = false
    const settle = (fn: () => void): void => {
      if (settled) return
      settled = true
      t.waiting.delete(id)
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      fn()
    }
    // the deadline timer is not unref'd: a judging in progress keeps its process alive
    const timer = setTimeout(() => settle(() => (endThread(t), reject(tooSlow(deadlineMs, bytes.length)))), deadlineMs)
    const onAbort = (): void => settle(() => (endThread(t), reject(signal!.reason)))
    signal?.addEventListener('abort', onAbort, { once: true })
    t.waiting.set(id, (answer) => settle(() => {
      if (answer instanceof Error) reject(answer)
      else if (answer.ok) resolve(refreeze(answer.plan as LicensePlan))
      else if ('internal' in answer) reject(new Error(`judging the license pack file failed: ${answer.internal}`))
      else reject(new FlrError(answer.code as ErrorCode, answer.message, answer.details))
    }))
    // KeyObjects are cloneable; the bytes are copied (the caller keeps its Buffer)
    const request: JudgeRequest = { id, bytes: new Uint8Array(bytes), opts }
    t.worker.postMessage(request)
  })
}

function tooSlow(deadlineMs: number, size: number): FlrError {
  return new FlrError(
    'LPF_MALFORMED',
    `the license pack file took longer than ${Math.round(deadlineMs / 1000)} s to judge (${size} bytes), so it was refused; ask the vendor for a new file`,
    { deadlineMs, size },
  )
}

/** Structured clone drops Object.freeze: the plan is frozen again, as parse.ts made it. */
function refreeze(plan: LicensePlan): LicensePlan {
  return Object.freeze({
    ...plan,
    hosts: Object.freeze(plan.hosts.map((h) => Object.freeze({ ...h }))),
    packs: Object.freeze(plan.packs.map((p: PackPlan) => Object.freeze({ ...p }))),
  })
}
