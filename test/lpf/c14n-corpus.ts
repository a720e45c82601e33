// A seeded generator of namespace-well-formed documents crowded with what exclusive c14n must get
// right ([LPF-4]): prefixes that sort differently by code point, by UTF-16 unit and by any locale
// (upper/lower case, é, š/z/t for Estonian), namespace URIs whose order differs by code point and by UTF-16 unit (U+FB00 against U+10000; xmldom refuses names outside the BMP), namespace URIs that are
// prefixes of one another, attributes sharing local names across namespaces, `xmlns`-like
// attribute names, default namespaces declared, nested and undeclared, escapes of every kind in
// text, attributes and URIs, CDATA, comments and processing instructions.
import { seededRandom } from '../helpers/random.js'

export const PREFIXES = ['a', 'A', 'b', 'B', 'z', 'Z', 'aa', 'a1', '_x', 'é', 'E', 'š', 't', 'ﬀ', 'ds']
export const URIS = [
  'urn:a',
  'urn:ab',
  'urn:a:b',
  'urn:A',
  'http://x/',
  'http://x/y',
  'urn:%41',
  "urn:x'y",
  'urn:x?a=b;c',
  'http://[é >\']/p',
  'http://www.w3.org/2000/09/xmldsig#',
  'x:',
  'http://[ﬀ]/',
  'http://[𐀀]/',
]
const ELEMENT_NAMES = ['lpf', 'pack', 'licenses', 'license', 'Signature', 'x', 'X', 'é', 'ﬀ']
const ATTRIBUTE_NAMES = ['name', 'Name', 'a', 'z', 'A', 'xmlnsfoo', 'xmlns-x', 'xmlnsA', 'id', 'é', 'ﬀ']
const VALUES = [
  'plain',
  'a &amp; b',
  '&lt;c&gt;',
  'q&quot;q',
  "it's",
  'tab\tnl\ncr\r\nend',
  '&#9;&#10;&#13;&#xD;&#xA;',
  ' spaced  ',
  '',
  'é€😀',
  '>',
  ']]&gt;',
  '&apos;',
]
const TEXTS = [
  'text',
  ' ',
  '\n  ',
  'a &amp; b &lt; c &gt; d',
  '&#xD;\r\n\r',
  'é€😀',
  '<![CDATA[x < y & ]]]]><![CDATA[> z]]>',
  '<![CDATA[]]>',
  '<![CDATA[\r\n&amp;]]>',
  '<!-- comment -->',
  '<!---->',
  '<!-- <a> & ?> -->',
  '<?pi data?>',
  '<?pi?>',
  '<?pi   spaced  data ?>',
  '<?pi <!-- not a comment --> ?>',
  '&#65;&#x42;&#x1F600;',
  ']]&gt;',
  '"\'>',
  '\t',
]

/** `count` documents from `seed`: element text, no prolog */
export function generateDocuments(seed: number, count: number): string[] {
  const random = seededRandom(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const maybe = (p: number) => random() < p

  /** `scope` maps each prefix in scope to its URI */
  const element = (depth: number, scope: ReadonlyMap<string, string>): string => {
    const own = new Map(scope)
    let attributes = ''
    if (maybe(0.25)) attributes += maybe(0.3) ? ' xmlns=""' : ` xmlns="${pick(URIS)}"`
    for (let i = 0; i < 3; i++) {
      if (!maybe(0.3)) continue
      const prefix = pick(PREFIXES)
      if (attributes.includes(` xmlns:${prefix}=`)) continue
      const uri = pick(URIS)
      own.set(prefix, uri)
      attributes += ` xmlns:${prefix}="${uri.replace(/'/g, '&apos;')}"`
    }
    const prefixes = [...own.keys()]
    const qualified = (local: string) => (prefixes.length > 0 && maybe(0.4) ? `${pick(prefixes)}:${local}` : local)
    // attributes are unique by name and by (namespace URI, local name)
    const expanded = new Set<string>()
    for (let i = 0; i < 5; i++) {
      if (!maybe(0.5)) continue
      const local = pick(ATTRIBUTE_NAMES)
      const name = maybe(0.05) ? `xml:${pick(['lang', 'space'])}` : qualified(local)
      const colon = name.indexOf(':')
      const key = colon < 0 ? `|${name}` : `${name.startsWith('xml:') ? 'xml' : own.get(name.slice(0, colon))}|${name.slice(colon + 1)}`
      if (expanded.has(key)) continue
      expanded.add(key)
      const value = name === 'xml:space' ? pick(['default', 'preserve']) : pick(VALUES)
      attributes += maybe(0.8) ? ` ${name}="${value.replace(/"/g, '&quot;')}"` : ` ${name}='${value.replace(/'/g, '&apos;')}'`
    }
    const tag = qualified(pick(ELEMENT_NAMES))
    if (depth > 4 || maybe(0.15)) return maybe(0.5) ? `<${tag}${attributes}/>` : `<${tag}${attributes}></${tag}>`
    let content = ''
    const children = Math.floor(random() * 5)
    for (let i = 0; i < children; i++) content += maybe(0.45) ? pick(TEXTS) : element(depth + 1, own)
    return `<${tag}${attributes}>${content}</${tag}>`
  }

  return Array.from({ length: count }, () => element(0, new Map()))
}
