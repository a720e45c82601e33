// [LPF-4] [LPF-6] Exclusive XML Canonicalization 1.0 (W3C Recommendation, 18 July 2002), without
// comments and without an InclusiveNamespaces PrefixList: the one implementation flr uses, both
// when `flr sign` digests (registered in xml-crypto, see vendor.ts) and when the server verifies
// (verify.ts). It writes byte for byte what libxml2's xmlC14NExecute writes (xmlsec1, `xmllint
// --exc-c14n`), whatever the machine's locale:
//   - namespace declarations: only those the element or its attributes visibly use and that the
//     nearest output ancestor did not already render with the same URI (`xmlns=""` when a
//     default namespace rendered above no longer applies), sorted by prefix in code point order,
//     the default one first; never localeCompare, whose order depends on LANG;
//   - attributes: those without a namespace first by local name, then by namespace URI, then
//     local name, comparing whole strings (not the URI and name run together, which misorders
//     `urn:a` + `z` against `urn:ab` + `a`); an attribute merely named like `xmlnsfoo` is an
//     ordinary attribute and is rendered;
//   - escapes in every context: text `& < > CR`, attribute values and namespace URIs
//     `& < " TAB LF CR`; processing instructions `<?target data?>`, and outside the root element
//     on their own line; comments dropped.
// Namespace declarations libxml2 refuses, or would write unescaped, are LPF_MALFORMED
// (namespace-uri.ts); so is a prefix bound to nothing. test/lpf/c14n*.test.ts hold this to
// libxml2 itself on every fixture and on thousands of generated documents.
//
// The walk keeps its own stack, so no nesting depth overflows the call stack.
import { FlrError } from '../errors.js'
import { EXC_C14N } from './dsig.js'
import { checkNamespaceDeclaration, XML_NS, XMLNS_NS } from './namespace-uri.js'

/** a namespace rendered by an output ancestor: prefix ('' for the default) and URI */
type Binding = readonly [prefix: string, uri: string]

interface OpenElement {
  readonly element: Element
  /** the bindings rendered by it and its output ancestors, outermost first */
  readonly rendered: readonly Binding[]
}

const ELEMENT_NODE = 1
const TEXT_NODE = 3
const CDATA_SECTION_NODE = 4
const PROCESSING_INSTRUCTION_NODE = 7
const COMMENT_NODE = 8
const DOCUMENT_NODE = 9

const TEXT_SPECIAL = /[&<>\r]/g
const ATTRIBUTE_SPECIAL = /[&<"\t\n\r]/g
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#x9;', '\n': '&#xA;', '\r': '&#xD;' }

export interface C14nOptions {
  /** a node left out with its subtree: the enveloped Signature ([LPF-4] enveloped-signature) */
  readonly exclude?: Node | null
}

/**
 * The exclusive canonical form of `node`: a whole document (its root element, with processing
 * instructions around it; what a Reference URI="" digests) or an element and its descendants.
 */
export function exclusiveC14n(node: Document | Element, opts: C14nOptions = {}): string {
  if (node.nodeType !== DOCUMENT_NODE) return renderElement(node as Element, opts.exclude ?? null)
  let out = ''
  let afterRoot = false
  for (let n = node.firstChild; n; n = n.nextSibling) {
    if (n === opts.exclude) continue
    // xmldom keeps the XML declaration as a processing instruction; it is no node of the data model
    if (n === node.firstChild && n.nodeType === PROCESSING_INSTRUCTION_NODE && (n as ProcessingInstruction).target === 'xml') continue
    if (n.nodeType === ELEMENT_NODE) {
      out += renderElement(n as Element, opts.exclude ?? null)
      afterRoot = true
    } else if (n.nodeType === PROCESSING_INSTRUCTION_NODE) {
      out += afterRoot ? `\n${pi(n as ProcessingInstruction)}` : `${pi(n as ProcessingInstruction)}\n`
    } else if (n.nodeType !== COMMENT_NODE && n.nodeType !== TEXT_NODE) {
      throw malformed(`a node of type ${n.nodeType} outside the root element`)
    }
  }
  return out
}

/**
 * [LPF-4] This canonicalization as an xml-crypto algorithm: vendor.ts registers it for EXC_C14N,
 * so that what `flr sign` digests and signs is what verify.ts computes.
 */
export class ExclusiveC14nAlgorithm {
  readonly includeComments = false
  process(node: Node): string {
    return exclusiveC14n(node as Element)
  }
  getAlgorithmName(): string {
    return EXC_C14N
  }
}

function renderElement(element: Element, exclude: Node | null): string {
  const root = openElement(element, [])
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
    if (child === exclude || type === COMMENT_NODE) {
      child = child.nextSibling
    } else if (type === TEXT_NODE || type === CDATA_SECTION_NODE) {
      out += escape((child as CharacterData).data, TEXT_SPECIAL)
      child = child.nextSibling
    } else if (type === ELEMENT_NODE) {
      const opened = openElement(child as Element, open[open.length - 1]!.rendered)
      open.push(opened)
      out += opened.startTag
      child = child.firstChild
    } else if (type === PROCESSING_INSTRUCTION_NODE) {
      out += pi(child as ProcessingInstruction)
      child = child.nextSibling
    } else {
      throw malformed(`a node of type ${type} inside <${(child.parentNode as Element).tagName}>`)
    }
  }
}

/** the start tag of `element`, given the namespaces its output ancestors rendered */
function openElement(element: Element, rendered: readonly Binding[]): OpenElement & { readonly startTag: string } {
  const declared: Binding[] = []
  const utilize = (prefix: string, uri: string) => {
    if (renderedUri(rendered, declared, prefix) !== uri) declared.push([prefix, uri])
  }
  const prefix = element.prefix ?? ''
  if (prefix && !element.namespaceURI) throw unbound(prefix, element.tagName)
  if (prefix !== 'xml') utilize(prefix, element.namespaceURI ?? '')
  const attributes = element.attributes
  const shown: Attr[] = []
  for (let i = 0; i < attributes.length; i++) {
    const attr = attributes[i]!
    if (attr.namespaceURI === XMLNS_NS) {
      // a declaration: rendered only where used, but every one in the document is checked
      checkNamespaceDeclaration(attr.prefix ? attr.localName : '', attr.value)
      continue
    }
    if (attr.prefix) {
      if (!attr.namespaceURI) throw unbound(attr.prefix, attr.name)
      if (attr.namespaceURI !== XML_NS) utilize(attr.prefix, attr.namespaceURI)
    }
    shown.push(attr)
  }
  let startTag = `<${element.tagName}`
  if (declared.length > 0) {
    if (declared.length > 1) declared.sort((a, b) => compareCodePoints(a[0], b[0]))
    for (const [p, uri] of declared) startTag += `${p ? ` xmlns:${p}` : ' xmlns'}="${escape(uri, ATTRIBUTE_SPECIAL)}"`
    rendered = rendered.concat(declared)
  }
  if (shown.length > 1) shown.sort(compareAttributes)
  for (const attr of shown) startTag += ` ${attr.name}="${escape(attr.value, ATTRIBUTE_SPECIAL)}"`
  return { element, rendered, startTag: `${startTag}>` }
}

/**
 * The URI `prefix` was last rendered with, innermost first; before any, the default namespace
 * counts as rendered empty (no `xmlns=""` at the top) and a prefix as not rendered.
 */
function renderedUri(rendered: readonly Binding[], declared: readonly Binding[], prefix: string): string | undefined {
  for (let i = declared.length - 1; i >= 0; i--) if (declared[i]![0] === prefix) return declared[i]![1]
  for (let i = rendered.length - 1; i >= 0; i--) if (rendered[i]![0] === prefix) return rendered[i]![1]
  return prefix === '' ? '' : undefined
}

/** C14N attribute order: no namespace first, then namespace URI, then local name */
function compareAttributes(a: Attr, b: Attr): number {
  const ua = a.namespaceURI ?? ''
  const ub = b.namespaceURI ?? ''
  if (ua !== ub) {
    if (ua === '') return -1
    if (ub === '') return 1
    return compareCodePoints(ua, ub)
  }
  return compareCodePoints(a.localName, b.localName)
}

/**
 * Unicode code point order (the byte order of UTF-8, which libxml2's xmlStrcmp uses). JavaScript's
 * `<` compares UTF-16 code units, which puts U+10000 and above (surrogates) before U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x === y) continue
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000
    }
    return x - y
  }
  return a.length - b.length
}

function pi(node: ProcessingInstruction): string {
  return node.data ? `<?${node.target} ${node.data.replace(/\r/g, '&#xD;')}?>` : `<?${node.target}?>`
}

function escape(value: string, special: RegExp): string {
  special.lastIndex = 0
  return special.test(value) ? value.replace(special, (c) => ESCAPES[c]!) : value
}

function unbound(prefix: string, name: string): FlrError {
  return malformed(`the prefix "${prefix}" of ${name} is not bound to a namespace`)
}

function malformed(why: string): FlrError {
  return new FlrError('LPF_MALFORMED', `the license pack file cannot be canonicalized: ${why}; ask the vendor for a new file`)
}
