// `flr sign FILE.xml --key F`: the vendor signs an LPF source ([LPF-4]). The result is
// verified with loadLpf before it is written, so a vendor never ships a file servers refuse.
// A cluster source ([HA-2]) gets one identical copy per host, each named after its host ([LPF-7]).
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Option, type Command } from 'commander'
import { CommandFailed, json, type CliIO } from '../io.js'
import { FlrError, isFlrError } from '../../errors.js'
import { screenLpf } from '../../lpf/screen.js'
import { signatureCount } from '../../lpf/verify.js'
import { signLpf } from '../../lpf/vendor.js'
import { loadLpf } from '../../lpf/load.js'
import { formatGrace } from '../../lpf/plan-rules.js'
import type { LicensePlan } from '../../lpf/plan.js'
import { forVendor } from '../../lpf/remedy.js'
import type { HashName } from '../../lpf/dsig.js'

interface SignOptions {
  key: string
  out?: string
  digest: HashName
  force?: boolean
  json?: boolean
}

/** one signed copy: where it goes and which host reads it */
interface Output {
  file: string
  hostId: string
  port: number
}

export function register(program: Command, io: CliIO): void {
  program
    .command('sign')
    .description('sign an LPF source with the vendor private key; writes <hostId>.lp beside it (one per host for a cluster LPF)')
    .argument('<file>', 'the LPF source, XML (see lpf-samples/niagara.xml)')
    .requiredOption('--key <file>', 'the vendor private key (PREFIX.key.pem from flr keygen)')
    .option('--out <path>', 'write the signed LPF to this file, or as <hostId>.lp into this directory (a cluster LPF: always a directory)')
    .addOption(new Option('--digest <hash>', 'digest and RSA signature hash').choices(['sha256', 'sha512']).default('sha256'))
    .option('--force', 'replace signed files that already exist')
    .option('--json', 'print what was written as JSON')
    .addHelpText(
      'after',
      '\nThe signed file is checked as a server would check it (format, signature, expiry) before\n' +
        'it is written; the host id check is left to the customer\'s server. A source with several\n' +
        '<flr hostId port/> elements (a cluster LPF, two to five hosts) is written once per host,\n' +
        'identical copies named <hostId>.lp, one for each node. An existing file is never replaced\n' +
        'without --force.\n\n' +
        'Examples:\n  flr sign lpf-samples/niagara.xml --key acme.key.pem\n  flr sign customer.xml --key acme.key.pem --out out/Lnx-7Q2M-K4DA-ZP9W-3HXE.lp\n' +
        '  flr sign cluster.xml --key acme.key.pem --out out/',
    )
    .action((file: string, opts: SignOptions) => sign(file, opts, io))
}

function sign(file: string, opts: SignOptions, io: CliIO): void {
  const source = readSource(file)
  const privateKey = readPrivateKey(opts.key)
  const signed = signLpf(source, privateKey, { digest: opts.digest })
  let plan: LicensePlan
  try {
    plan = loadLpf(Buffer.from(signed, 'utf8'), { vendorKeys: [createPublicKey(privateKey)] })
  } catch (e) {
    if (isFlrError(e)) throw new FlrError(e.code, `${file} was not signed: ${forVendor(e.message)}`, { ...e.details })
    throw e
  }
  const outputs = outputsFor(file, plan, opts.out)
  write(outputs, signed, opts.force === true)
  const summary = {
    file: outputs[0]!.file,
    files: outputs,
    vendor: plan.vendor,
    hostId: plan.hostId,
    port: plan.port,
    hosts: plan.hosts,
    expiration: plan.expiration,
    grace: plan.grace,
    packs: plan.packs.length,
    digest: plan.digest,
  }
  if (opts.json) return io.out(json(summary))
  const what = `${plan.packs.length} pack${plan.packs.length === 1 ? '' : 's'}, expiration ${plan.expiration}, grace ${formatGrace(plan.grace)}`
  if (outputs.length === 1) {
    io.out(`Signed ${file} → ${outputs[0]!.file}`)
    io.out(`  for host ${plan.hostId}, port ${plan.port}, ${what}`)
    io.out(`  give ${outputs[0]!.file} to the customer: their admin puts it in the server's license directory`)
    return
  }
  io.out(`Signed ${file}: a cluster LPF for ${outputs.length} hosts, ${what}`)
  io.out(`  ${outputs.length} identical copies, one per node; the customer's admin puts each in the license directory of its host:`)
  for (const [i, o] of outputs.entries()) {
    io.out(`    ${o.file} → the server whose \`flr host-id\` is ${o.hostId} (port ${o.port}${i === 0 ? ', the main host' : ''})`)
  }
  io.out('  every node must run with the same --store postgres://… (a shared store): on the default LMDB store a cluster LPF is refused (LPF_NEEDS_SHARED_STORE)')
}

/** [LPF-7] [HA-2] each host's copy is named after it: beside the source, or in --out */
function outputsFor(file: string, plan: LicensePlan, out: string | undefined): Output[] {
  const isDir = out !== undefined && (/[/\\]$/.test(out) || (existsSync(out) && statSync(out).isDirectory()))
  if (plan.hosts.length === 1 && out !== undefined && !isDir) return [{ file: out, hostId: plan.hostId, port: plan.port }]
  if (out !== undefined && !isDir && existsSync(out)) {
    throw new CommandFailed(`--out ${out} is a file, but a cluster LPF is written as one <hostId>.lp per host: give --out a directory`, 2)
  }
  const dir = out ?? dirname(file)
  return plan.hosts.map((h) => ({ file: join(dir, `${h.hostId}.lp`), hostId: h.hostId, port: h.port }))
}

/** issue 17: an existing signed file is replaced only with --force; nothing is written unless all can be */
function write(outputs: readonly Output[], signed: string, force: boolean): void {
  if (!force) {
    const existing = outputs.filter((o) => existsSync(o.file)).map((o) => o.file)
    if (existing.length > 0) {
      throw new CommandFailed(`${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}: pass --force to replace ${existing.length === 1 ? 'it' : 'them'}, or choose another --out; nothing was written`)
    }
  }
  for (const o of outputs) {
    try {
      mkdirSync(dirname(o.file), { recursive: true })
      // 'wx' fails if the file appeared meanwhile: no silent overwrite even then
      writeFileSync(o.file, signed, { flag: force ? 'w' : 'wx' })
    } catch (e) {
      throw new CommandFailed(`cannot write ${o.file}: ${(e as Error).message}`)
    }
  }
}

function readSource(file: string): string {
  let bytes: Buffer
  try {
    bytes = readFileSync(file)
  } catch (e) {
    throw new CommandFailed(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  let text: string
  try {
    text = screenLpf(bytes)
    if (signatureCount(text) > 0) throw new CommandFailed(`${file} is already signed: sign the unsigned XML source instead`)
  } catch (e) {
    if (isFlrError(e)) throw new FlrError(e.code, `${file} cannot be signed: ${forVendor(e.message)}`)
    throw e
  }
  return text
}

function readPrivateKey(path: string): KeyObject {
  let pem: string
  try {
    pem = readFileSync(path, 'utf8')
  } catch (e) {
    throw new CommandFailed(`cannot read --key ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
  } catch {
    const hint = /PUBLIC KEY/.test(pem) ? ': it is a public key; sign with PREFIX.key.pem, not PREFIX.pub.pem' : ' (flr keygen writes one)'
    throw new CommandFailed(`--key ${path} is not a PEM private key${hint}`)
  }
  if (key.asymmetricKeyType !== 'rsa') throw new CommandFailed(`--key ${path} is a ${key.asymmetricKeyType} key; LPFs are signed with RSA (flr keygen)`)
  return key
}
