// [LPF-4] [LPF-6] Exclusive XML canonicalization (without comments, no InclusiveNamespaces) of
// an element, rendering exactly what xml-crypto's ExclusiveCanonicalization renders: what the
// vendor's `flr sign` digested and what other XML-DSig tools built on xml-crypto produce. That
// includes its departures from the C14N specification, kept on purpose since the bytes must
// match: namespace declarations are ordered with localeCompare, an attribute whose name merely
// starts with "xmlns" is dropped, a processing instruction's data is written as text, and an
// empty one cannot be rendered (the same Error is thrown; the screen refuses every PI anyway).
//
// Why not xml-crypto's class itself: it builds an array per element and per attribute list,
// copies the namespace scope for every child (text included) and escapes every text through a
// regex callback; for 1,000 packs that was a fifth of loading the file. This renderer walks the
// same DOM once, copies the scope only when an element adds to it, and escapes only text that
// needs it. test/lpf/c14n.test.ts proves it byte-identical to xml-crypto on every fixture and on
// generated documents full of namespaces, escapes, CDATA and comments.
//
// An element that has a CanonicalizationMethod child (SignedInfo) is left to xml-crypto: there
// its process() reads an InclusiveNamespaces PrefixList, which this renderer does not implement.
import { SignedXml } from 'xml-crypto'
import { EXC_C14N } from './dsig.js'

interface Binding {
  readonly prefix: string
  readonly namespaceURI: unknown
}

const ELEMENT_NODE = 1
const COMMENT_NODE = 8
const TEXT_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' }
const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '"': '&quot;', '\r': '&#xD;', '\n': '&#xA;', '\t': '&#x9;' }
const TEXT_SPECIAL = /[&<>\r]/
const TEXT_SPECIAL_ALL = /[&<>\r]/g
const ATTRIBUTE_SPECIAL = /[&<"\r\n\t]/
const ATTRIBUTE_SPECIAL_ALL = /[&<"\r\n\t]/g
// xml-crypto looks a prefix up in an empty object when the element has no namespace URI, so an
// inherited property (a prefix named "constructor") is what it finds: the same lookup here
const NO_PREFIXES: Record<string, unknown> = {}

const XmlCryptoExcC14n = new SignedXml().CanonicalizationAlgorithms[EXC_C14N]!

/** The exclusive canonical form of `element` and its descendants, as xml-crypto writes it. */
export function exclusiveC14n(element: Element): string {
  for (let n = element.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE && (n as Element).localName === 'CanonicalizationMethod') {
      return new XmlCryptoExcC14n().process(element, {}) as string
    }
  }
  // a loop over an explicit stack, not recursion: no nesting depth overflows the call stack
  const root = openElement(element, [], '')
  const open = [root]
  let out = root.startTag
  let child = element.firstChild
  for (;;) {
    if (!child) {
      const done = open.pop()!
      out += `</${done.element.tagName}>`
      if (open.length === 0) return out
      child = done.element.nextSibling
      continue
    }
    const type = child.nodeType
    const data = (child as CharacterData).data
    if (type === COMMENT_NODE) {
      child = child.nextSibling
    } else if (data) {
      out += TEXT_SPECIAL.test(data) ? data.replace(TEXT_SPECIAL_ALL, (c) => TEXT_ESCAPES[c]!) : data
      child = child.nextSibling
    } else if (type === ELEMENT_NODE) {
      const parent = open[open.length - 1]!
      const opened = openElement(child as Element, parent.scope, parent.defaultNs)
      open.push(opened)
      out += opened.startTag
      child = child.firstChild
    } else {
      throw new Error(`Unable to exclusive canonicalize node type: ${type}`)
    }
  }
}

interface OpenElement {
  readonly element: Element
  /** the element's start tag, namespace declarations and attributes rendered */
  readonly startTag: string
  /** the namespace bindings in scope for its children, outermost first */
  readonly scope: readonly Binding[]
  /** the default namespace its children inherit */
  readonly defaultNs: unknown
}

/**
 * `scope` holds the namespace bindings already rendered on ancestors, outermost first. It is
 * never changed: an element that declares a binding gives its children a new array, so its
 * siblings never see it (xml-crypto gives every child its own copy instead).
 */
function openElement(element: Element, scope: readonly Binding[], defaultNs: unknown): OpenElement {
  let declared: Binding[] | undefined
  let namespaces = ''
  let childDefaultNs = defaultNs
  const prefix = element.prefix
  if (prefix) {
    const uri = element.namespaceURI || NO_PREFIXES[prefix]
    if (!inScope(scope, prefix, uri)) (declared ??= []).push({ prefix, namespaceURI: uri })
  } else if (defaultNs !== (element.namespaceURI || '')) {
    childDefaultNs = element.namespaceURI
    namespaces = ` xmlns="${text(childDefaultNs)}"`
  }
  const attributes = element.attributes
  const rendered: Attr[] = []
  for (let i = 0; i < attributes.length; i++) {
    const attr = attributes[i]!
    const attrPrefix = attr.prefix
    if (attrPrefix && attrPrefix !== 'xmlns' && attrPrefix !== 'xml' && !inScope(declared ? scope.concat(declared) : scope, attrPrefix, attr.namespaceURI)) {
      ;(declared ??= []).push({ prefix: attrPrefix, namespaceURI: attr.namespaceURI })
    }
    if (attr.name.indexOf('xmlns') !== 0) rendered.push(attr)
  }
  if (declared) {
    scope = scope.concat(declared)
    declared.sort((a, b) => (a.prefix === b.prefix ? 0 : a.prefix.localeCompare(b.prefix)))
    for (const d of declared) namespaces += ` xmlns:${d.prefix}="${text(d.namespaceURI)}"`
  }
  if (rendered.length > 1) rendered.sort(attrCompare)
  let startTag = `<${element.tagName}${namespaces}`
  for (const attr of rendered) startTag += ` ${attr.name}="${escapeAttribute(attr.value)}"`
  return { element, startTag: `${startTag}>`, scope, defaultNs: childDefaultNs }
}

/** xml-crypto's isPrefixInScope: the innermost binding of `prefix` has this namespace */
function inScope(scope: readonly Binding[], prefix: string, namespaceURI: unknown): boolean {
  for (let i = scope.length - 1; i >= 0; i--) {
    if (scope[i]!.prefix === prefix) return scope[i]!.namespaceURI === namespaceURI
  }
  return false
}

/** xml-crypto's attrCompare, null namespaces and all */
function attrCompare(a: Attr, b: Attr): number {
  if (!a.namespaceURI && b.namespaceURI) return -1
  if (!b.namespaceURI && a.namespaceURI) return 1
  // the same namespace (however written) prefixes both keys alike: compare the rest
  if (a.namespaceURI === b.namespaceURI) return a.localName === b.localName ? 0 : a.localName < b.localName ? -1 : 1
  const left = `${a.namespaceURI}${a.localName}`
  const right = `${b.namespaceURI}${b.localName}`
  return left === right ? 0 : left < right ? -1 : 1
}

function escapeAttribute(value: string): string {
  return ATTRIBUTE_SPECIAL.test(value) ? value.replace(ATTRIBUTE_SPECIAL_ALL, (c) => ATTRIBUTE_ESCAPES[c]!) : value
}

/** how Array.prototype.join, which xml-crypto builds its output with, writes a value */
function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value)
}
