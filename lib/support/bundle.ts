// `flr support-bundle`: what support needs to see, and nothing secret ([ADM-2]: no password,
// no hash, no private key). Files are picked by name from known places, never by walking the
// state directory, so the password file and keys cannot slip in.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { VERSION } from '../version.js'
import { readConfigSnapshot } from './config-snapshot.js'
import { tarGz, type TarEntry } from './tar.js'

/** a log bigger than this contributes its last 10 MiB */
const LOG_TAIL = 10 * 1024 * 1024
const LOG_FILE = /^(flr\.log|access_\d{4}-\d{2}-\d{2}\.request\.log)$/

export interface BundleInput {
  stateDir: string
  /** the live status, or why it could not be had */
  status: unknown
}

export interface Bundle {
  data: Buffer
  files: string[]
}

export function supportBundle(input: BundleInput): Bundle {
  const config = readConfigSnapshot(input.stateDir)
  const entries: TarEntry[] = [
    text('flr-support/versions.json', { flr: VERSION, node: process.version, platform: process.platform, arch: process.arch, versions: process.versions }),
    text('flr-support/status.json', input.status),
    text('flr-support/config.json', config ?? { missing: `no usable serve-config.json in ${input.stateDir}: has flr serve run with this --state-dir?` }),
  ]
  if (config) {
    const lpf = readOptional(join(config.licenseDir, `${config.hostId}.lp`))
    if (lpf) entries.push({ name: `flr-support/lpf/${config.hostId}.lp`, data: lpf })
    for (const name of listOptional(config.logDir).filter((n) => LOG_FILE.test(n)).sort()) {
      const data = readOptional(join(config.logDir, name), LOG_TAIL)
      if (data) entries.push({ name: `flr-support/logs/${name}`, data })
    }
  }
  return { data: tarGz(entries), files: entries.map((e) => e.name) }
}

function text(name: string, value: unknown): TarEntry {
  return { name, data: Buffer.from(JSON.stringify(value, null, 2) + '\n') }
}

function readOptional(path: string, tail?: number): Buffer | undefined {
  try {
    const data = readFileSync(path)
    return tail && data.length > tail ? data.subarray(data.length - tail) : data
  } catch {
    return undefined
  }
}

function listOptional(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => statSync(join(dir, n)).isFile())
  } catch {
    return []
  }
}
