// The servers a client may talk to ([HA-6]): the list it was given, in order, grown by what
// the nodes say of each other in hello (`servers`, `leader`) and by `moving {host, port}`.

/** A server's address, `host:port` (an IPv6 host in brackets: `[::1]:19110`). */
export interface Address {
  host: string
  port: number
}

const ADDRESS = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/

/** `host:port` → its parts; undefined when it is not one (a port outside 1–65535 included). */
export function parseAddress(text: string): Address | undefined {
  const m = ADDRESS.exec(text)
  if (!m) return undefined
  const port = Number(m[3])
  if (port < 1 || port > 65535) return undefined
  return { host: m[1] ?? m[2]!, port }
}

export function formatAddress({ host, port }: Address): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** The known servers, in the order they are tried: the given ones first, learned ones after. */
export class ServerList {
  private readonly list: string[] = []

  constructor(initial: readonly string[]) {
    for (const text of initial) {
      if (!parseAddress(text)) throw new TypeError(`server "${text}" is not host:port`)
      this.add(text)
    }
    if (this.list.length === 0) throw new TypeError('no server to connect to')
  }

  get all(): readonly string[] {
    return this.list
  }

  /** Adds what is an address and not yet known; returns the new ones. Anything else is ignored. */
  learn(addresses: unknown): string[] {
    if (!Array.isArray(addresses)) return []
    return addresses.filter((a): a is string => typeof a === 'string' && parseAddress(a) !== undefined && this.add(a))
  }

  /** A server moved ([SRV-5] `moving` without a host): the old address is dead, the new one takes its place. */
  replace(old: string, next: string): void {
    const at = this.list.indexOf(old)
    if (this.list.includes(next)) {
      if (at >= 0 && old !== next) this.list.splice(at, 1)
    } else if (at >= 0) this.list[at] = next
    else this.list.push(next)
  }

  /**
   * The order of one round of attempts: the hint (a leader named by NOT_LEADER or hello, the
   * target of `moving`) first, then the list in order from the server after `current`, which
   * comes last: the one just lost is the one least likely to answer now.
   */
  candidates(hint: string | undefined, current: string | undefined): string[] {
    const at = current === undefined ? -1 : this.list.indexOf(current)
    const rotated = [...this.list.slice(at + 1), ...this.list.slice(0, at + 1)]
    return [...new Set(hint === undefined ? rotated : [hint, ...rotated])]
  }

  private add(address: string): boolean {
    if (this.list.includes(address)) return false
    this.list.push(address)
    return true
  }
}
