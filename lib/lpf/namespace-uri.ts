// [LPF-4] [LPF-6] Which namespace declarations an LPF may carry: exactly those libxml2 (and so
// xmlsec1) canonicalizes, and whose canonical form the C14N recommendation and libxml2 write alike.
//
// libxml2 reports a namespace error for a URI its RFC 3986 parser refuses, and its c14n fails
// on a relative one. It also writes a namespace URI as it is, unescaped (single-quoted when it
// holds a `"`), where the recommendation escapes it like an attribute value: its parser accepts
// `http://["></licenses>…]` (anything between the brackets of a host), and the canonical text it
// digests then holds raw markup. So a URI holding `&`, `<`, `"`, tab, LF or CR is refused too:
// no canonical form of it is both libxml2's and the recommendation's, and none is safe to read.
//
// The URI parser itself is ns-uri.ts, shared with the screen; this module is only the policy on top.
import { FlrError } from '../errors.js'
import { isAbsoluteLibxml2Uri, XML_NS, XMLNS_NS } from './ns-uri.js'

export { XML_NS, XMLNS_NS }

const ESCAPED_IN_ATTRIBUTES = /[&<"\t\n\r]/

/** Throws LPF_MALFORMED unless `xmlns[:prefix]="uri"` is a declaration libxml2 canonicalizes. */
export function checkNamespaceDeclaration(prefix: string, uri: string): void {
  const name = prefix ? `xmlns:${prefix}` : 'xmlns'
  const refuse = (why: string): never => {
    throw new FlrError('LPF_MALFORMED', `the namespace declaration ${name}="${uri.slice(0, 200)}" ${why}; ask the vendor for a new file`)
  }
  // the Namespaces in XML constraints libxml2 reports as namespace errors
  if (prefix === 'xmlns') refuse('redeclares the xmlns prefix, which XML forbids')
  if (uri === XMLNS_NS) refuse('reuses the xmlns namespace name, which XML forbids')
  if ((prefix === 'xml') !== (uri === XML_NS)) refuse('binds the xml prefix or namespace wrongly')
  if (prefix === 'xml') return
  if (uri === '') {
    if (prefix) refuse('is empty, which XML forbids for a prefix')
    return
  }
  if (ESCAPED_IN_ATTRIBUTES.test(uri)) refuse('holds a character (&, <, ", tab or a line break) that libxml2 would write unescaped in the canonical form')
  if (!isAbsoluteLibxml2Uri(uri)) refuse('is not an absolute URI (libxml2 refuses it, and canonical XML fails on a relative namespace URI)')
}
