// A minimal DER writer: just the ASN.1 types an X.509 certificate needs (tls-cert.ts).
// Node can parse, sign and verify certificates but has no way to write one ([TLS-1] `auto`);
// the signing itself is node:crypto's, this only lays out bytes (X.690 definite lengths).

/** One encoded TLV. */
export type Der = Buffer

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

export function tlv(tag: number, content: Buffer): Der {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content])
}

export const sequence = (...items: Der[]): Der => tlv(0x30, Buffer.concat(items))
export const set = (...items: Der[]): Der => tlv(0x31, Buffer.concat(items))
export const octetString = (b: Buffer): Der => tlv(0x04, b)
export const utf8String = (s: string): Der => tlv(0x0c, Buffer.from(s, 'utf8'))
export const boolean = (v: boolean): Der => tlv(0x01, Buffer.from([v ? 0xff : 0x00]))
/** BIT STRING with no unused bits (a signature, a key) */
export const bitString = (b: Buffer): Der => tlv(0x03, Buffer.concat([Buffer.from([0]), b]))
/** [n] EXPLICIT: constructed context tag around one encoded value */
export const explicit = (n: number, inner: Der): Der => tlv(0xa0 | n, inner)
/** [n] IMPLICIT on a primitive: context tag over the raw content */
export const implicitPrimitive = (n: number, content: Buffer): Der => tlv(0x80 | n, content)

/** INTEGER from unsigned big-endian bytes: minimal, with a 0 byte when the top bit is set. */
export function unsignedInteger(b: Buffer): Der {
  let i = 0
  while (i < b.length - 1 && b[i] === 0) i++
  let content = b.subarray(i)
  if (content[0]! & 0x80) content = Buffer.concat([Buffer.from([0]), content])
  return tlv(0x02, content)
}

export const smallInteger = (n: number): Der => unsignedInteger(Buffer.from([n]))

export function oid(dotted: string): Der {
  const parts = dotted.split('.').map(Number)
  const bytes: number[] = [40 * parts[0]! + parts[1]!]
  for (const part of parts.slice(2)) {
    const group: number[] = [part & 0x7f]
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128)) group.unshift(0x80 | (v & 0x7f))
    bytes.push(...group)
  }
  return tlv(0x06, Buffer.from(bytes))
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, always in seconds, Z. */
export function time(d: Date): Der {
  const iso = d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z') // YYYYMMDDHHMMSSZ
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'ascii')) : tlv(0x18, Buffer.from(iso, 'ascii'))
}
