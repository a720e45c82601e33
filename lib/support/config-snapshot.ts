// `flr serve` records its effective configuration in the state directory, without secrets,
// so `flr support-bundle` can find the license file and logs the running server uses.
import { readFileSync, writeFileSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { HOST_ID_PATTERN } from '../lpf/host-id.js'

export interface ConfigSnapshot {
  startedAt: string
  pid: number
  hostId: string
  hostIdOverridden: boolean
  licenseDir: string
  stateDir: string
  logDir: string
  vendorKeyFiles: string[]
  bind: string
  leaseTtlMs: number
  /** --grace; null when not given (the LPF's grace applies, [LPF-2]) */
  graceMs: number | null
  httpPort: number | null
  httpsPort: number | null
  httpPack: string
  maxConnections: number
  logLevel: string
  /** [HA-1] `lmdb`, or the PostgreSQL URL with its password masked (pg-url.ts redactUrl) */
  store?: string
}

const FILE = 'serve-config.json'

export function writeConfigSnapshot(snapshot: ConfigSnapshot): void {
  writeFileSync(join(snapshot.stateDir, FILE), JSON.stringify(snapshot, null, 2) + '\n', { mode: 0o644 })
}

/**
 * The snapshot, or undefined when there is none or it cannot be trusted to name files: the
 * bundle builds paths from licenseDir, logDir and hostId, so a damaged file must neither crash
 * it nor point it (a hostId such as `../x`) outside the directories serve uses.
 */
export function readConfigSnapshot(stateDir: string): ConfigSnapshot | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(join(stateDir, FILE), 'utf8'))
  } catch {
    return undefined
  }
  return isUsable(parsed) ? parsed : undefined
}

function isUsable(v: unknown): v is ConfigSnapshot {
  if (typeof v !== 'object' || v === null) return false
  const { licenseDir, logDir, hostId } = v as Partial<ConfigSnapshot>
  return isAbsolutePath(licenseDir) && isAbsolutePath(logDir) && typeof hostId === 'string' && HOST_ID_PATTERN.test(hostId)
}

function isAbsolutePath(p: unknown): p is string {
  return typeof p === 'string' && isAbsolute(p)
}
