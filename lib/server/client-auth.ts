// Client authentication (docs/security.md): with --client-token-file, every lease op needs a
// connection whose hello presented one of the site's tokens, and a holder's lease is tied to
// the identity (the token's name) that took it: another identity naming that holder, or
// renewing or releasing that lease by its id, gets HOLDER_TAKEN instead of the lease.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { FlrError } from '../errors.js'
import type { SeatEngine } from '../engine/engine.js'

/** a token shorter than this is a password, not a site secret */
export const MIN_TOKEN_LENGTH = 16

/** token (by its SHA-256) → identity. Lines: `NAME TOKEN`, or `TOKEN` alone (identity "site"); `#` comments. */
export function readClientTokens(file: string): Map<string, string> {
  const tokens = new Map<string, string>()
  readFileSync(file, 'utf8').split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim()
    if (!line) return
    const parts = line.split(/\s+/)
    if (parts.length > 2) throw new FlrError('USAGE', `${file} line ${i + 1}: give NAME TOKEN or TOKEN`)
    const [name, token] = parts.length === 2 ? parts : ['site', parts[0]!]
    if (token!.length < MIN_TOKEN_LENGTH) throw new FlrError('USAGE', `${file} line ${i + 1}: a token has at least ${MIN_TOKEN_LENGTH} characters`)
    tokens.set(digest(token!), name!)
  })
  if (tokens.size === 0) throw new FlrError('USAGE', `${file} holds no token`)
  return tokens
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export class ClientAuth {
  /** `${pack}\n${holder}` → who took its lease, and which lease */
  private readonly holders = new Map<string, { identity: string; lease: string }>()
  /** lease id → who took it */
  private readonly leases = new Map<string, string>()
  private sweepAt = 2_048

  constructor(
    private readonly tokens: Map<string, string>,
    private readonly engine: Pick<SeatEngine, 'get'>,
  ) {}

  /** At hello: the identity of `token`; undefined when none was given; AUTH_FAILED for an unknown one. */
  identify(token: string | undefined): string | undefined {
    if (token === undefined) return undefined
    // looked up by digest: no comparison of the secret itself, byte by byte
    const identity = this.tokens.get(digest(token))
    if (identity === undefined) throw new FlrError('AUTH_FAILED', 'the client token in hello is not one of this server\'s: check FLR_CLIENT_TOKEN (or the token option of the library)')
    return identity
  }

  /** Before `lease`: a token is required, and the holder's lease (if any) must be this identity's. */
  admitLease(identity: string | undefined, pack: string, holder: string): string {
    const who = required(identity)
    const tie = this.holders.get(`${pack}\n${holder}`)
    if (tie && tie.identity !== who && this.engine.get(tie.lease)) {
      throw new FlrError('HOLDER_TAKEN', `holder ${holder} of ${pack} holds its lease under another client identity: choose another holder name`)
    }
    return who
  }

  granted(identity: string, pack: string, holder: string, lease: string): void {
    this.holders.set(`${pack}\n${holder}`, { identity, lease })
    this.leases.set(lease, identity)
    this.sweep()
  }

  /**
   * Before `renew`/`release`: a token is required, and a lease taken by another identity is refused.
   * A lease with no tie (restored after a restart: ties are kept in memory) is claimed by the first identity to renew it.
   */
  admitLeaseId(identity: string | undefined, lease: string): void {
    const who = required(identity)
    const owner = this.leases.get(lease)
    if (owner === undefined) {
      if (this.engine.get(lease)) this.leases.set(lease, who)
      return
    }
    if (owner !== who && this.engine.get(lease)) throw new FlrError('HOLDER_TAKEN', 'this lease was taken under another client identity')
  }

  /** ties of leases that ended go, once there are many: the maps stay as big as the leases held */
  private sweep(): void {
    if (this.leases.size < this.sweepAt) return
    for (const lease of this.leases.keys()) if (!this.engine.get(lease)) this.leases.delete(lease)
    for (const [key, tie] of this.holders) if (!this.engine.get(tie.lease)) this.holders.delete(key)
    this.sweepAt = Math.max(2_048, 2 * this.leases.size)
  }
}

function required(identity: string | undefined): string {
  if (identity === undefined) throw new FlrError('CLIENT_TOKEN_REQUIRED', 'this server requires a client token for lease operations: set FLR_CLIENT_TOKEN (or the token option of the library)')
  return identity
}
