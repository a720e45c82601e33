// [TLS-1] Certificates flr makes itself: the `--tls-cert auto` one (self-signed for this host)
// and, in tests, a small CA and the server certificates it signs. ECDSA P-256 with SHA-256:
// the key is made and the certificate signed by node:crypto; der.ts only lays out the bytes.
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto'
import { isIP } from 'node:net'
import { bitString, boolean, explicit, implicitPrimitive, octetString, oid, sequence, set, smallInteger, time, unsignedInteger, utf8String, type Der } from '../util/der.js'

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'
const COMMON_NAME = '2.5.4.3'
const ORGANIZATION = '2.5.4.10'

export interface CertificateRequest {
  /** the subject's common name */
  commonName: string
  /** subjectAltName entries: IP addresses and DNS names (what a client checks the host against) */
  altNames?: string[]
  /** a CA certificate (basicConstraints cA, keyCertSign) */
  ca?: boolean
  validFrom?: Date
  validDays: number
  /** signs with this CA (PEM certificate and key); self-signed when absent */
  issuer?: { cert: string; key: string }
}

export interface MadeCertificate {
  /** PEM */
  cert: string
  /** PEM, PKCS#8 */
  key: string
}

/** Makes a key pair and a certificate for it. */
export function makeCertificate(req: CertificateRequest): MadeCertificate {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const spki = publicKey.export({ type: 'spki', format: 'der' })
  const subject = name(req.commonName)
  const issuerCert = req.issuer ? new X509Certificate(req.issuer.cert) : undefined
  const issuerKey: KeyObject | string = req.issuer ? req.issuer.key : privateKey
  const issuerName = issuerCert ? issuerCert.raw.subarray(...subjectRange(issuerCert.raw)) : subject
  const issuerSpki = issuerCert ? issuerCert.publicKey.export({ type: 'spki', format: 'der' }) : spki
  const from = req.validFrom ?? new Date(Date.now() - 60_000)
  const until = new Date(from.getTime() + req.validDays * 86_400_000)
  const algorithm = sequence(oid(ECDSA_WITH_SHA256))
  const extensions = [
    extension('2.5.29.19', true, req.ca ? sequence(boolean(true)) : sequence()),
    // digitalSignature (bit 0) for a server; keyCertSign (5) and cRLSign (6) for a CA
    extension('2.5.29.15', true, req.ca ? keyUsage(0x06) : keyUsage(0x80)),
    extension('2.5.29.14', false, octetString(keyId(spki))),
    extension('2.5.29.35', false, sequence(implicitPrimitive(0, keyId(issuerSpki)))),
  ]
  if (!req.ca) extensions.push(extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))))
  if (req.altNames?.length) extensions.push(extension('2.5.29.17', false, sequence(...req.altNames.map(generalName))))
  const serial = randomBytes(16)
  serial[0]! &= 0x7f
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serial),
    algorithm,
    issuerName,
    sequence(time(from), time(until)),
    subject,
    spki,
    explicit(3, sequence(...extensions)),
  )
  const signature = sign('sha256', tbs, issuerKey)
  const der = sequence(tbs, algorithm, bitString(signature))
  return { cert: pem('CERTIFICATE', der), key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }
}

/** What `status` and the log show of a certificate ([TLS-1]). */
export interface CertificateFacts {
  subject: string
  /** SHA-256 of the DER certificate, as AB:CD:…, the form the client's --tls-fingerprint accepts */
  fingerprint: string
  validFrom: string
  validTo: string
}

export function certificateFacts(certPem: string): CertificateFacts {
  const x = new X509Certificate(certPem)
  return {
    subject: x.subject.replace(/\n/g, ', '),
    fingerprint: x.fingerprint256,
    validFrom: new Date(x.validFrom).toISOString(),
    validTo: new Date(x.validTo).toISOString(),
  }
}

function name(commonName: string): Der {
  return sequence(set(sequence(oid(ORGANIZATION), utf8String('flr'))), set(sequence(oid(COMMON_NAME), utf8String(commonName))))
}

function extension(id: string, critical: boolean, value: Der): Der {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value))
}

/** KeyUsage BIT STRING of one byte; unused trailing bits counted so that DER stays minimal */
function keyUsage(bits: number): Der {
  let unused = 0
  while (unused < 7 && ((bits >> unused) & 1) === 0) unused++
  return Buffer.from([0x03, 0x02, unused, bits])
}

/** RFC 5280 4.2.1.2 method 1 would hash the key bits only; any stable 160-bit id will do */
function keyId(spki: Buffer): Buffer {
  return createHash('sha1').update(spki).digest()
}

function generalName(alt: string): Der {
  const family = isIP(alt)
  if (family === 4) return implicitPrimitive(7, Buffer.from(alt.split('.').map(Number)))
  if (family === 6) return implicitPrimitive(7, ipv6Bytes(alt))
  return implicitPrimitive(2, Buffer.from(alt, 'ascii'))
}

function ipv6Bytes(text: string): Buffer {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined]
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : [])
  const h = groups(head)
  const t = groups(tail)
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t]
  const out = Buffer.alloc(16)
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2))
  return out
}

/** The [start, end) of the subject Name inside a DER certificate: the issuer of what it signs. */
function subjectRange(der: Buffer): [number, number] {
  // Certificate SEQUENCE → tbsCertificate SEQUENCE → [0] version, serial, algorithm, issuer, validity, subject
  let pos = headerEnd(der, 0)
  pos = headerEnd(der, pos)
  for (let i = 0; i < 5; i++) pos = elementEnd(der, pos)
  return [pos, elementEnd(der, pos)]
}

function headerEnd(der: Buffer, at: number): number {
  const first = der[at + 1]!
  return at + 2 + (first & 0x80 ? first & 0x7f : 0)
}

function elementEnd(der: Buffer, at: number): number {
  const first = der[at + 1]!
  if (!(first & 0x80)) return at + 2 + first
  const n = first & 0x7f
  let len = 0
  for (let i = 0; i < n; i++) len = len * 256 + der[at + 2 + i]!
  return at + 2 + n + len
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`
}
