// [LPF-6] Namespace well-formedness of one start tag at a time, with the checks and in the
// order libxml2 2.9 makes them (parser.c xmlParseStartTag2): reserved prefixes and names,
// empty and unparsable namespace names, unbound prefixes, and duplicate attributes both by
// name and by expanded name. Bindings are a stack per prefix, so a lookup costs O(1) however
// deep the element; the bounds below keep what xmldom, c14n and parse do downstream linear.
import { isLibxml2Uri, XML_NS, XMLNS_NS } from './ns-uri.js'
import type { QName, XmlReader } from './xml-reader.js'

/**
 * flr's own bounds (not libxml2's), generous for any real LPF: xmldom copies or walks the
 * in-scope bindings per element and scans an element's attributes per attribute, so without
 * them a 4 MiB file costs minutes there ([LPF-6]).
 */
export const MAX_ATTRIBUTES_PER_ELEMENT = 256
export const MAX_NAMESPACES_IN_SCOPE = 256

export interface Attribute {
  readonly name: QName
  /** the normalized value, read only for namespace declarations */
  readonly value: string | undefined
}

export class NamespaceScope {
  private readonly bindings = new Map<string, string[]>()
  private readonly declaredPerElement: (string[] | null)[] = []
  private inScope = 0

  /** checks one start tag and opens its scope; `close` undoes it at the end tag */
  open(r: XmlReader, element: QName, attributes: readonly Attribute[]): void {
    if (attributes.length > MAX_ATTRIBUTES_PER_ELEMENT) {
      r.fail(`an element with ${attributes.length} attributes, over flr's bound of ${MAX_ATTRIBUTES_PER_ELEMENT}`, element.at)
    }
    const declared = this.declare(r, attributes)
    this.declaredPerElement.push(declared)
    const seenNames = new Set<string>()
    const seenExpanded = new Set<string>()
    for (const { name } of attributes) {
      if (isDeclaration(name)) continue
      if (seenNames.has(name.qname)) r.fail(`attribute ${name.qname} given twice`, name.at)
      seenNames.add(name.qname)
      if (name.prefix === undefined) continue
      const uri = this.lookup(name.prefix)
      if (uri === undefined) r.fail(`namespace prefix ${name.prefix} of attribute ${name.qname} is not declared`, name.at)
      const expanded = `${uri}\u0000${name.local}`
      if (seenExpanded.has(expanded)) r.fail(`attribute ${name.local} in namespace ${uri} given twice`, name.at)
      seenExpanded.add(expanded)
    }
    if (element.prefix !== undefined && this.lookup(element.prefix) === undefined) {
      r.fail(`namespace prefix ${element.prefix} of element ${element.qname} is not declared`, element.at)
    }
  }

  close(): void {
    const declared = this.declaredPerElement.pop()
    if (!declared) return
    for (const prefix of declared) this.bindings.get(prefix)!.pop()
    this.inScope -= declared.length
  }

  private lookup(prefix: string): string | undefined {
    if (prefix === 'xml') return XML_NS
    const stack = this.bindings.get(prefix)
    return stack?.length ? stack[stack.length - 1] : undefined
  }

  private declare(r: XmlReader, attributes: readonly Attribute[]): string[] | null {
    let declared: string[] | null = null
    const seen = new Set<string>()
    for (const { name, value } of attributes) {
      if (!isDeclaration(name)) continue
      const prefix = name.prefix === undefined ? '' : name.local
      const uri = value!
      if (!declarationAllowed(r, name, prefix, uri)) continue
      if (seen.has(prefix)) r.fail(`namespace declaration ${name.qname} given twice`, name.at)
      seen.add(prefix)
      declared ??= []
      declared.push(prefix)
      let stack = this.bindings.get(prefix)
      if (!stack) this.bindings.set(prefix, (stack = []))
      stack.push(uri)
      if (++this.inScope > MAX_NAMESPACES_IN_SCOPE) {
        r.fail(`more than ${MAX_NAMESPACES_IN_SCOPE} namespace declarations in scope at once (flr's bound)`, name.at)
      }
    }
    return declared
  }
}

function isDeclaration(name: QName): boolean {
  return name.prefix === undefined ? name.local === 'xmlns' : name.prefix === 'xmlns'
}

/** libxml2's checks of one declaration; false for xmlns:xml bound to its own URI, which binds nothing */
function declarationAllowed(r: XmlReader, name: QName, prefix: string, uri: string): boolean {
  const fail = (what: string): never => r.fail(`the namespace declaration ${name.qname}="${uri.slice(0, 200)}": ${what}`, name.at)
  if (prefix === 'xml') {
    if (uri !== XML_NS) fail('the xml prefix bound to another namespace')
    return false
  }
  if (prefix === '' && uri === '') return true
  if (prefix === '' && uri === XML_NS) fail('the XML namespace as the default namespace')
  if (uri === XML_NS) fail('the XML namespace bound to a prefix other than xml')
  if (prefix === 'xmlns') fail('the xmlns prefix declared')
  if (uri === XMLNS_NS) fail('the xmlns namespace name declared')
  if (uri === '') fail('a prefix bound to the empty namespace name (not allowed in XML 1.0)')
  if (!isLibxml2Uri(uri)) fail('a namespace name that is not a valid URI')
  return true
}
