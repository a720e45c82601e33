// `flr serve --demo`: a demo vendor key pair kept in the state directory signs the sample LPF
// for this host, so `npm start` serves something without a real vendor.
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateVendorKeys, signLpf } from './vendor.js'

export interface DemoOptions {
  samplesDir: string
  stateDir: string
  licenseDir: string
  hostId: string
}

export interface DemoFiles {
  /** the demo vendor's public key: pass it as --vendor-key */
  vendorKeyPath: string
  lpfPath: string
}

export const DEMO_SAMPLE = 'niagara.xml'
const DEMO_PRIVATE_KEY = 'demo-vendor.key.pem'
const DEMO_PUBLIC_KEY = 'demo-vendor.pub.pem'

/** Creates the demo key pair once, then (re)signs the sample for `hostId` into licenseDir. */
export function prepareDemo(opts: DemoOptions): DemoFiles {
  const privateKeyPem = demoKeyPair(opts.stateDir)
  const source = readFileSync(join(opts.samplesDir, DEMO_SAMPLE), 'utf8')
  const signed = signLpf(forHost(source, opts.hostId), privateKeyPem)
  mkdirSync(opts.licenseDir, { recursive: true })
  const lpfPath = join(opts.licenseDir, `${opts.hostId}.lp`)
  // RSA PKCS#1 v1.5 signatures are deterministic: an unchanged file is not rewritten, so a
  // running server's watcher sees no event
  if (!existsSync(lpfPath) || readFileSync(lpfPath, 'utf8') !== signed) writeAtomically(lpfPath, signed)
  return { vendorKeyPath: join(opts.stateDir, DEMO_PUBLIC_KEY), lpfPath }
}

function demoKeyPair(stateDir: string): string {
  mkdirSync(stateDir, { recursive: true })
  const privatePath = join(stateDir, DEMO_PRIVATE_KEY)
  const publicPath = join(stateDir, DEMO_PUBLIC_KEY)
  if (!existsSync(privatePath)) {
    const keys = generateVendorKeys()
    writeFileSync(privatePath, keys.privateKeyPem, { mode: 0o600 })
    writeFileSync(publicPath, keys.publicKeyPem)
    return keys.privateKeyPem
  }
  const privateKeyPem = readFileSync(privatePath, 'utf8')
  chmodSync(privatePath, 0o600)
  if (!existsSync(publicPath)) {
    writeFileSync(publicPath, createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }) as string)
  }
  return privateKeyPem
}

/** the sample's <flr hostId="…"> set to this host ([LPF-7]) */
function forHost(source: string, hostId: string): string {
  const flr = /(<flr\b[^>]*?\bhostId=")[^"]*(")/
  if (!flr.test(source)) throw new Error(`${DEMO_SAMPLE} has no <flr hostId="…"> to fill in`)
  return source.replace(flr, `$1${hostId}$2`)
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, text)
  renameSync(tmp, path)
}
