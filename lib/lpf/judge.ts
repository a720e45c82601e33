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

/** loadLpf on a worker thread: the same plan, or the same FlrError (code, message, details). */
export function judgeLpf(bytes: Buffer, opts: LoadOptions, jopts: JudgeOptions = {}): Promise<LicensePlan> {
  const deadlineMs = jopts.deadlineMs ?? JUDGE_DEADLINE_MS
  const { signal } = jopts
  if (signal?.aborted) return Promise.reject(signal.reason)
  if (bytes.length < (jopts.inlineBelow ?? INLINE_BELOW_BYTES)) return new Promise((resolve) => resolve(loadLpf(bytes, opts)))
  return new Promise<LicensePlan>((resolve, reject) => {
    // KeyObjects are cloneable; the bytes are copied (the caller keeps its Buffer)
    const request: JudgeRequest = { bytes: new Uint8Array(bytes), opts }
    const worker = new Worker(WORKER_URL, { workerData: request })
    let settled = false
    const settle = (fn: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      fn()
      void worker.terminate()
    }
    const timer = setTimeout(() => settle(() => reject(tooSlow(deadlineMs, bytes.length))), deadlineMs)
    const onAbort = (): void => settle(() => reject(signal!.reason))
    signal?.addEventListener('abort', onAbort, { once: true })
    worker.once('message', (answer: JudgeAnswer) => settle(() => {
      if (answer.ok) resolve(refreeze(answer.plan as LicensePlan))
      else if ('internal' in answer) reject(new Error(`judging the license pack file failed: ${answer.internal}`))
      else reject(new FlrError(answer.code as ErrorCode, answer.message, answer.details))
    }))
    worker.once('error', (e) => settle(() => reject(e)))
    worker.once('exit', (code) => settle(() => reject(new Error(`the LPF judging worker exited (code ${code}) without an answer`))))
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
  return Object.freeze({ ...plan, packs: Object.freeze(plan.packs.map((p: PackPlan) => Object.freeze({ ...p }))) })
}
