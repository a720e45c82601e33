// [SRV-2] Watches the license directory, not the file: editors, `mv` and `cp` replace it.
import { mkdirSync } from 'node:fs'
import { basename } from 'node:path'
import { watch } from 'chokidar'
import type { Logger } from './logger.js'

export interface LicenseWatcher {
  readonly ready: Promise<void>
  close(): Promise<void>
}

/**
 * How long a file must keep its size before a change is reported (chokidar awaitWriteFinish).
 * Short on purpose: it only merges the bursts of one copy (`cp`, an editor's save) into one
 * event, so that a renamed file is applied within ~100 ms ([SRV-2], the 200 ms target).
 * A writer that pauses longer is covered by WRITE_QUIET_MS.
 */
export const WRITE_SETTLE_MS = 50

/**
 * A file that fails verification within this long of its last write may still be being written
 * (a slow copy that pauses mid-file): the daemon judges it again once it has been quiet this
 * long, and only then rejects it. A valid file is applied at once: half an LPF never verifies.
 */
export const WRITE_QUIET_MS = 2_000

export function watchLicenseDir(dir: string, fileName: string, onChange: () => void, log: Logger): LicenseWatcher {
  mkdirSync(dir, { recursive: true })
  const watcher = watch(dir, {
    ignoreInitial: true,
    depth: 0,
    awaitWriteFinish: { stabilityThreshold: WRITE_SETTLE_MS, pollInterval: 10 },
    // [SRV-1] any *.lp: one saved under another name changes why nothing is served
    ignored: (path, stats) => stats?.isFile() === true && !isLpf(basename(path), fileName),
  })
  watcher.on('all', (event, path) => {
    if (!isLpf(basename(path), fileName)) return
    log.debug({ event, file: fileName }, 'license file changed')
    onChange()
  })
  watcher.on('error', (err) => log.error({ err }, 'license directory watcher failed; the periodic re-check still runs'))
  return {
    ready: new Promise((resolve) => watcher.once('ready', () => resolve())),
    close: () => watcher.close(),
  }
}

function isLpf(name: string, fileName: string): boolean {
  return name === fileName || name.endsWith('.lp')
}
