// [LPF-4] [LPF-6] Which namespace declarations an LPF may carry: exactly those libxml2 (and so
// xmlsec1) canonicalizes, and whose canonical form the C14N recommendation and libxml2 write alike.
//
// libxml2 reports a namespace error for a URI its RFC 3986 parser refuses, and its c14n fails
// on a relative one. It also writes a namespace URI as it is, unescaped (single-quoted when it
// holds a `"`), where the recommendation escapes it like an attribute value: its parser accepts
// `http://["></licenses>…]` (anything between the brackets of a host), and the canonical text it
// digests then holds raw markup. So a URI holding `&`, `<`, `"`, tab, LF or CR is refused too:
// no canonical form of it is both libxml2's and the recommendation's, and none is safe to read.
import { FlrError } from '../errors.js'

export const XML_NS = 'http://www.w3.org/XML/1998/namespace'
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/'

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
  if (!isAbsoluteUri(uri)) refuse('is not an absolute URI (libxml2 refuses it, and canonical XML fails on a relative namespace URI)')
}

/**
 * libxml2 2.9.14's xmlParse3986URI (uri.c), quirks included: `scheme ":" hier-part ["?" query]
 * ["#" fragment]`, where a bracketed host takes anything up to `]`, an empty or over-long port
 * fails, and a fragment may hold `[` and `]`. It is what decides "valid and absolute" there.
 */
export function isAbsoluteUri(s: string): boolean {
  let i = 0
  const at = (k: number) => s.charCodeAt(k) // NaN past the end, like C's terminating NUL
  const alpha = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)
  const digit = (c: number) => c >= 0x30 && c <= 0x39
  const hex = (c: number) => digit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
  const unreserved = (k: number) => alpha(at(k)) || digit(at(k)) || '-._~'.includes(s[k] ?? '\0')
  const subDelim = (k: number) => "!$&()*+,;='".includes(s[k] ?? '\0')
  const pctEncoded = (k: number) => s[k] === '%' && hex(at(k + 1)) && hex(at(k + 2))
  const pchar = (k: number) => unreserved(k) || pctEncoded(k) || subDelim(k) || s[k] === ':' || s[k] === '@'
  const next = () => (i += s[i] === '%' ? 3 : 1)
  /** a segment; libxml2's xmlParse3986Segment with forbid 0 */
  const segment = (empty: boolean): boolean => {
    if (!pchar(i)) return empty
    while (pchar(i)) next()
    return true
  }
  const port = (): boolean => {
    if (!digit(at(i))) return false
    let value = 0
    while (digit(at(i))) {
      value = value * 10 + (at(i) - 0x30)
      if (value > 0x7fffffff) return false
      i++
    }
    return true
  }
  const host = (): boolean => {
    if (s[i] === '[') {
      const close = s.indexOf(']', i + 1)
      if (close < 0) return false
      i = close + 1
      return true
    }
    // libxml2's IPv4 branch falls back to reg-name, which accepts every IPv4 address too
    while (unreserved(i) || pctEncoded(i) || subDelim(i)) next()
    return true
  }
  const authority = (): boolean => {
    const start = i
    while (unreserved(i) || pctEncoded(i) || subDelim(i) || s[i] === ':') next()
    if (s[i] === '@') i++
    else i = start
    if (!host()) return false
    if (s[i] === ':') {
      i++
      if (!port()) return false
    }
    return true
  }

  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  if (!alpha(at(i))) return false
  i++
  while (alpha(at(i)) || digit(at(i)) || s[i] === '+' || s[i] === '-' || s[i] === '.') i++
  if (s[i] !== ':') return false
  i++
  // hier-part
  if (s[i] === '/' && s[i + 1] === '/') {
    i += 2
    if (!authority()) return false
    while (s[i] === '/') {
      i++
      segment(true)
    }
  } else if (s[i] === '/') {
    i++
    if (segment(false)) {
      while (s[i] === '/') {
        i++
        segment(true)
      }
    }
  } else if (pchar(i)) {
    segment(false)
    while (s[i] === '/') {
      i++
      segment(true)
    }
  }
  if (s[i] === '?') {
    i++
    while (pchar(i) || s[i] === '/' || s[i] === '?') next()
  }
  if (s[i] === '#') {
    i++
    while (pchar(i) || s[i] === '/' || s[i] === '?' || s[i] === '[' || s[i] === ']') next()
  }
  return i === s.length
}
