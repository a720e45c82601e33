// A seeded generator of small XML documents for the [LPF-6] differential test: documents built
// from pools of valid and invalid pieces (names, namespace declarations, URIs, references,
// comments, declarations) and then mutated (characters deleted, pieces inserted, bytes broken),
// so that most are near the boundary of well-formedness where parsers disagree.

export function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let x = s
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace'
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/'

const NAMES = ['a', 'b', 'p:a', 'q:b', 'p:b', 'r:c', 'xml:x', 'xmlns:y', '_x', 'é', 'a-b.c', 'a·', '·a', '1a', '-a', '.a', 'a:b:c', ':a', 'a:', 'p:1', 'x\u0300', 'x\u203f', '\u203fx', '\u{10000}x', '\u{F0000}x', 'a\u00d7', 'A\u037e', '\u2070x', 'x\u2190', 'xmlns', 'xml', 'p:xmlns', 'Ω', 'a\u3000', '\u3001b']
const URIS = ['urn:a', 'urn:b', 'http://example.com/a', 'https://u@h.example:8080/p/q?x=1#f', '', 'foo', 'a:b', 'urn:a b', 'urn:é', '%41', '%zz', 'urn:%4', '//host:99999999999/', '//host:2147483647/', '//host:2147483648/', 'http://[::1]/', 'http://[::1', '[', 'urn:x#f[1]', '?q', '#f', 'a#b#c', 'a?b?c', 'http://h/p#a#b', '//h:/', '//h:x/', '1a:b', 'a+b-c.d:x', 'ur\\n', 'urn:a"b', "urn:a'b", 'urn:a&amp;b', 'urn:a&lt;b', 'urn:a&#x20;b', 'urn:a&#9;b', 'u:a\tb', 'u:a\nb', 'u:a\r\nb', 'http://a/b c', 'urn:{x}', 'urn:a|b', 'urn:a^b', 'urn:`', 'mailto:x@y', 'file:///tmp/x', 'urn:x:y:z', 'http://h/%', XML_NS, XMLNS_NS, 'http://www.w3.org/2000/09/xmldsig#']
const TEXTS = ['text', ' ', '&lt;&gt;&amp;&apos;&quot;', '&#65;&#x41;&#x1F600;', '&#0;', '&#x0;', '&#xD800;', '&#xFFFE;', '&#x10FFFF;', '&#x110000;', '&#99999999999;', '&#0000000065;', '&#X41;', '&#x;', '&#;', '&#65', '&foo;', '&a:b;', '&;', '& ', '&amp', ']]>', ']]', ']>', ']]]>', 'a > b', '<![CDATA[ <&]] ]]>', '<![CDATA[x]]>]]>', '<![CDATA[', '<!--c-->', '<!-- - -->', '<!---->', '<!--->', '<!-- -- -->', '<!-- --->', '<!--a--->', '\r\n', '\t', 'é\u{1F600}', '<!x>', '</>', '<>', '< a/>', '<a/ >', '<a\t/>', '\uFEFF']
const DECLS = ['', '<?xml version="1.0"?>', "<?xml version='1.0' encoding='UTF-8'?>", '<?xml version="1.0" encoding="utf8" standalone="yes"?>', '<?xml version="1.1"?>', '<?xml version="1."?>', '<?xml version="2.0"?>', '<?xml version="1"?>', '<?xml version="10.0"?>', '<?xml version="1.0"encoding="UTF-8"?>', '<?xml version="1.0" encoding="UTF-8"standalone="no"?>', '<?xml version="1.0" standalone="no" encoding="UTF-8"?>', '<?xml version="1.0" standalone="YES"?>', '<?xml version = "1.0" encoding = "UTF-8" ?>', '<?xml  version="1.0"\n?>', '<?xml encoding="UTF-8"?>', '<?xml version="1.0" encoding="UTF 8"?>', '<?xml version="1.0" encoding=""?>', '<?xml version="1.0" encoding="UTF-8 "?>', '<?xml version="1.0" foo="bar"?>', '<?xml version="1.0">', '<?xml version="1.0" standalone="yes" ?>', '<?xml version="1.0"?>\n', '\uFEFF<?xml version="1.0"?>', '\uFEFF\uFEFF']

type Rand = () => number
const pick = <T>(r: Rand, a: readonly T[]): T => a[Math.floor(r() * a.length)]!
/** mostly the first few (valid) entries of a pool, sometimes any: keeps half the corpus well-formed */
const mostly = <T>(r: Rand, a: readonly T[], safe: number): T => (r() < 0.85 ? a[Math.floor(r() * safe)]! : pick(r, a))

function attribute(r: Rand): string {
  const q = r() < 0.8 ? '"' : "'"
  const k = r()
  const [name, value] =
    k < 0.3 ? [mostly(r, ['xmlns:p', 'xmlns:q', 'xmlns:r', 'xmlns', 'xmlns:xml', 'xmlns:xmlns', 'xmlns:', 'xmlns:p:q'], 4), mostly(r, URIS, 4)]
    : k < 0.7 ? [mostly(r, ['x', 'y', 'xml:lang', 'é', 'p:x', 'q:x', 'r:x', 'xml:space', 'xml:x', 'p:y'], 4), mostly(r, ['1', '', 'v w', '&amp;', '&#60;', '>', '"', "'", ']]>', '\t\n', '&#x9;', '<', '&foo;'], 11)]
    : [pick(r, NAMES), pick(r, ['1', 'urn:a', ''])]
  const eq = mostly(r, ['=', ' = ', '\n=\t', ''], 3)
  return `${name}${eq}${q}${value.replaceAll(q, q === '"' ? '&quot;' : '&apos;')}${q}`
}

function element(r: Rand, depth: number): string {
  const name = r() < 0.9 ? pick(r, ['a', 'b', 'c', 'é', 'xml:a']) : pick(r, NAMES)
  const attrs: string[] = []
  for (let n = Math.floor(r() * r() * 4); n > 0; n--) attrs.push(attribute(r))
  const sep = () => mostly(r, [' ', '\n', '\t', ''], 3)
  const start = `<${name}${attrs.map((a) => sep() + a).join('')}${r() < 0.1 ? ' ' : ''}`
  if (depth > 3 || r() < 0.3) return `${start}/>`
  let body = ''
  for (let n = Math.floor(r() * 4); n > 0; n--) body += r() < 0.5 ? mostly(r, TEXTS, 8) : element(r, depth + 1)
  const end = r() < 0.05 ? pick(r, NAMES) : name
  return `${start}>${body}</${end}${r() < 0.1 ? ' ' : ''}>`
}

function nested(depth: number, declareEach: boolean): string {
  const open = declareEach ? (k: number) => `<e xmlns:n${k}="urn:n${k}">` : () => '<e>'
  return Array.from({ length: depth }, (_, k) => open(k)).join('') + '</e>'.repeat(depth)
}

/** one document; `i` picks a few fixed shapes (depth and name-length limits) among the random ones */
export function generateDocument(seed: number): string | Buffer {
  const r = prng(seed)
  if (seed % 997 === 1) return nested(255 + (seed % 5), seed % 2 === 0)
  if (seed % 997 === 2) return `<${'n'.repeat(49_999 + (seed % 3))}/>`
  if (seed % 997 === 3) return `<a ${'é'.repeat(24_999 + (seed % 3))}="1"/>`
  const misc = () => (r() < 0.1 ? pick(r, [' ', '\n', '<!--m-->', '<!-- -- -->', 'x', '<a/>', '&amp;', '<![CDATA[x]]>', '\uFEFF']) : '')
  let doc = (r() < 0.5 ? mostly(r, DECLS, 4) : '') + misc() + element(r, 0) + misc()
  for (let n = r() < 0.7 ? 0 : Math.floor(r() * 3) + 1; n > 0; n--) doc = mutate(r, doc)
  if (r() < 0.04) return brokenBytes(r, doc)
  return doc
}

function mutate(r: Rand, doc: string): string {
  const at = Math.floor(r() * (doc.length + 1))
  const k = r()
  if (k < 0.35) return doc.slice(0, at) + doc.slice(at + 1 + Math.floor(r() * 3))
  if (k < 0.7) return doc.slice(0, at) + pick(r, ['<', '>', '&', ';', '"', "'", ':', '=', ' ', '-', '--', ']]>', '/', '<!--', '-->', 'é', '\u{10000}', pick(r, TEXTS), attribute(r)]) + doc.slice(at)
  const from = Math.floor(r() * doc.length)
  return doc.slice(0, at) + doc.slice(from, from + Math.floor(r() * 12)) + doc.slice(at)
}

function brokenBytes(r: Rand, doc: string): Buffer {
  const bytes = Buffer.from(doc, 'utf8')
  const at = Math.floor(r() * bytes.length)
  const insert = pick(r, [[0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xff], [0xef, 0xbf, 0xbe], [0xf4, 0x90, 0x80, 0x80], [0x00], [0x1b]])
  return Buffer.concat([bytes.subarray(0, at), Buffer.from(insert), bytes.subarray(at)])
}
