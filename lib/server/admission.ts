// [WIRE-10] Who may open one more connection: at most --max-connections in all and at most
// --max-connections-per-address from one peer address, so that one host cannot take every
// slot (10,000 idle connections from one peer made every other client get SERVER_BUSY).
import type { Socket } from 'node:net'
import { FlrError } from '../errors.js'

export class Admission {
  private total = 0
  private readonly perAddress = new Map<string, number>()

  constructor(
    private readonly maxConnections: number,
    private readonly maxPerAddress: number,
  ) {}

  /** Counts the socket in and returns a function that counts it out; or the SERVER_BUSY to refuse it with. */
  admit(socket: Socket): (() => void) | FlrError {
    if (this.total >= this.maxConnections) {
      return new FlrError('SERVER_BUSY', `the server is at its limit of ${this.maxConnections} connections; try again later`)
    }
    const address = addressOf(socket)
    const held = this.perAddress.get(address) ?? 0
    if (held >= this.maxPerAddress) {
      return new FlrError('SERVER_BUSY', `the server is at its limit of ${this.maxPerAddress} connections from ${address}; close some, or try again later`, { limit: this.maxPerAddress })
    }
    this.total++
    this.perAddress.set(address, held + 1)
    let counted = true
    return () => {
      if (!counted) return
      counted = false
      this.total--
      const left = this.perAddress.get(address)! - 1
      if (left === 0) this.perAddress.delete(address)
      else this.perAddress.set(address, left)
    }
  }
}

/** One peer is one address whichever family it came in on (an IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d). */
function addressOf(socket: Socket): string {
  const address = socket.remoteAddress ?? '?'
  return address.startsWith('::ffff:') ? address.slice(7) : address
}
