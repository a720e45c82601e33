// [LPF-6] Well-formedness of XML 1.0 with namespaces, judged as libxml2 (xmllint --noout) judges
// it, in one forward pass over the decoded text and before any DOM is built: test/lpf/
// wellformed-differential.test.ts holds it to xmllint on thousands of generated documents.
// Nesting is bounded by libxml2's own limit (an element may have at most 256 open ancestors),
// attributes and in-scope namespace declarations by flr's (ns-scope.ts), so that nothing
// downstream (xmldom, c14n, parse) can be made to work more than linearly or recurse deeply.
//
// What it does not judge, because screen.ts refuses it first as flr's own policy: DOCTYPE,
// entity declarations, processing instructions, encodings other than UTF-8, invalid UTF-8 and
// characters outside XML's Char.
import { NamespaceScope, type Attribute } from './ns-scope.js'
import { isXmlChar } from './xml-chars.js'
import { readXmlDeclaration } from './xml-decl.js'
import { XmlReader, type QName } from './xml-reader.js'

/** libxml2's xmlParserMaxDepth (256) counts open ancestors: 257 nested elements pass, 258 do not */
export const MAX_DEPTH = 257

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' }

/** Throws LPF_MALFORMED, naming the line and column, unless `text` is a well-formed document. */
export function checkWellFormed(text: string): void {
  const r = new XmlReader(text)
  readXmlDeclaration(r)
  miscellany(r)
  if (r.atEnd) r.fail('no root element')
  if (!r.startsWith('<')) r.fail('text before the root element')
  if ('!?/'.includes(r.s[r.i + 1]!)) r.fail('markup other than an element where the root element should be')
  elements(r)
  miscellany(r)
  if (!r.atEnd) r.fail(r.startsWith('<') && !r.startsWith('<!--') ? 'a second root element or markup after the root' : 'content after the root element')
}

/** Misc outside the root: white space and comments */
function miscellany(r: XmlReader): void {
  for (;;) {
    r.skipSpace()
    if (!r.startsWith('<!--')) return
    comment(r)
  }
}

function comment(r: XmlReader): void {
  const at = r.i
  const dashes = r.s.indexOf('--', at + 4)
  if (dashes < 0) r.fail('a comment that never ends', at)
  if (r.s.charCodeAt(dashes + 2) !== 0x3e) r.fail('"--" inside a comment', dashes)
  r.i = dashes + 3
}

/** the root element and everything in it, iteratively: depth costs no stack */
function elements(r: XmlReader): void {
  const open: string[] = []
  const scope = new NamespaceScope()
  do {
    const c = r.s.charCodeAt(r.i)
    if (c === 0x3c /* < */) {
      if (r.startsWith('</')) {
        endTag(r, open.pop()!)
        scope.close()
      } else if (r.startsWith('<!--')) {
        comment(r)
      } else if (r.startsWith('<![CDATA[')) {
        const end = r.s.indexOf(']]>', r.i + 9)
        if (end < 0) r.fail('a CDATA section that never ends')
        r.i = end + 3
      } else if (r.startsWith('<!') || r.startsWith('<?')) {
        r.fail('markup that is not an element, comment or CDATA section')
      } else {
        if (open.length >= MAX_DEPTH) r.fail(`elements nested more than ${MAX_DEPTH} deep (libxml2's limit)`)
        const { name, attributes, empty } = startTag(r)
        scope.open(r, name, attributes)
        if (empty) scope.close()
        else open.push(name.qname)
      }
    } else if (c === 0x26 /* & */) {
      reference(r)
    } else if (c === 0x5d /* ] */ && r.startsWith(']]>')) {
      r.fail('"]]>" in text')
    } else if (r.atEnd) {
      r.fail(`the end of the file inside <${open[open.length - 1]}>`)
    } else {
      r.i++
    }
  } while (open.length > 0)
}

function startTag(r: XmlReader): { name: QName; attributes: Attribute[]; empty: boolean } {
  r.i++
  const name = r.qName('an element name')
  const attributes: Attribute[] = []
  for (;;) {
    const spaced = r.skipSpace()
    if (r.startsWith('>')) {
      r.i++
      return { name, attributes, empty: false }
    }
    if (r.startsWith('/>')) {
      r.i += 2
      return { name, attributes, empty: true }
    }
    if (!spaced) r.fail(`white space, ">" or "/>" in the start tag of <${name.qname}>`)
    const attribute = r.qName('an attribute name')
    r.skipSpace()
    r.expect('=', `"=" after attribute ${attribute.qname}`)
    r.skipSpace()
    const isDeclaration = attribute.prefix === 'xmlns' || (attribute.prefix === undefined && attribute.local === 'xmlns')
    attributes.push({ name: attribute, value: attributeValue(r, isDeclaration) })
  }
}

/** AttValue; returns the normalized value (XML 1.0 3.3.3) only when `wanted` */
function attributeValue(r: XmlReader, wanted: boolean): string | undefined {
  const quote = r.s.charCodeAt(r.i)
  if (quote !== 0x22 && quote !== 0x27) r.fail('a quoted attribute value')
  r.i++
  let value = ''
  for (;;) {
    const c = r.s.charCodeAt(r.i)
    if (c === quote) break
    if (Number.isNaN(c)) r.fail('an attribute value that never ends')
    if (c === 0x3c) r.fail('"<" in an attribute value')
    if (c === 0x26) {
      const replacement = reference(r)
      if (wanted) value += replacement
      continue
    }
    // end-of-line handling makes CR LF one LF, and normalization makes each of them a space
    if (wanted) value += c === 0x0d && r.s.charCodeAt(r.i + 1) === 0x0a ? '' : c === 0x09 || c === 0x0a || c === 0x0d ? ' ' : r.s[r.i]
    r.i++
  }
  r.i++
  return wanted ? value : undefined
}

/** a character or predefined entity reference at `&`; returns what it stands for */
function reference(r: XmlReader): string {
  const at = r.i++
  if (r.startsWith('#')) {
    const hex = r.s[++r.i] === 'x'
    if (hex) r.i++
    const digits = (hex ? /[0-9a-fA-F]+/y : /[0-9]+/y)
    digits.lastIndex = r.i
    const found = digits.exec(r.s)?.[0]
    if (!found || r.s[r.i + found.length] !== ';') r.fail('a malformed character reference', at)
    r.i += found.length + 1
    // libxml2 stops counting at 0x110000, so any longer string of digits is out of range too
    const trimmed = found.replace(/^0+/, '')
    const value = trimmed.length > 8 ? 0x110000 : parseInt(trimmed || '0', hex ? 16 : 10)
    if (!isXmlChar(value)) r.fail(`a character reference to ${value > 0x10ffff ? 'a value past U+10FFFF' : `U+${value.toString(16).toUpperCase()}`}, not an XML character`, at)
    return String.fromCodePoint(value)
  }
  const name = r.qName('a name after "&"').qname
  if (!r.startsWith(';')) r.fail(`";" after the reference &${name}`)
  r.i++
  const replacement = PREDEFINED[name]
  if (replacement === undefined) r.fail(`a reference to the undefined entity &${name};`, at)
  return replacement
}

function endTag(r: XmlReader, expected: string): void {
  const at = r.i
  r.i += 2
  const name = r.qName('an element name in an end tag').qname
  if (name !== expected) r.fail(`</${name}> closing <${expected}>`, at)
  r.skipSpace()
  r.expect('>', `">" to end </${name}>`)
}
