// Option values checked before anything starts: a bad one is a usage error (exit 2) whose
// message names the option, never a stack trace from deep inside the daemon.
import { isIP } from 'node:net'
import { CommandFailed } from './io.js'
import { formatDuration, parseDuration } from '../util/duration.js'

/** [LEASE-3] a lease lives at least 1 s (clients renew at TTL/3) and at most 1 h (a crashed holder's seat comes back within it) */
export const LEASE_TTL_BOUNDS = { min: 1_000, max: 3_600_000 }
/** [LPF-2] the grace a server advertises: 0 (none) up to the 30 d an LPF may allow */
export const GRACE_BOUNDS = { min: 0, max: 30 * 86_400_000 }
/** [HA-3] --leader-ttl and --leader-renew: 100 ms to 1 min (renew < TTL/2 is checked apart) */
export const LEADER_TIME_BOUNDS = { min: 100, max: 60_000 }

export function durationOption(text: string, flag: string, bounds: { min: number; max: number }): number {
  let ms: number
  try {
    ms = parseDuration(text)
  } catch (e) {
    throw new CommandFailed(`${flag}: ${(e as Error).message}`, 2)
  }
  if (ms < bounds.min || ms > bounds.max) {
    throw new CommandFailed(`${flag}: ${text} is out of range: from ${formatDuration(bounds.min)} to ${formatDuration(bounds.max)}`, 2)
  }
  return ms
}

export function portOption(text: string, flag: string, min = 0): number {
  const n = /^\d{1,5}$/.test(text.trim()) ? Number(text) : NaN
  if (!Number.isInteger(n) || n < min || n > 65535) throw new CommandFailed(`${flag}: "${text}" is not a port (${min}-65535)`, 2)
  return n
}

export function countOption(text: string, flag: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN
  if (!Number.isSafeInteger(n) || n < 1) throw new CommandFailed(`${flag}: "${text}" is not a positive whole number`, 2)
  return n
}

/**
 * An address to listen on: an IPv4 or IPv6 literal, or a host name. Something shaped like an
 * IPv4 address that is not one (999.1.1.1) is refused here, not by listen(2) later.
 */
export function bindOption(text: string, flag = '--bind'): string {
  const host = text.trim()
  if (isIP(host) !== 0) return host
  const hostName = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/
  if (/^[\d.]+$/.test(host) || !hostName.test(host)) {
    throw new CommandFailed(`${flag}: "${text}" is not an IP address or host name to listen on (e.g. 0.0.0.0, 127.0.0.1, ::)`, 2)
  }
  return host
}
