// The vendor's side of an LPF: keys, the XML source, the enveloped signature ([LPF-4]).
// Deliberately permissive: tests use these to build broken LPFs too, so nothing here
// validates; `flr sign` verifies its own output with loadLpf before writing it.
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { SignedXml } from 'xml-crypto'
import { ExclusiveC14nAlgorithm } from './c14n.js'
import { EXC_C14N, REFERENCE_TRANSFORMS, digestMethodUri, signatureMethodUri, type HashName } from './dsig.js'

export interface VendorKeyPair {
  /** PKCS#8 PEM: stays with the vendor */
  readonly privateKeyPem: string
  /** SPKI PEM: what servers get as --vendor-key */
  readonly publicKeyPem: string
}

export interface LpfSpec {
  vendor: string
  /** YYYY-MM-DD; omitted, no attribute */
  generated?: string
  /** YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or never */
  expiration: string
  /** the main (first) `<flr>` */
  hostId: string
  port: number | string
  /** [HA-2] the other hosts of a cluster LPF, each one more `<flr>` after the main */
  otherHosts?: readonly { hostId: string; port: number | string }[]
  /** [LPF-2] the `grace` attribute as written (`7d`); omitted, no attribute */
  grace?: string
  packs: readonly PackSpec[]
}

export interface PackSpec {
  name: string
  limit: number | string
  /** the `<licenses>…</licenses>` element, or just its content; default an empty one */
  licenses?: string
}

/** RSA 3072 ([SPEC 9] `flr keygen`) */
export function generateVendorKeys(): VendorKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 3072,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
  return { privateKeyPem: privateKey, publicKeyPem: publicKey }
}

/** The unsigned XML of an LPF ([LPF-1]–[LPF-3]); values are escaped, `licenses` is inserted as is. */
export function buildLpfXml(spec: LpfSpec): string {
  const lpfAttrs = attrs([
    ['vendor', spec.vendor],
    ['generated', spec.generated],
    ['expiration', spec.expiration],
    ['grace', spec.grace],
  ])
  const hosts = [{ hostId: spec.hostId, port: spec.port }, ...(spec.otherHosts ?? [])]
  const packs = spec.packs.map(
    (p) => `    <pack${attrs([['name', p.name], ['limit', String(p.limit)]])}>\n      ${licensesElement(p.licenses)}\n    </pack>\n`,
  )
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<lpf${lpfAttrs}>\n` +
    hosts.map((h) => `  <flr${attrs([['hostId', h.hostId], ['port', String(h.port)]])}/>\n`).join('') +
    `  <packs>\n${packs.join('')}  </packs>\n` +
    '</lpf>\n'
  )
}

/**
 * [LPF-4] Signs `xml` with an enveloped XML-DSig Signature appended to its root: one Reference
 * with URI="", enveloped-signature then exclusive c14n (c14n.ts), RSA-SHA256 (or SHA-512), no KeyInfo.
 */
export function signLpf(xml: string, privateKey: string | KeyObject, opts: { digest?: HashName } = {}): string {
  const hash = opts.digest ?? 'sha256'
  const sig = new SignedXml({
    privateKey,
    signatureAlgorithm: signatureMethodUri(hash),
    canonicalizationAlgorithm: EXC_C14N,
    // [LPF-5] the server takes the key from its configuration only, so none is published
    getKeyInfoContent: () => null,
  })
  // [LPF-4] digest and sign with flr's exclusive c14n, the one verify.ts checks with, not
  // xml-crypto's own (which orders by locale and leaves namespace URIs unescaped)
  sig.CanonicalizationAlgorithms = { ...sig.CanonicalizationAlgorithms, [EXC_C14N]: ExclusiveC14nAlgorithm }
  sig.addReference({ xpath: '/*', transforms: [...REFERENCE_TRANSFORMS], digestAlgorithm: digestMethodUri(hash), isEmptyUri: true })
  sig.computeSignature(xml, { location: { reference: '/*', action: 'append' } })
  return sig.getSignedXml()
}

function licensesElement(licenses: string | undefined): string {
  if (licenses === undefined) return '<licenses/>'
  return /^\s*<licenses[\s/>]/.test(licenses) ? licenses.trim() : `<licenses>${licenses}</licenses>`
}

function attrs(pairs: [string, string | undefined][]): string {
  return pairs
    .filter((p): p is [string, string] => p[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeAttribute(v)}"`)
    .join('')
}

function escapeAttribute(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;')
}
