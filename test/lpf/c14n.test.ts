// c14n.ts renders exclusive c14n itself, faster than xml-crypto's ExclusiveCanonicalization; the
// signature only verifies if the bytes are the same. These tests compare the two, byte for byte,
// on every fixture and on generated documents crowded with what c14n has to get right:
// namespaces declared, redeclared, undeclared and used only by attributes, attribute order and
// escapes, CDATA, comments, processing instructions and character references.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DOMParser } from '@xmldom/xmldom'
import { SignedXml } from 'xml-crypto'
import { exclusiveC14n } from '../../lib/lpf/c14n.js'
import { DSIG_NS, EXC_C14N } from '../../lib/lpf/dsig.js'
import { seededRandom } from '../helpers/random.js'
import { HOSTILE_DIR, VALID_DIR } from './helpers.js'

const XmlCryptoExcC14n = new SignedXml().CanonicalizationAlgorithms[EXC_C14N]!

type Outcome = { text: string } | { error: string }

function outcome(render: () => string): Outcome {
  try {
    return { text: render() }
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) }
  }
}

/** both renderings of `element`; xml-crypto's first, since neither changes the DOM */
function both(element: Element): { ours: Outcome; theirs: Outcome } {
  const theirs = outcome(() => new XmlCryptoExcC14n().process(element, {}) as string)
  return { ours: outcome(() => exclusiveC14n(element)), theirs }
}

const lenient = () => new DOMParser({ errorHandler: { warning: () => {}, error: () => {}, fatalError: () => {} } })

t.test('[LPF-4] every fixture: the same canonical bytes as xml-crypto, for <lpf> and for SignedInfo', async (t) => {
  let compared = 0
  for (const dir of [VALID_DIR, HOSTILE_DIR]) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.lp'))) {
      const doc = lenient().parseFromString(readFileSync(join(dir, file), 'utf8'), 'text/xml')
      if (!doc?.documentElement) continue
      const elements = [doc.documentElement, ...Array.from(doc.getElementsByTagNameNS(DSIG_NS, 'SignedInfo'))]
      for (const element of elements) {
        const { ours, theirs } = both(element)
        t.same(ours, theirs, `${file}: <${element.tagName}>`)
        compared++
      }
    }
  }
  t.ok(compared >= 60, `${compared} elements compared`)
})

t.test('[LPF-4] generated documents: the same canonical bytes as xml-crypto, or the same failure', async (t) => {
  const random = seededRandom(0xc14)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const maybe = (p: number) => random() < p

  // prefixes that sort differently by code point and by localeCompare, and one that is an
  // Object.prototype property
  const PREFIXES = ['a', 'B', 'b', 'é', 'ds', 'constructor', 'xml']
  const URIS = ['urn:a', 'urn:b', 'http://www.w3.org/2000/09/xmldsig#', 'urn:x?a&amp;b', 'urn:lt&lt;']
  const NAMES = ['lpf', 'pack', 'licenses', 'license', 'Signature', 'x', 'CanonicalizationMethod']
  const ATTRIBUTE_NAMES = ['name', 'limit', 'z', 'A', 'xmlnsish', 'id']
  const VALUES = ['plain', 'a &amp; b', '&lt;c&gt;', 'q&quot;q', "it's", 'tab\tnl\ncr&#xD;&#9;&#10;', ' spaced  ', '', 'é€😀', '>']
  const TEXTS = ['text', ' ', '\n  ', 'a &amp; b &lt; c &gt; d', '&#xD;\r\n', 'é€😀', '<![CDATA[x < y & ]]&gt; z]]>', '<![CDATA[]]>', '<!-- comment -->', '<?pi data?>', '<?pi?>', '&#65;&#x42;', ']]&gt;', '"\'']

  const element = (depth: number, declared: readonly string[]): string => {
    const name = pick(NAMES)
    const own: string[] = []
    let attributes = ''
    // namespace declarations: a default namespace, or undeclaring it, and prefixes
    if (maybe(0.2)) attributes += maybe(0.3) ? ' xmlns=""' : ` xmlns="${pick(URIS)}"`
    for (let i = 0; i < 2; i++) {
      if (maybe(0.25)) {
        const prefix = pick(PREFIXES.filter((p) => p !== 'xml' && !own.includes(p)))
        if (prefix) {
          own.push(prefix)
          attributes += ` xmlns:${prefix}="${pick(URIS)}"`
        }
      }
    }
    const inScope = [...declared, ...own]
    const prefixed = (local: string) => (inScope.length > 0 && maybe(0.35) ? `${pick(inScope)}:${local}` : maybe(0.05) ? `xml:${local}` : local)
    const used = new Set<string>()
    for (let i = 0; i < 4; i++) {
      if (!maybe(0.45)) continue
      const attrName = prefixed(pick(ATTRIBUTE_NAMES))
      if (used.has(attrName)) continue
      used.add(attrName)
      attributes += ` ${attrName}=${maybe(0.8) ? `"${pick(VALUES)}"` : `'${pick(VALUES).replace(/'/g, '&apos;')}'`}`
    }
    const tag = prefixed(name)
    if (depth > 3 || maybe(0.2)) return maybe(0.5) ? `<${tag}${attributes}/>` : `<${tag}${attributes}></${tag}>`
    let content = ''
    const count = Math.floor(random() * 5)
    for (let i = 0; i < count; i++) content += maybe(0.5) ? pick(TEXTS) : element(depth + 1, inScope)
    return `<${tag}${attributes}>${content}</${tag}>`
  }

  let compared = 0
  let failures = 0
  let namespaced = 0
  const differences: { xml: string; ours: Outcome; theirs: Outcome }[] = []
  for (let i = 0; i < 2000; i++) {
    const xml = element(0, [])
    const doc = lenient().parseFromString(xml, 'text/xml')
    if (!doc?.documentElement) continue
    // the root, and a few inner elements with the ancestors' namespaces in scope
    const all = Array.from(doc.getElementsByTagName('*'))
    for (const el of [doc.documentElement, pick(all), pick(all)]) {
      const { ours, theirs } = both(el)
      compared++
      if ('error' in theirs) failures++
      else if (/ xmlns(:[^=]+)?="/.test(theirs.text)) namespaced++
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) differences.push({ xml, ours, theirs })
    }
  }
  t.same(differences.slice(0, 5), [], `${differences.length} of ${compared} renderings differ`)
  // the generator reached what matters: namespace declarations, and the failure xml-crypto has
  t.ok(compared >= 5000, `${compared} elements compared`)
  t.ok(namespaced >= 1000, `${namespaced} renderings declare namespaces`)
  t.ok(failures >= 20, `${failures} fail in both (an empty processing instruction)`)
})

t.test('[LPF-4] any nesting depth is rendered: the walk keeps its own stack', async (t) => {
  const depth = 100_000
  const doc = new DOMParser().parseFromString(`<lpf>${'<a b="1">'.repeat(depth)}t${'</a>'.repeat(depth)}</lpf>`, 'text/xml')
  t.equal(exclusiveC14n(doc.documentElement!), `<lpf>${'<a b="1">'.repeat(depth)}t${'</a>'.repeat(depth)}</lpf>`)
})
