// `flr sign FILE.xml --key F`: the vendor signs an LPF source ([LPF-4]). The result is
// verified with loadLpf before it is written, so a vendor never ships a file servers refuse.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Option, type Command } from 'commander'
import { CommandFailed, json, type CliIO } from '../io.js'
import { FlrError, isFlrError } from '../../errors.js'
import { screenLpf } from '../../lpf/screen.js'
import { signatureCount } from '../../lpf/verify.js'
import { signLpf } from '../../lpf/vendor.js'
import { loadLpf } from '../../lpf/load.js'
import type { HashName } from '../../lpf/dsig.js'

interface SignOptions {
  key: string
  out?: string
  digest: HashName
  json?: boolean
}

export function register(program: Command, io: CliIO): void {
  program
    .command('sign')
    .description('sign an LPF source with the vendor private key; writes <hostId>.lp beside it')
    .argument('<file>', 'the LPF source, XML (see lpf-samples/niagara.xml)')
    .requiredOption('--key <file>', 'the vendor private key (PREFIX.key.pem from flr keygen)')
    .option('--out <file>', 'write the signed LPF here (default: <hostId>.lp in the directory of FILE)')
    .addOption(new Option('--digest <hash>', 'digest and RSA signature hash').choices(['sha256', 'sha512']).default('sha256'))
    .option('--json', 'print what was written as JSON')
    .addHelpText(
      'after',
      '\nThe signed file is checked as a server would check it (format, signature, expiry) before\n' +
        'it is written; the host id check is left to the customer\'s server.\n\n' +
        'Examples:\n  flr sign lpf-samples/niagara.xml --key acme.key.pem\n  flr sign customer.xml --key acme.key.pem --out out/Lnx-7Q2M-K4DA-ZP9W-3HXE.lp',
    )
    .action((file: string, opts: SignOptions) => sign(file, opts, io))
}

function sign(file: string, opts: SignOptions, io: CliIO): void {
  const source = readSource(file)
  const privateKey = readPrivateKey(opts.key)
  const signed = signLpf(source, privateKey, { digest: opts.digest })
  let plan
  try {
    plan = loadLpf(Buffer.from(signed, 'utf8'), { vendorKeys: [createPublicKey(privateKey)] })
  } catch (e) {
    if (isFlrError(e)) throw new FlrError(e.code, `${file} was not signed: ${e.message}`, { ...e.details })
    throw e
  }
  const out = opts.out ?? join(dirname(file), `${plan.hostId}.lp`)
  try {
    writeFileSync(out, signed)
  } catch (e) {
    throw new CommandFailed(`cannot write ${out}: ${(e as Error).message}`)
  }
  const summary = { file: out, vendor: plan.vendor, hostId: plan.hostId, port: plan.port, expiration: plan.expiration, packs: plan.packs.length, digest: plan.digest }
  if (opts.json) return io.out(json(summary))
  io.out(`Signed ${file} → ${out}`)
  io.out(`  for host ${plan.hostId}, port ${plan.port}, ${plan.packs.length} pack${plan.packs.length === 1 ? '' : 's'}, expiration ${plan.expiration}`)
  io.out(`  give ${out} to the customer: their admin puts it in the server's license directory`)
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
    if (isFlrError(e)) throw new FlrError(e.code, `${file} cannot be signed: ${e.message}`)
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
