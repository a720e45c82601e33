// The worker side of judge.ts: runs the whole load (screen → verify → parse → checks) on its own
// thread, so that an admitted but heavy 4 MiB file never holds the daemon's event loop ([LPF-6]).
// It answers once, with the plan or with the FlrError's code, message and details.
import { parentPort, workerData } from 'node:worker_threads'
import { isFlrError } from '../errors.js'
import { loadLpf, type LoadOptions } from './load.js'

export interface JudgeRequest {
  readonly bytes: Uint8Array
  readonly opts: LoadOptions
}

export type JudgeAnswer =
  | { readonly ok: true; readonly plan: unknown }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly details: Record<string, unknown> }
  | { readonly ok: false; readonly internal: string }

const { bytes, opts } = workerData as JudgeRequest
let answer: JudgeAnswer
try {
  answer = { ok: true, plan: loadLpf(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), opts) }
} catch (e) {
  answer = isFlrError(e)
    ? { ok: false, code: e.code, message: e.message, details: { ...e.details } }
    : { ok: false, internal: e instanceof Error ? (e.stack ?? e.message) : String(e) }
}
parentPort!.postMessage(answer)
