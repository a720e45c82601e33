// The worker side of judge.ts: runs the whole load (screen → verify → parse → checks) on its own
// thread, so that an admitted but heavy 4 MiB file never holds the daemon's event loop ([LPF-6]).
// It stays up between files (a start costs more than judging a 1,000-pack file) and answers each
// request, by its id, with the plan or with the FlrError's code, message and details.
import { parentPort } from 'node:worker_threads'
import { isFlrError } from '../errors.js'
import { loadLpf, type LoadOptions } from './load.js'

export interface JudgeRequest {
  readonly id: number
  readonly bytes: Uint8Array
  readonly opts: LoadOptions
}

export type JudgeAnswer = { readonly id: number } & (
  | { readonly ok: true; readonly plan: unknown }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly details: Record<string, unknown> }
  | { readonly ok: false; readonly internal: string }
)

parentPort!.on('message', ({ id, bytes, opts }: JudgeRequest) => {
  let answer: JudgeAnswer
  try {
    answer = { id, ok: true, plan: loadLpf(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), opts) }
  } catch (e) {
    answer = isFlrError(e)
      ? { id, ok: false, code: e.code, message: e.message, details: { ...e.details } }
      : { id, ok: false, internal: e instanceof Error ? (e.stack ?? e.message) : String(e) }
  }
  parentPort!.postMessage(answer)
})
