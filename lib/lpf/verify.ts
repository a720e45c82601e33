// [LPF-4] [LPF-5] XML-DSig verification of an LPF against the configured vendor keys only.
//
// The signature must follow one fixed profile (one enveloped Reference over the whole document,
// exclusive c14n, RSA-SHA256/512), so verification is: check the structure is exactly that
// profile, verify SignatureValue over the canonical SignedInfo with each vendor key, then
// recompute the Reference digest over the document minus the Signature (enveloped-signature is
// the Signature left out of the walk; exclusive c14n is c14n.ts, the same code `flr sign` digests
// with). The canonical text that digest covers is returned: it is all parse.ts reads ([LPF-6]).
// KeyInfo is never read, so a key or certificate in the file cannot be trusted.
//
// Over 300 lines because of this header: what is proven about the text it returns belongs
// beside the code that returns it; the code itself is one profile read top to bottom.
//
// What is proven about that canonical text (test/lpf/c14n*.test.ts, test/lpf/xmlsec.test.ts): it
// is byte for byte what libxml2 writes (xmllint --exc-c14n, xmlsec1) for every fixture and for
// thousands of generated documents, under any locale; files flr signs verify with xmlsec1, and
// files xmlsec1 signs verify here. So the text parse.ts reads is what any conforming XML parser
// reads in the signed file: an escape c14n leaves out could make the reader of the canonical
// text see elements the file does not have (a namespace URI written unescaped did exactly that),
// which is why every namespace declaration libxml2 refuses, or would write unescaped, is
// LPF_MALFORMED before anything is digested.
//
// Why not SignedXml.checkSignature(): it evaluates `//*` with a generic XPath engine (over
// 100 ms for 1,000 packs, many seconds for 10,000: see bench/lpf.ts), it checks the digests
// before the signature, so it cannot tell "signed by someone else" (LPF_UNTRUSTED_KEY) from
// "changed after signing" (LPF_SIGNATURE_INVALID), and its own exclusive c14n is not the
// recommendation's (locale-dependent order, unescaped namespace URIs, dropped attributes).
import { createHash, timingSafeEqual, verify as verifySignature, type KeyObject } from 'node:crypto'
import { DOMParser } from '@xmldom/xmldom'
import { FlrError } from '../errors.js'
import { exclusiveC14n } from './c14n.js'
import { checkNamespaceDeclaration, XMLNS_NS } from './namespace-uri.js'
import { DIGEST_METHODS, DSIG_NS, EXC_C14N, REFERENCE_TRANSFORMS, SIGNATURE_METHODS, type HashName } from './dsig.js'

export interface VerifiedLpf {
  /** the exclusive-c14n text of <lpf> without its Signature, as digested and signed */
  readonly signedContent: string
  /** index in the vendor keys of the key the signature verifies with */
  readonly vendorKeyIndex: number
}

interface SignatureParts {
  readonly signedInfo: Element
  readonly signatureHash: HashName
  readonly signatureValue: Buffer
  readonly digestHash: HashName
  readonly digestValue: Buffer
}

const ELEMENT_NODE = 1
const TEXT_NODE = 3
const CDATA_SECTION_NODE = 4
const COMMENT_NODE = 8

/** [LPF-4] [LPF-5] Verifies `xml` (already screened) and returns its signed canonical content. */
export function verifyLpf(xml: string, vendorKeys: readonly KeyObject[]): VerifiedLpf {
  const doc = parseDocument(xml)
  const signature = theSignature(lpfRoot(doc))
  const parts = readSignature(signature)
  const vendorKeyIndex = findVendorKey(exclusiveC14n(parts.signedInfo), parts, vendorKeys)
  // [LPF-4] the Reference's transforms: enveloped-signature, then exclusive c14n of the document
  const signedContent = exclusiveC14n(doc, { exclude: signature })
  checkDigest(signedContent, parts)
  return { signedContent, vendorKeyIndex }
}

/**
 * For `flr sign` and `flr inspect` only: checks `xml` is a well-formed document rooted at <lpf>
 * and says how many XML-DSig Signature elements it has.
 */
export function signatureCount(xml: string): number {
  return signaturesIn(lpfRoot(parseDocument(xml))).length
}

/**
 * For `flr inspect` only: the content a file's signature claims to cover, canonicalized as
 * verifyLpf does but NOT verified, so that a file that fails can still be shown. Nothing may
 * serve or trust these values ([LPF-6]).
 */
export function unverifiedContent(xml: string): string {
  const doc = parseDocument(xml)
  const root = lpfRoot(doc)
  const all = signaturesIn(root)
  const signature = all.length === 1 && all[0]!.parentNode === root ? all[0]! : null
  return exclusiveC14n(doc, { exclude: signature })
}

function parseDocument(xml: string): Document {
  // xmldom alone accepts text after the root element and a bare `&`: the screen (screen.ts,
  // wellformed.ts) refused those before this runs; fast-xml-parser's XMLValidator, once here,
  // refused nothing the screen and xmldom together admit (notes/lpfworker.md)
  // xmldom reports problems and carries on (and reports our own throw again, wrapped): keep
  // the first one, and refuse any LPF that is not exactly well-formed
  let problem: string | undefined
  const fail = (message: string): never => {
    problem ??= message
    throw new Error(problem)
  }
  const parser = new DOMParser({ errorHandler: { warning: fail, error: fail, fatalError: fail } })
  let doc: Document | undefined
  try {
    doc = parser.parseFromString(xml, 'text/xml')
  } catch (e) {
    problem ??= e instanceof Error ? e.message : String(e)
  }
  if (problem === undefined && !doc?.documentElement) problem = 'no root element'
  if (problem !== undefined) {
    throw new FlrError('LPF_MALFORMED', `the license pack file is not well-formed XML (${tidy(problem)}); ask the vendor for a new file`)
  }
  checkDeclarations(doc!.documentElement!)
  return doc!
}

/**
 * [LPF-4] [LPF-6] Every namespace declaration in the file, signed or not, is one libxml2 accepts
 * and canonicalizes as the recommendation does (namespace-uri.ts); LPF_MALFORMED otherwise.
 */
function checkDeclarations(root: Element): void {
  // iterative, so that no nesting depth overflows the stack
  let n: Node | null = root
  while (n) {
    if (n.nodeType === ELEMENT_NODE) {
      const attributes = (n as Element).attributes
      for (let i = 0; i < attributes.length; i++) {
        const attr = attributes[i]!
        if (attr.namespaceURI === XMLNS_NS) checkNamespaceDeclaration(attr.prefix ? attr.localName : '', attr.value)
      }
      if (n.firstChild) {
        n = n.firstChild
        continue
      }
    }
    while (n && n !== root && !n.nextSibling) n = n.parentNode
    n = n && n !== root ? n.nextSibling : null
  }
}

function tidy(xmldomMessage: string): string {
  return xmldomMessage
    .replace(/^\[xmldom \w+\]\s*/, '')
    .replace(/\s*@#\[line:(\d+),col:(\d+)\]/, ' at line $1, column $2')
    .replace(/\s+/g, ' ')
    .trim()
}

function lpfRoot(doc: Document): Element {
  const root = doc.documentElement
  if (root.localName !== 'lpf' || root.namespaceURI) {
    throw new FlrError('LPF_MALFORMED', `the root element is <${root.tagName}>, not <lpf>: this is not a license pack file; check that it is the .lp file the vendor sent`)
  }
  return root
}

/** [LPF-4] exactly one Signature in the whole document, and it is a child of <lpf> */
function theSignature(root: Element): Element {
  const all = signaturesIn(root)
  if (all.length === 0) {
    invalid('the file is not signed (no XML-DSig Signature element): the vendor signs it with `flr sign`')
  }
  if (all.length > 1) {
    invalid(`the file has ${all.length} Signature elements; exactly one is allowed (was an already signed file signed again?)`)
  }
  const signature = all[0]!
  if (signature.parentNode !== root) {
    invalid('the Signature element must be a direct child of <lpf>')
  }
  return signature
}

/**
 * Every XML-DSig Signature element under `root` (which is <lpf>, not one), in document order:
 * what getElementsByTagNameNS gives, without xmldom's live list and its callbacks per node.
 */
function signaturesIn(root: Element): Element[] {
  const found: Element[] = []
  // iterative, so that no nesting depth overflows the stack
  let n: Node | null = root.firstChild
  while (n && n !== root) {
    if (n.nodeType === ELEMENT_NODE) {
      const e = n as Element
      if (e.localName === 'Signature' && e.namespaceURI === DSIG_NS) found.push(e)
      if (e.firstChild) {
        n = e.firstChild
        continue
      }
    }
    while (n && n !== root && !n.nextSibling) n = n.parentNode
    if (n && n !== root) n = n.nextSibling
  }
  return found
}

/** [LPF-4] [LPF-5] the structure is exactly the LPF profile; anything else is refused */
function readSignature(signature: Element): SignatureParts {
  const children = dsigChildren(signature, 'Signature')
  if (children.some((c) => c.localName === 'Object')) {
    // enveloped-signature removes the whole Signature from what is digested, so an Object is
    // never signed: whatever it holds (packs, say) is attacker-controlled text next to signed text
    invalid('the Signature contains an Object element, which an LPF never has: its content would be unsigned')
  }
  const [signedInfo, signatureValue, ...rest] = children
  expectName(signedInfo, 'SignedInfo', 'Signature')
  expectName(signatureValue, 'SignatureValue', 'Signature')
  // KeyInfo may be present (signing tools add it) but is never read: the key comes from
  // --vendor-key only ([LPF-5])
  if (rest[0]?.localName === 'KeyInfo') rest.shift()
  if (rest.length > 0) invalid(`unexpected <${rest[0]!.localName}> in Signature`)

  const [c14nMethod, signatureMethod, reference, ...more] = dsigChildren(signedInfo!, 'SignedInfo')
  expectName(c14nMethod, 'CanonicalizationMethod', 'SignedInfo')
  expectName(signatureMethod, 'SignatureMethod', 'SignedInfo')
  expectName(reference, 'Reference', 'SignedInfo')
  if (more.length > 0) {
    invalid(more[0]!.localName === 'Reference' ? 'the signature has more than one Reference; exactly one, with URI="", is allowed' : `unexpected <${more[0]!.localName}> in SignedInfo`)
  }
  expectAlgorithm(c14nMethod!, [EXC_C14N], 'CanonicalizationMethod')
  const signatureHash = expectAlgorithm(signatureMethod!, Object.keys(SIGNATURE_METHODS), 'SignatureMethod', SIGNATURE_METHODS)
  const { digestHash, digestValue } = readReference(reference!)
  return { signedInfo: signedInfo!, signatureHash, signatureValue: base64Of(signatureValue!, 'SignatureValue'), digestHash, digestValue }
}

function readReference(reference: Element): { digestHash: HashName; digestValue: Buffer } {
  if (!reference.hasAttribute('URI') || reference.getAttribute('URI') !== '') {
    invalid(`the Reference must have URI="" (the whole <lpf>), not ${reference.hasAttribute('URI') ? `URI="${reference.getAttribute('URI')}"` : 'no URI'}: a Reference to part of the file leaves the rest unsigned`)
  }
  const [transforms, digestMethod, digestValue, ...rest] = dsigChildren(reference, 'Reference')
  expectName(transforms, 'Transforms', 'Reference')
  expectName(digestMethod, 'DigestMethod', 'Reference')
  expectName(digestValue, 'DigestValue', 'Reference')
  if (rest.length > 0) invalid(`unexpected <${rest[0]!.localName}> in Reference`)
  const list = dsigChildren(transforms!, 'Transforms')
  const uris = list.map((t) => (t.localName === 'Transform' ? t.getAttribute('Algorithm') : `<${t.localName}>`))
  if (uris.length !== REFERENCE_TRANSFORMS.length || uris.some((u, i) => u !== REFERENCE_TRANSFORMS[i])) {
    invalid(`the Reference transforms must be exactly enveloped-signature then exclusive c14n, not ${uris.join(', ') || 'none'}`)
  }
  for (const t of list) noChildren(t, 'Transform')
  const digestHash = expectAlgorithm(digestMethod!, Object.keys(DIGEST_METHODS), 'DigestMethod', DIGEST_METHODS)
  const value = base64Of(digestValue!, 'DigestValue')
  if (value.length !== (digestHash === 'sha512' ? 64 : 32)) invalid(`the DigestValue is ${value.length} bytes, not a ${digestHash} digest`)
  return { digestHash, digestValue: value }
}

/** the ds: element children of `parent`; text other than whitespace is refused */
function dsigChildren(parent: Element, where: string): Element[] {
  const out: Element[] = []
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE) {
      const e = n as Element
      if (e.namespaceURI !== DSIG_NS) invalid(`unexpected <${e.tagName}> (not in the XML-DSig namespace) in ${where}`)
      out.push(e)
    } else if ((n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) && (n.nodeValue ?? '').trim() !== '') {
      invalid(`unexpected text in ${where}`)
    } else if (n.nodeType !== TEXT_NODE && n.nodeType !== COMMENT_NODE) {
      invalid(`unexpected node in ${where}`)
    }
  }
  return out
}

function expectName(e: Element | undefined, name: string, parent: string): void {
  if (!e) invalid(`the ${parent} has no ${name}`)
  if (e!.localName !== name) invalid(`expected ${name} in ${parent}, found <${e!.localName}>`)
}

function noChildren(e: Element, name: string): void {
  for (let n = e.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE) {
      invalid(`${name} must have no child elements (InclusiveNamespaces, XPath and HMACOutputLength are not part of the LPF profile)`)
    }
  }
}

function expectAlgorithm<T>(e: Element, allowed: readonly string[], name: string, map?: Readonly<Record<string, T>>): T {
  const alg = e.getAttribute('Algorithm') ?? ''
  noChildren(e, name)
  if (!allowed.includes(alg)) {
    // [LPF-5] an HMAC "signature" keyed with the public key would let anyone who has the
    // vendor's public key forge one, so it gets its own message
    const hint = /hmac/i.test(alg) ? ' (HMAC is never accepted: only RSA signatures made with the vendor private key)' : ''
    invalid(`${name} ${alg ? `"${alg}"` : '(none)'} is not allowed${hint}; an LPF uses ${allowed.join(' or ')}`)
  }
  return (map ? map[alg] : alg) as T
}

function base64Of(e: Element, name: string): Buffer {
  const text = (e.textContent ?? '').replace(/\s+/g, '')
  if (text === '' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) invalid(`${name} is not base64`)
  return Buffer.from(text, 'base64')
}

/** [LPF-5] the signature over SignedInfo must verify with one of the configured keys */
function findVendorKey(signedInfo: string, parts: SignatureParts, vendorKeys: readonly KeyObject[]): number {
  const data = Buffer.from(signedInfo, 'utf8')
  const index = vendorKeys.findIndex((key) => {
    try {
      return verifySignature(parts.signatureHash, data, key, parts.signatureValue)
    } catch {
      return false
    }
  })
  if (index < 0) {
    throw new FlrError(
      'LPF_UNTRUSTED_KEY',
      `the signature does not verify with the configured vendor key${vendorKeys.length === 1 ? '' : `s (${vendorKeys.length})`}: the file was signed with another key, or its signature was damaged; check that --vendor-key is this vendor's public key, or ask the vendor to re-issue the file`,
    )
  }
  return index
}

/** [LPF-4] the content is what was signed: a changed byte changes the digest */
function checkDigest(signedContent: string, parts: SignatureParts): void {
  const actual = createHash(parts.digestHash).update(signedContent, 'utf8').digest()
  if (actual.length !== parts.digestValue.length || !timingSafeEqual(actual, parts.digestValue)) {
    invalid('the content was changed after the vendor signed it (the digest does not match); never edit an LPF: ask the vendor for a new one')
  }
}

function invalid(message: string): never {
  throw new FlrError('LPF_SIGNATURE_INVALID', message)
}
