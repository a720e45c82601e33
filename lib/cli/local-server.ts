// Commands run on the server host find the running `flr serve` from the record it keeps in its
// state directory (lib/server/serve-record.ts): the lease port the LPF really names (the vendor
// chooses it, and it moves with the LPF, [SRV-5]), and, while none is bound, why ([SRV-1]).
// --server / FLR_SERVER, when given, win over it (server-address.ts).
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { readServeRecord, type ServeRecord } from '../server/serve-record.js'

/** what `flr serve --demo` uses, relative to where it was started */
export const DEMO_STATE_DIR = join('.flr-demo', 'state')
/** where the packaged service keeps its state (deploy/systemd/flr.service, StateDirectory=flr) */
export const SYSTEM_STATE_DIR = '/var/lib/flr'

export const STATE_DIR_OPTION_HELP = `the server's state directory, to find its real port (default: FLR_STATE_DIR, else ./${DEMO_STATE_DIR} if there, else ${SYSTEM_STATE_DIR})`

/** --state-dir, else FLR_STATE_DIR, else the demo's when present, else the service's. */
export function localStateDir(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag) return resolve(flag)
  if (env.FLR_STATE_DIR) return resolve(env.FLR_STATE_DIR)
  return existsSync(DEMO_STATE_DIR) ? resolve(DEMO_STATE_DIR) : SYSTEM_STATE_DIR
}

export interface LocalServer {
  stateDir: string
  record: ServeRecord
  /** HOST:PORT of the lease port, when one is bound */
  address?: string
}

/** The server running on this state directory, if its record names a live process. */
export function findLocalServer(flag: string | undefined, env: NodeJS.ProcessEnv): LocalServer | undefined {
  const stateDir = localStateDir(flag, env)
  const record = readServeRecord(stateDir)
  if (!record || !isRunning(record.pid)) return undefined
  const host = connectHost(record.bind)
  const address = record.leasePort === null ? undefined : `${host.includes(':') ? `[${host}]` : host}:${record.leasePort}`
  return { stateDir, record, ...(address ? { address } : {}) }
}

/** The lease port's HOST:PORT from the record, for server-address.ts; undefined when unknown. */
export function localServerAddress(env: NodeJS.ProcessEnv, stateDir?: string): string | undefined {
  return findLocalServer(stateDir, env)?.address
}

/** A wildcard bind is reached on loopback; a specific address only on itself. */
function connectHost(bind: string): string {
  if (bind === '0.0.0.0' || bind === '' || bind === '::' || bind === '[::]') return '127.0.0.1'
  return bind
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: alive, another user's (the service runs as flr)
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
