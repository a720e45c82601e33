// LMDB trusts its file: a truncated or overwritten page makes the reading process die
// (SIGSEGV, SIGBUS, an assertion) instead of returning an error. [LEASE-9] wants a message
// that says the store is damaged and what to do, so an existing store is first read end to
// end by a throwaway child process; only if that child survives does the daemon open it.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { MAX_TABLES, STORE_TABLES } from './store-layout.js'

export type ProbeVerdict = { readable: true } | { readable: false; reason: string }

// Reads every page the daemon reads at start: the meta pages (open), the main tree (named
// tables), the meta entry and every lease record; the table names are the store's own
// (store-layout.ts), so a renamed or added table is probed with no edit here. Read-only: a
// damaged store is never written to ([LEASE-9]). An LMDB error is reported as JSON {code, message}: LMDB's own
// codes are negative, errno values (EACCES, EIO…) positive. CommonJS (lmdb-js's own CJS
// build): the child starts faster than with the ES module loader, and it is on the path of
// every restart.
const PROBE_SOURCE = `
const { open } = require(${JSON.stringify(createRequire(import.meta.url).resolve('lmdb'))})
let env
try {
  env = open({ path: process.argv[1], noSubdir: true, readOnly: true, maxDbs: ${MAX_TABLES} })
  env.getStats()
  // lmdb-js copies each value out of the map before calling decode: returning its length
  // touches every byte without building anything
  const encoder = { encode() { throw new Error('read-only') }, decode: (bytes, end) => end }
  for (const name of ${JSON.stringify(Object.values(STORE_TABLES))}) {
    let db
    try { db = env.openDB({ name, encoder, create: false }) } catch { continue }
    if (!db) continue
    let bytes = 0
    for (const { value } of db.getRange()) bytes += value
  }
} catch (e) {
  process.stdout.write(JSON.stringify({ code: e?.code, message: String(e?.message ?? e) }))
  process.exit(3)
}
env.close()
`

// What a process dies of when LMDB follows a bad page; any other death (SIGKILL from the
// OOM killer, SIGTERM from an operator) says nothing about the file.
const CRASH_SIGNALS = new Set(['SIGSEGV', 'SIGBUS', 'SIGABRT', 'SIGILL', 'SIGFPE'])

/** far longer than reading any real store takes (100,000 leases: ~150 ms) */
export const PROBE_TIMEOUT_MS = 60_000

/**
 * Reads the store file in a child process. Resolves readable or not (with the reason);
 * rejects when the check itself could not be made (no permission, the child could not run).
 */
export function probeStoreFile(file: string): Promise<ProbeVerdict> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', PROBE_SOURCE, file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    // a check that hangs must not keep flr serve from starting without a word
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, PROBE_TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (timedOut) return reject(new Error(`could not check the lease store ${file}: the check did not finish within ${PROBE_TIMEOUT_MS / 1000} s (a hung disk?)`))
      if (code === 0) return resolve({ readable: true })
      if (signal && CRASH_SIGNALS.has(signal)) {
        return resolve({ readable: false, reason: `reading it crashed LMDB (${signal}${lastLine(stderr)})` })
      }
      if (code === 3) return settleLmdbError(file, stdout, resolve, reject)
      reject(new Error(`could not check the lease store ${file}: the check ${signal ? `was killed by ${signal}` : `exited ${code}`}${lastLine(stderr)}`))
    })
  })
}

function settleLmdbError(
  file: string,
  stdout: string,
  resolve: (v: ProbeVerdict) => void,
  reject: (e: Error) => void,
): void {
  const { code, message } = JSON.parse(stdout) as { code?: unknown; message: string }
  if (typeof code === 'number' && code > 0) reject(new Error(`cannot read the lease store ${file}: ${message}`))
  else resolve({ readable: false, reason: `LMDB cannot read it: ${message}` })
}

function lastLine(text: string): string {
  const line = text.trim().split('\n').pop()?.trim()
  return line ? `: ${line.slice(0, 200)}` : ''
}
