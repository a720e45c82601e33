// [LEASE-4] A lease id is a bearer credential: whoever reads it can renew or release the seat,
// over TCP or HTTP. What a support bundle copies (logs, access logs, status) names lease ids,
// so each is replaced by a stable pseudonym: support can still follow one lease across files,
// but holds no credential.

/**
 * A maximal run of base64url characters or %XX escapes: an access-log path holds the id as the
 * client sent it, which may be percent-encoded (`/request/%2DAbc…`), and the id must not leak
 * through its escapes either.
 */
const RUN = /(?:[A-Za-z0-9_-]|%[0-9A-Fa-f]{2})+/g

/**
 * 128 random bits in base64url: 22 characters, the last one carrying 2 bits (its other 4 are
 * zero), so it is one of A, Q, g, w. That last rule keeps most other 22-character words (a pack
 * or client name) out; one that still matches is redacted too, which loses nothing secret.
 */
const LEASE_ID = /^[A-Za-z0-9_-]{21}[AQgw]$/

/** Pseudonyms numbered in order of first sight; one instance for a whole bundle, so they agree across files. */
export class LeaseRedactor {
  private readonly names = new Map<string, string>()

  /** `text` with every lease id, plain or percent-encoded, replaced by `<lease-N>`. */
  redact(text: string): string {
    return text.replace(RUN, (run) => {
      if (run.length < 22) return run
      const id = run.includes('%') ? decodeEscapes(run) : run
      return LEASE_ID.test(id) ? this.nameOf(id) : run
    })
  }

  /**
   * Bytes in, bytes out. Read as latin1 so that every byte maps to one character and back: what
   * is not ASCII (a UTF-8 client name, a damaged line) passes through unchanged, and an id is ASCII.
   */
  redactBytes(data: Buffer): Buffer {
    return Buffer.from(this.redact(data.toString('latin1')), 'latin1')
  }

  /** how many distinct lease ids were replaced */
  get count(): number {
    return this.names.size
  }

  private nameOf(id: string): string {
    let name = this.names.get(id)
    if (name === undefined) {
      name = `<lease-${this.names.size + 1}>`
      this.names.set(id, name)
    }
    return name
  }
}

/** %XX escapes decoded byte by byte; an escape that is not a base64url character stays as is and fails the test. */
function decodeEscapes(run: string): string {
  return run.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16))
    return /[A-Za-z0-9_-]/.test(ch) ? ch : escape
  })
}
