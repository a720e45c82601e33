// `flr inspect FILE.lp`: what an LPF says and whether it verifies. Vendors inspect files made
// for other hosts, so the host is checked only when --host-id is given.
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import type { Command } from 'commander'
import { CommandFailed, json, table, type CliIO } from '../io.js'
import { FlrError, isFlrError } from '../../errors.js'
import type { LicensePlan } from '../../lpf/plan.js'
import { loadLpfDetailed, readVendorKeys, vendorKeyFingerprint } from '../../lpf/load.js'
import { resolveHostId } from '../../lpf/host-id.js'
import { screenLpf } from '../../lpf/screen.js'
import { unverifiedContent } from '../../lpf/verify.js'
import { parsePlan } from '../../lpf/parse.js'
import { formatGrace } from '../../lpf/plan-rules.js'
import { forVendor } from '../../lpf/remedy.js'
import { createHash } from 'node:crypto'

interface InspectOptions {
  vendorKey?: string[]
  hostId?: string
  json?: boolean
}

interface Verdict {
  verified: boolean
  /** why it does not verify: an FlrError, or CommandFailed when there is no key to check with */
  error?: FlrError | CommandFailed
  vendorKey?: { path: string; fingerprint: string }
  plan?: LicensePlan
}

export function register(program: Command, io: CliIO): void {
  program
    .command('inspect')
    .description("print an LPF's contents and whether it verifies (exit 1 if it does not)")
    .argument('<file>', 'the license pack file (.lp)')
    .option('--vendor-key <file>', 'a vendor public key to verify with (repeatable)', (v: string, all: string[] | undefined) => [...(all ?? []), v])
    .option('--host-id <id>', 'also check the file is for this host and named <hostId>.lp, as a server would')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nWithout --vendor-key the contents are shown but cannot be verified (exit 1).\n\n' +
        'Examples:\n  flr inspect Lnx-7Q2M-K4DA-ZP9W-3HXE.lp --vendor-key acme.pub.pem\n' +
        '  flr inspect /var/lib/flr/licenses/$(flr host-id).lp --vendor-key acme.pub.pem --host-id $(flr host-id)\n' +
        '  flr inspect customer.lp --vendor-key acme.pub.pem --json',
    )
    .action((file: string, opts: InspectOptions) => inspect(file, opts, io))
}

function inspect(file: string, opts: InspectOptions, io: CliIO): void {
  const bytes = readLpf(file)
  const verdict = judge(file, bytes, opts)
  const plan = verdict.plan ?? claimsOf(bytes)
  if (opts.json) {
    io.out(json(jsonReport(file, verdict, plan, opts.hostId !== undefined)))
  } else {
    io.out(humanReport(file, verdict, plan, opts.hostId !== undefined).join('\n'))
  }
  if (verdict.error) throw verdict.error
}

function readLpf(file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (e) {
    throw new CommandFailed(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
}

function judge(file: string, bytes: Buffer, opts: InspectOptions): Verdict {
  const hostId = opts.hostId === undefined ? undefined : resolveHostId({ flag: opts.hostId }).hostId
  const paths = opts.vendorKey ?? []
  if (paths.length === 0) {
    return { verified: false, error: new CommandFailed(`${file} cannot be verified without --vendor-key: pass the vendor's public key (PREFIX.pub.pem)`) }
  }
  const keys = readVendorKeys(paths)
  try {
    const loaded = loadLpfDetailed(bytes, { vendorKeys: keys, hostId, fileName: hostId === undefined ? undefined : file })
    const key = keys[loaded.vendorKeyIndex]!
    return { verified: true, plan: loaded.plan, vendorKey: { path: paths[loaded.vendorKeyIndex]!, fingerprint: vendorKeyFingerprint(key) } }
  } catch (e) {
    // the vendor inspects files too: a remedy says what to do, never "ask the vendor" (issue 17)
    if (isFlrError(e)) return { verified: false, error: new FlrError(e.code, forVendor(e.message), { ...e.details }) }
    throw e
  }
}

/** What the file claims when it does not verify: shown, clearly marked, never trusted. */
function claimsOf(bytes: Buffer): LicensePlan | undefined {
  try {
    return parsePlan(unverifiedContent(screenLpf(bytes)), createHash('sha256').update(bytes).digest('hex'))
  } catch {
    return undefined
  }
}

function humanReport(file: string, verdict: Verdict, plan: LicensePlan | undefined, hostChecked: boolean): string[] {
  const lines: string[] = []
  if (verdict.verified) {
    lines.push(`Verified: signed by vendor key ${verdict.vendorKey!.path} (${verdict.vendorKey!.fingerprint})${hostChecked ? ', for this host' : ''}`)
  } else {
    const code = isFlrError(verdict.error) ? verdict.error.code : 'no --vendor-key'
    lines.push(`NOT VERIFIED (${code})${plan ? ': the contents below are what the file claims' : ''}`)
  }
  if (!plan) return lines
  lines.push(
    '',
    `File        ${file}`,
    `Vendor      ${plan.vendor}`,
    `Generated   ${plan.generated ?? '-'}`,
    `Expiration  ${plan.expiration}${plan.expiresAt === null ? '' : ` (valid until ${new Date(plan.expiresAt).toISOString()})`}`,
    ...hostLines(plan),
    `Grace       ${formatGrace(plan.grace)} (a client cut off from the server keeps using its lease that long; a server's --grace may shorten it)`,
    `Digest      sha256:${plan.digest}`,
    '',
    plan.packs.length === 0 ? 'No packs.' : table(['PACK', 'LIMIT'], plan.packs.map((p) => [p.name, p.limit])),
  )
  const names = plan.hosts.map((h) => `${h.hostId}.lp`)
  if (!hostChecked && !names.includes(basename(file))) {
    lines.push('', `Note: a server reads this file only if it is named ${names.length === 1 ? names[0] : `after its own host (${names.join(', ')})`} ([LPF-7])`)
  }
  if (plan.hosts.length > 1) {
    lines.push('', `A cluster LPF ([HA-2]): each host gets an identical copy named <hostId>.lp, and every node needs a shared store (--store postgres://…)`)
  }
  return lines
}

/** [LPF-2] [HA-2] one host, or a cluster LPF's hosts with the main first */
function hostLines(plan: LicensePlan): string[] {
  if (plan.hosts.length === 1) return [`Host id     ${plan.hostId}`, `Port        ${plan.port}`]
  return plan.hosts.map((h, i) => `${i === 0 ? 'Hosts      ' : '           '} ${h.hostId}  port ${h.port}${i === 0 ? '  (main)' : ''}`)
}

function jsonReport(file: string, verdict: Verdict, plan: LicensePlan | undefined, hostChecked: boolean): Record<string, unknown> {
  const error = verdict.error
  return {
    file,
    verified: verdict.verified,
    error: error ? (isFlrError(error) ? { code: error.code, message: error.message } : { code: null, message: error.message }) : null,
    vendorKey: verdict.vendorKey ?? null,
    hostChecked,
    lpf: plan
      ? {
          vendor: plan.vendor,
          generated: plan.generated,
          expiration: plan.expiration,
          expiresAt: plan.expiresAt === null ? null : new Date(plan.expiresAt).toISOString(),
          hostId: plan.hostId,
          port: plan.port,
          hosts: plan.hosts,
          grace: plan.grace,
          digest: plan.digest,
          packs: plan.packs.map((p) => ({ name: p.name, limit: p.limit, licenses: p.licenses })),
        }
      : null,
  }
}
