// `flr keygen --out PREFIX`: the vendor's signing key pair (RSA 3072).
import { chmodSync, existsSync, writeFileSync } from 'node:fs'
import { createPublicKey } from 'node:crypto'
import type { Command } from 'commander'
import { CommandFailed, json, type CliIO } from '../io.js'
import { generateVendorKeys } from '../../lpf/vendor.js'
import { vendorKeyFingerprint } from '../../lpf/load.js'

interface KeygenOptions {
  out: string
  force?: boolean
  json?: boolean
}

export function register(program: Command, io: CliIO): void {
  program
    .command('keygen')
    .description('make a vendor key pair: PREFIX.key.pem (private, 0600, signs LPFs) and PREFIX.pub.pem (public, for servers)')
    .requiredOption('--out <prefix>', 'write PREFIX.key.pem and PREFIX.pub.pem')
    .option('--force', 'overwrite existing files (the old private key is lost)')
    .option('--json', 'print the file names and the key fingerprint as JSON')
    .addHelpText(
      'after',
      '\nKeep PREFIX.key.pem secret: whoever has it can issue licenses. Give PREFIX.pub.pem to\n' +
        'every server that should trust your LPFs (flr serve --vendor-key PREFIX.pub.pem).\n\n' +
        'Examples:\n  flr keygen --out acme\n  flr keygen --out keys/acme-2026 --force',
    )
    .action((opts: KeygenOptions) => keygen(opts, io))
}

function keygen(opts: KeygenOptions, io: CliIO): void {
  const privatePath = `${opts.out}.key.pem`
  const publicPath = `${opts.out}.pub.pem`
  if (!opts.force) {
    const existing = [privatePath, publicPath].filter((p) => existsSync(p))
    if (existing.length > 0) {
      throw new CommandFailed(`${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}: choose another --out, or pass --force to replace the key pair (LPFs signed with the old key will no longer verify with the new public key)`)
    }
  }
  const keys = generateVendorKeys()
  try {
    writeFileSync(privatePath, keys.privateKeyPem, { mode: 0o600 })
    // mode only applies to a new file: a --force overwrite must not keep looser permissions
    chmodSync(privatePath, 0o600)
    writeFileSync(publicPath, keys.publicKeyPem)
  } catch (e) {
    throw new CommandFailed(`cannot write the key pair: ${(e as Error).message}`)
  }
  const fingerprint = vendorKeyFingerprint(createPublicKey(keys.publicKeyPem))
  if (opts.json) return io.out(json({ privateKey: privatePath, publicKey: publicPath, fingerprint }))
  io.out(`Wrote ${privatePath} (private: keep it secret, it signs LPFs)`)
  io.out(`Wrote ${publicPath} (public: servers trust it with --vendor-key)`)
  io.out(`Fingerprint ${fingerprint}`)
}
