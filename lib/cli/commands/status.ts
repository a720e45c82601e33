// `flr status`: the packs table ([WIRE-7]) and, on a cluster, its nodes ([HA-8]).
import type { Command } from 'commander'
import { EXIT_NOT_SERVING, json, QuietExit, table, type CliIO } from '../io.js'
import { SERVER_OPTION_HELP } from '../server-address.js'
import { withClient } from '../admin-session.js'
import { findLocalServer, STATE_DIR_OPTION_HELP, type LocalServer } from '../local-server.js'
import type { ClusterStatus, StatusAnswer } from '../../protocol/replies.js'
import { tlsOptions, type TlsFlags } from '../tls-options.js'
import { formatGrace } from '../../lpf/plan-rules.js'

interface StatusOptions extends TlsFlags {
  server?: string
  stateDir?: string
  json?: boolean
}

export function register(program: Command, io: CliIO): void {
  tlsOptions(program
    .command('status'))
    .description(`show the packs: limit, in use, available, waiting, expiration; exit ${EXIT_NOT_SERVING} while the server serves no lease`)
    .option('--server <host:port>', SERVER_OPTION_HELP)
    .option('--state-dir <dir>', STATE_DIR_OPTION_HELP)
    .option('--json', 'print the raw status as JSON')
    .action(async (opts: StatusOptions) => {
      // [SRV-1] on the server host, with no lease port bound (no valid LPF names one), the
      // server's record in its state directory still says why
      const local = opts.server ?? io.env.FLR_SERVER ? undefined : findLocalServer(opts.stateDir, io.env)
      const status = local && !local.address ? fromRecord(local) : await ask(opts, io)
      io.out(opts.json ? json({ ...status }) : render(status))
      // [SRV-1] a monitor needs no parsing: non-zero while nothing is served
      if (!status.serving) throw new QuietExit(EXIT_NOT_SERVING)
    })
}

async function ask(opts: StatusOptions, io: CliIO): Promise<StatusAnswer> {
  return withClient(opts, io, 'flr-status', (client) => client.status())
}

/** What the record of a server with no lease port says: it runs, serves nothing, and why. */
function fromRecord(local: LocalServer): StatusAnswer & { pid: number; stateDir: string } {
  const { record } = local
  return {
    serving: false,
    reason: record.reason ?? { code: 'NOT_SERVING', message: `no lease port is bound; the LPF ${record.expected} in ${record.licenseDir} names it` },
    listeningPort: null,
    restored: 0,
    packs: [],
    pid: record.pid,
    stateDir: local.stateDir,
  }
}

export function render(s: StatusAnswer): string {
  const lines: string[] = []
  // [OBS-5] the days left, as lmstat says "expires in N days"
  const left = s.lpf?.expiresInDays === undefined ? '' : ` (in ${s.lpf.expiresInDays} day${s.lpf.expiresInDays === 1 ? '' : 's'})`
  if (s.lpf) lines.push(`LPF: ${s.lpf.vendor}, port ${s.lpf.port}, expires ${s.lpf.expiration}${left}${s.lpf.loadedAt ? `, loaded ${s.lpf.loadedAt}` : ''}`)
  lines.push(...lpfDetails(s))
  lines.push(s.serving ? 'Serving.' : `NOT serving: ${s.reason ? `${s.reason.code}: ${s.reason.message}` : 'no valid LPF'}`)
  if (s.pendingError) lines.push(`Pending error: ${s.pendingError.code}: ${s.pendingError.message} (since ${s.pendingError.at}); the LPF above stays in force`)
  if (s.portError) lines.push(`Port error: ${s.portError.code}: ${s.portError.message}`)
  // [LEASE-10] grants and releases are refused until the store writes again
  if (s.storeError) lines.push(`Store error: ${s.storeError.code}: ${s.storeError.message} (since ${s.storeError.since})`)
  // [TLS-1] what a client pins, and until when
  if (s.tls) lines.push(`TLS: ${s.tls.subject}, SHA-256 fingerprint ${s.tls.fingerprint}, valid until ${s.tls.validTo}`)
  if (s.restored) lines.push(`Restored at start: ${s.restored} lease(s)`)
  if (s.packs.length > 0) {
    const expires = s.lpf?.expiration ?? ''
    lines.push(
      '',
      table(
        ['Pack', 'Limit', 'In use', 'Available', 'Waiting', 'Expires'],
        s.packs.map((p) => [p.name, p.limit, p.inUse, Math.max(0, p.limit - p.inUse), p.waiting, expires]),
      ),
    )
  }
  if (s.cluster) lines.push('', ...renderCluster(s.cluster))
  return lines.join('\n')
}

/** [HA-8] the nodes, their roles, when each was last seen, and which LPF each serves */
function renderCluster(c: ClusterStatus): string[] {
  const lines = [`Cluster: this node (${c.node}) is ${c.role === 'leader' ? `the leader${c.term ? `, term ${c.term}` : ''}` : `a standby; leader ${c.leader ?? 'not known yet'}`}`]
  if (c.nodes.length > 0) {
    lines.push(
      table(
        ['Host id', 'Address', 'Role', 'Last seen', 'LPF digest'],
        c.nodes.map((n) => [n.hostId, n.address, n.role, `${(n.lastSeenAgoMs / 1000).toFixed(1)} s ago`, n.lpfDigest ? n.lpfDigest.slice(0, 16) : '-']),
      ),
    )
  }
  if (c.warning) lines.push(`Warning: ${c.warning}`)
  return lines
}

/** [LPF-2] [HA-2] the grace clients are told (and the LPF's cap), a cluster LPF's hosts, the file's digest */
function lpfDetails(s: StatusAnswer): string[] {
  const lines: string[] = []
  if (s.graceMs !== undefined) {
    const cap = s.lpf?.grace !== undefined && s.lpf.grace !== s.graceMs ? ` (--grace; the LPF allows ${formatGrace(s.lpf.grace)})` : ''
    lines.push(`Grace: ${formatGrace(s.graceMs)}${cap}: a client cut off from the server keeps using its lease that long`)
  }
  if (s.lpf?.hosts && s.lpf.hosts.length > 1) {
    lines.push(`Cluster LPF hosts: ${s.lpf.hosts.map((h, i) => `${h.hostId}:${h.port}${i === 0 ? ' (main)' : ''}`).join(', ')}`)
  }
  if (s.lpf?.digest) lines.push(`LPF digest: sha256:${s.lpf.digest}`)
  return lines
}
