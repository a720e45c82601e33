// `flr support-bundle`: a .tar.gz for support: logs, the LPF in force, status, versions, configuration.
import { writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import { json, type CliIO } from '../io.js'
import { describeError } from '../io.js'
import { SERVER_OPTION_HELP } from '../server-address.js'
import { withClient } from '../admin-session.js'
import { findLocalServer, localStateDir, STATE_DIR_OPTION_HELP } from '../local-server.js'
import type { TlsFlags } from '../tls-options.js'
import { supportBundle } from '../../support/bundle.js'

interface BundleOptions extends TlsFlags {
  stateDir?: string
  out?: string
  server?: string
  json?: boolean
}

export function register(program: Command, io: CliIO): void {
  program
    .command('support-bundle')
    .description('write a .tar.gz for support: logs, the LPF in force, status, versions, configuration (no secrets)')
    .option('--state-dir <dir>', STATE_DIR_OPTION_HELP)
    .option('--out <file>', 'where to write it (default flr-support-<time>.tar.gz)')
    .option('--server <host:port>', SERVER_OPTION_HELP)
    .option('--json', 'print what was written as JSON')
    .option('--tls', 'reach the server over TLS, verified by the system CAs')
    .option('--tls-ca <file>', 'reach the server over TLS, trusting this CA (default: FLR_TLS_CA)')
    .option('--tls-fingerprint <sha256>', 'reach the server over TLS, trusting exactly this certificate (default: FLR_TLS_FINGERPRINT)')
    .action(async (opts: BundleOptions) => {
      const stateDir = localStateDir(opts.stateDir, io.env)
      const status = await liveStatus({ ...opts, stateDir }, io)
      const bundle = supportBundle({ stateDir, status })
      const out = opts.out ?? `flr-support-${new Date().toISOString().replace(/[:.]/g, '-')}.tar.gz`
      writeFileSync(out, bundle.data, { mode: 0o600 })
      const skipped = bundle.skipped.length > 0 ? { skipped: bundle.skipped } : {}
      io.out(opts.json ? json({ out, files: bundle.files, ...skipped }) : `Wrote ${out} (${bundle.data.length} bytes):\n  ${bundle.files.join('\n  ')}`)
      // a planted link or a FIFO among the logs is worth the admin's attention
      if (!opts.json) for (const { file, why } of bundle.skipped) io.err(`flr: left out ${file}: ${why}`)
    })
}

async function liveStatus(opts: BundleOptions, io: CliIO): Promise<unknown> {
  // [SRV-1] running with no lease port: its record says why, which is what support needs
  const local = opts.server ?? io.env.FLR_SERVER ? undefined : findLocalServer(opts.stateDir, io.env)
  if (local && !local.address) return { serving: false, reason: local.record.reason, record: local.record }
  try {
    return await withClient(opts, io, 'flr-support-bundle', (client) => client.status())
  } catch (e) {
    return { unreachable: describeError(e) }
  }
}
