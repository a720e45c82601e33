// [HOST-1] [HOST-2] This machine's identity, the name an LPF is issued to.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { networkInterfaces } from 'node:os'
import { FlrError } from '../errors.js'

/** [HOST-1] `Lnx-` and four groups of four RFC 4648 base32 characters */
export const HOST_ID_PATTERN = /^Lnx-([A-Z2-7]{4}-){3}[A-Z2-7]{4}$/

/** Where the identity comes from, in [HOST-1] order; injected in tests. */
export interface HostIdSources {
  machineId(): string | undefined
  productUuid(): string | undefined
  macAddresses(): string[]
}

export const systemHostIdSources: HostIdSources = {
  machineId: () => readTrimmed('/etc/machine-id'),
  productUuid: () => readTrimmed('/sys/class/dmi/id/product_uuid'),
  macAddresses: () =>
    Object.values(networkInterfaces())
      .flatMap((addresses) => addresses ?? [])
      .filter((a) => !a.internal)
      .map((a) => a.mac),
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** [HOST-1] the host id from the first identity source that exists */
export function computeHostId(sources: HostIdSources = systemHostIdSources): string {
  const identity = sources.machineId() || sources.productUuid() || macIdentity(sources.macAddresses())
  if (!identity) {
    throw new FlrError(
      'USAGE',
      'cannot compute a host id: this machine has no /etc/machine-id, no readable /sys/class/dmi/id/product_uuid and no network interface with a MAC address; give one with --host-id or FLR_HOST_ID',
    )
  }
  return hostIdOf(identity)
}

/** [HOST-1] `Lnx-` + the first 80 bits of SHA-256(identity) in base32, grouped by four */
export function hostIdOf(identity: string): string {
  const chars = base32(createHash('sha256').update(identity, 'utf8').digest().subarray(0, 10))
  return `Lnx-${chars.match(/.{4}/g)!.join('-')}`
}

/**
 * [HOST-2] `--host-id` (flag) wins over FLR_HOST_ID (env), which wins over the computed id.
 * `overridden` tells the caller to warn that the machine's own identity is not in use.
 */
export function resolveHostId(
  override: { flag?: string; env?: string },
  compute: () => string = computeHostId,
): { hostId: string; overridden: boolean } {
  if (override.flag !== undefined) return { hostId: checkOverride(override.flag, '--host-id'), overridden: true }
  if (override.env) return { hostId: checkOverride(override.env, 'FLR_HOST_ID'), overridden: true }
  return { hostId: compute(), overridden: false }
}

function checkOverride(value: string, source: string): string {
  const trimmed = value.trim()
  if (HOST_ID_PATTERN.test(trimmed)) return trimmed
  const suggestion = `Lnx-${trimmed.slice(4).toUpperCase()}`
  const hint = /^lnx-/i.test(trimmed) && HOST_ID_PATTERN.test(suggestion) ? ` (did you mean ${suggestion}?)` : ''
  throw new FlrError(
    'USAGE',
    `${source} "${value}" is not a host id${hint}: a host id looks like Lnx-7Q2M-K4DA-ZP9W-3HXE (four groups of A-Z and 2-7); run \`flr host-id\` on the server to get it`,
  )
}

function macIdentity(macs: string[]): string {
  const real = [...new Set(macs.map((m) => m.toLowerCase()))].filter((m) => m !== '' && !/^[0:]*$/.test(m))
  return real.sort().join('\n')
}

function readTrimmed(path: string): string | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim()
    // systemd writes "uninitialized" until first boot completes: not an identity
    return text === '' || text === 'uninitialized' ? undefined : text
  } catch {
    return undefined
  }
}

function base32(bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff
    bits += 8
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31]
  return out
}
