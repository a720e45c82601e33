// What `flr serve` keeps up beside the daemon: the record of its real ports and serving state in
// the state directory ([SRV-1], lib/server/serve-record.ts), and flr.log reopened on SIGHUP (so
// that logrotate can move it away: docs/operating.md).
import type { Daemon, DaemonConfig } from '../server/daemon.js'
import { reopenLogFile, type Logger } from '../server/logger.js'
import { removeServeRecord, writeServeRecord } from '../server/serve-record.js'

export interface ServeLifecycle {
  started(daemon: Daemon): void
  stopped(): void
}

/** Sets `config.onChange`; the record is written from the start on, at every change, removed at stop. */
export function recordServe(config: DaemonConfig, log: Logger): ServeLifecycle {
  const startedAt = new Date().toISOString()
  let daemon: Daemon | undefined
  let warned = false
  const write = (): void => {
    if (!daemon) return
    const status = daemon.status()
    try {
      writeServeRecord(config.stateDir, {
        pid: process.pid,
        startedAt,
        hostId: config.hostId,
        bind: config.bind ?? '0.0.0.0',
        leasePort: daemon.leasePort ?? null,
        httpPort: daemon.httpPort,
        httpsPort: daemon.httpsPort,
        serving: status.serving,
        ...(status.reason ? { reason: status.reason } : {}),
        licenseDir: config.licenseDir,
        expected: `${config.hostId}.lp`,
        updatedAt: new Date().toISOString(),
      })
    } catch (e) {
      // the record only helps the CLI find the server: worth a warning, never the end of serving
      if (!warned) log.warn({ err: e }, 'could not write the ports record in the state directory; flr status needs --server')
      warned = true
    }
  }
  config.onChange = write
  const onHangup = (): void => {
    reopenLogFile(log)
    log.info('SIGHUP: flr.log reopened')
  }
  // from the start: without a handler, Node ends the process on SIGHUP
  process.on('SIGHUP', onHangup)
  return {
    started(d) {
      daemon = d
      write()
    },
    stopped() {
      process.off('SIGHUP', onHangup)
      daemon = undefined
      try {
        removeServeRecord(config.stateDir)
      } catch {
        // a record left behind names a dead pid: the CLI ignores it
      }
    },
  }
}
