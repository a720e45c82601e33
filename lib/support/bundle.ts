// `flr support-bundle`: what support needs to see, and nothing secret ([ADM-2]: no password,
// no hash, no private key; [LEASE-4]: no lease id). Files are picked by name from known places,
// never by walking the state directory, so the password file and keys cannot slip in; each is
// taken only if it is a regular file under that name (no symbolic link, FIFO, device or hard
// link), so nothing outside the log directory is ever read through one.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { VERSION } from '../version.js'
import { readConfigSnapshot } from './config-snapshot.js'
import { LeaseRedactor } from './redact.js'
import { readRegularFile } from './regular-file.js'
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
  /** files that were there but left out, and why (also in flr-support/skipped.json) */
  skipped: { file: string; why: string }[]
}

export function supportBundle(input: BundleInput): Bundle {
  const config = readConfigSnapshot(input.stateDir)
  const redactor = new LeaseRedactor()
  const skipped: Bundle['skipped'] = []
  const entries: TarEntry[] = [
    text('flr-support/versions.json', { flr: VERSION, node: process.version, platform: process.platform, arch: process.arch, versions: process.versions }),
    // [LEASE-4] today's status holds no lease id; a later one (cluster, history) might
    redactedText('flr-support/status.json', input.status, redactor),
    text('flr-support/config.json', config ?? { missing: `no usable serve-config.json in ${input.stateDir}: has flr serve run with this --state-dir?` }),
  ]
  if (config) {
    // the LPF is the vendor's signed text, copied as is: it holds no lease id, and a redaction
    // could only break the signature support needs to check
    const lpfPath = join(config.licenseDir, `${config.hostId}.lp`)
    const lpf = readRegularFile(lpfPath)
    if (lpf && 'data' in lpf) entries.push({ name: `flr-support/lpf/${config.hostId}.lp`, data: lpf.data })
    else if (lpf) skipped.push({ file: lpfPath, why: lpf.refused })
    for (const name of listOptional(config.logDir).filter((n) => LOG_FILE.test(n)).sort()) {
      const log = readRegularFile(join(config.logDir, name), LOG_TAIL)
      if (!log) continue
      if ('refused' in log) {
        skipped.push({ file: join(config.logDir, name), why: log.refused })
        continue
      }
      entries.push({ name: `flr-support/logs/${name}`, data: redactor.redactBytes(log.cut ? fromFirstWholeLine(log.data) : log.data) })
    }
  }
  if (skipped.length > 0) entries.push(text('flr-support/skipped.json', skipped))
  return { data: tarGz(entries), files: entries.map((e) => e.name), skipped }
}

function text(name: string, value: unknown): TarEntry {
  return { name, data: Buffer.from(JSON.stringify(value, null, 2) + '\n') }
}

function redactedText(name: string, value: unknown, redactor: LeaseRedactor): TarEntry {
  return { name, data: Buffer.from(redactor.redact(JSON.stringify(value, null, 2)) + '\n') }
}

/**
 * A tail starts mid-line: the part before the first newline is dropped, since a lease id cut in
 * two there would be too short to be recognised, yet leave most of its bits in the bundle.
 */
function fromFirstWholeLine(data: Buffer): Buffer {
  const newline = data.indexOf(0x0a)
  return newline === -1 ? Buffer.alloc(0) : data.subarray(newline + 1)
}

/** Names in the log directory; what each is, is judged when it is read (readRegularFile). */
function listOptional(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}
