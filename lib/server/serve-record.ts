// What a running `flr serve` tells the commands on its host, in its state directory: its pid,
// the ports it really listens on (the lease port comes from the LPF and moves with it, [SRV-5]),
// and whether it serves and why not ([SRV-1]). `flr status`, `leases`, `support-bundle` … find
// the server through it (lib/cli/local-server.ts) instead of assuming port 19110, and `flr
// status` can say why nothing is served while no lease port is bound. Rewritten atomically at
// every change, removed at a clean stop; a record left by a killed server names a dead pid.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Problem } from '../protocol/replies.js'

export const SERVE_RECORD = 'serve-ports.json'

export interface ServeRecord {
  pid: number
  startedAt: string
  hostId: string
  /** the address the lease port and the HTTP shim listen on */
  bind: string
  /** null while no valid LPF names one, or it could not be bound */
  leasePort: number | null
  httpPort: number | null
  httpsPort: number | null
  serving: boolean
  /** [SRV-1] why nothing is served, while it is not */
  reason?: Problem
  /** where the LPF is expected: the directory and the file name */
  licenseDir: string
  expected: string
  updatedAt: string
}

export function writeServeRecord(stateDir: string, record: ServeRecord): void {
  const path = join(stateDir, SERVE_RECORD)
  const tmp = `${path}.${process.pid}.tmp`
  // 0644 in the 0700 state directory: readable by whoever may read the directory (root, the flr user)
  writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n', { mode: 0o644 })
  renameSync(tmp, path)
}

/** The record, or undefined when there is none or it cannot be read (no permission, torn). */
export function readServeRecord(stateDir: string): ServeRecord | undefined {
  try {
    const value = JSON.parse(readFileSync(join(stateDir, SERVE_RECORD), 'utf8')) as ServeRecord
    return typeof value === 'object' && value !== null && Number.isInteger(value.pid) ? value : undefined
  } catch {
    return undefined
  }
}

export function removeServeRecord(stateDir: string, pid = process.pid): void {
  // only our own: a newer server may have taken the directory over already
  if (readServeRecord(stateDir)?.pid === pid) rmSync(join(stateDir, SERVE_RECORD), { force: true })
}
