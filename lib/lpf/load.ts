// Reading an LPF is a list of named steps (aedes style): each one either passes or throws an
// FlrError carrying an [LPF-8] code, so the first failing step names the rejection.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { FlrError } from '../errors.js'
import { parsePlan } from './parse.js'
import type { LicensePlan } from './plan.js'
import { screenLpf } from './screen.js'
import { verifyLpf, type VerifiedLpf } from './verify.js'

export interface LoadOptions {
  /** [LPF-5] the only keys a signature may verify with */
  vendorKeys: readonly KeyObject[]
  /** [LPF-7] this server's host id; omitted, the hostId attribute is not checked */
  hostId?: string
  /** [LPF-7] the file's name; given, it must be `<hostId attribute>.lp` */
  fileName?: string
  /** epoch ms for the expiry check ([LPF-1]); default Date.now() */
  now?: number
}

export interface LoadedLpf {
  readonly plan: LicensePlan
  /** index in `vendorKeys` of the key that verified the file */
  readonly vendorKeyIndex: number
}

interface LoadContext {
  readonly bytes: Buffer
  readonly opts: LoadOptions
  text?: string
  verified?: VerifiedLpf
  plan?: LicensePlan
}

type LoadStep = (ctx: LoadContext) => void

/** [LPF-6] screen first; values come only from what verify returns */
const screen: LoadStep = (ctx) => {
  ctx.text = screenLpf(ctx.bytes)
}

const verify: LoadStep = (ctx) => {
  ctx.verified = verifyLpf(ctx.text!, ctx.opts.vendorKeys)
}

const parse: LoadStep = (ctx) => {
  ctx.plan = parsePlan(ctx.verified!.signedContent, createHash('sha256').update(ctx.bytes).digest('hex'))
}

/**
 * [LPF-7] [HA-2] This server's host id is one of the file's hosts, and the file is named after it.
 * The plan then names this host and the port of its own `<flr>` element: each node of a cluster
 * binds its own port. Without a host to check (flr sign, flr inspect), a file name given picks
 * the host it names, else the main (first) host stays.
 */
const checkHost: LoadStep = (ctx) => {
  const { hostId, fileName } = ctx.opts
  const plan = ctx.plan!
  const listed = plan.hosts.map((h) => h.hostId)
  const issuedFor = listed.length === 1 ? `host ${listed[0]}` : `hosts ${listed.join(', ')}`
  if (hostId !== undefined && !listed.includes(hostId)) {
    throw new FlrError(
      'LPF_WRONG_HOST',
      `the license pack file is issued for ${issuedFor}, but this host is ${hostId}: ask the vendor for an LPF issued to ${hostId} (\`flr host-id\` prints it)`,
      { lpfHostId: plan.hostId, lpfHostIds: listed, hostId },
    )
  }
  let host = plan.hosts.find((h) => h.hostId === hostId) ?? plan.hosts[0]!
  if (fileName !== undefined) {
    const name = basename(fileName)
    const named = plan.hosts.find((h) => `${h.hostId}.lp` === name && (hostId === undefined || h.hostId === hostId))
    if (!named) {
      const expected = hostId !== undefined || listed.length === 1 ? `an LPF must be named ${host.hostId}.lp` : `each host's copy is named after it (${listed.map((id) => `${id}.lp`).join(', ')})`
      throw new FlrError('LPF_WRONG_HOST', `the file is named ${name} but is issued for ${issuedFor}: ${expected}`, { lpfHostId: plan.hostId, lpfHostIds: listed, fileName: name })
    }
    host = named
  }
  if (host.hostId !== plan.hostId) ctx.plan = Object.freeze({ ...plan, hostId: host.hostId, port: host.port })
}

/** [LPF-1] a date is valid to the end of that UTC day, a timestamp up to that instant */
const checkExpiry: LoadStep = (ctx) => {
  const { expiresAt, expiration } = ctx.plan!
  const now = ctx.opts.now ?? Date.now()
  if (expiresAt !== null && now >= expiresAt) {
    throw new FlrError(
      'LPF_EXPIRED',
      `the license pack file expired at ${new Date(expiresAt).toISOString()} (expiration="${expiration}"): ask the vendor for a renewed LPF`,
      { expiration, expiresAt },
    )
  }
}

export const LOAD_STEPS: readonly LoadStep[] = [screen, verify, parse, checkHost, checkExpiry]

/** Screens, verifies and parses an LPF; throws an FlrError with an [LPF-8] code. */
export function loadLpf(bytes: Buffer, opts: LoadOptions): LicensePlan {
  return loadLpfDetailed(bytes, opts).plan
}

/** loadLpf, also telling which vendor key verified the file (for `flr inspect`). */
export function loadLpfDetailed(bytes: Buffer, opts: LoadOptions): LoadedLpf {
  const ctx: LoadContext = { bytes, opts }
  for (const step of LOAD_STEPS) step(ctx)
  return { plan: ctx.plan!, vendorKeyIndex: ctx.verified!.vendorKeyIndex }
}

/** [LPF-5] Reads vendor public keys (PEM). Errors name the file and say what to pass instead. */
export function readVendorKeys(paths: readonly string[]): KeyObject[] {
  if (paths.length === 0) {
    throw new FlrError('USAGE', 'no vendor key given: pass --vendor-key with the vendor\'s public key file (PREFIX.pub.pem from `flr keygen`)')
  }
  return paths.map(readVendorKey)
}

function readVendorKey(path: string): KeyObject {
  let pem: string
  try {
    pem = readFileSync(path, 'utf8')
  } catch (e) {
    throw badKey(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`)
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw badKey(path, 'is a private key; the server needs the vendor\'s public key (PREFIX.pub.pem), and the private key never leaves the vendor')
  }
  let key: KeyObject
  try {
    key = createPublicKey(pem)
  } catch {
    throw badKey(path, 'is not a PEM public key; pass the PREFIX.pub.pem that `flr keygen` wrote')
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw badKey(path, `is a ${key.asymmetricKeyType ?? 'non-RSA'} key; LPF signatures are RSA ([LPF-4])`)
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
  if (bits < 2048) throw badKey(path, `is a ${bits}-bit RSA key; at least 2048 bits are required`)
  return key
}

function badKey(path: string, what: string): FlrError {
  return new FlrError('USAGE', `vendor key file ${path} ${what}`)
}

/** `SHA256:<base64>` of the key's SubjectPublicKeyInfo, to compare keys at a glance */
export function vendorKeyFingerprint(key: KeyObject): string {
  const der = (key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' })
  return `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`
}
