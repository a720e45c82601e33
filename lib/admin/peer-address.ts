// Who a peer is, for the decisions made per address: the lock-out ([WIRE-8]), TLS_REQUIRED
// ([TLS-3]) and the per-address connection limit ([WIRE-10]).
import { isIP } from 'node:net'

/** One peer is one address whichever family it came in on: ::ffff:a.b.c.d is a.b.c.d. */
export function peerAddress(remoteAddress: string | undefined): string {
  const address = (remoteAddress ?? '?').replace(/%.*$/, '')
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address.toLowerCase()
}

/**
 * Loopback: 127.0.0.0/8 and ::1 (in any spelling), that is, a peer on the server host itself.
 * Anything unparsable is not loopback: a doubt never grants the host's privileges.
 */
export function isLoopback(address: string): boolean {
  const a = peerAddress(address)
  if (isIP(a) === 4) return a.startsWith('127.')
  if (isIP(a) === 6) return /^(0{0,4}:){2,7}0{0,3}1$/.test(a) || a === '::1'
  return false
}
