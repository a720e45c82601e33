// [LPF-4] c14n.ts against libxml2 itself: `xmllint --exc-c14n` is the oracle (its output with the
// comments left out is the canonical form without comments), on every fixture, on named cases
// for each way flr's (and xml-crypto's) c14n used to differ, and on thousands of generated
// documents. xml-crypto is no reference here: it orders namespaces by locale, misorders
// attributes whose namespace URIs are prefixes of one another, drops attributes named `xmlns…`
// and writes namespace URIs unescaped.
import t from 'tap'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DOMParser } from '@xmldom/xmldom'
import { exclusiveC14n } from '../../lib/lpf/c14n.js'
import { screenLpf } from '../../lib/lpf/screen.js'
import { generateDocuments } from './c14n-corpus.js'
import { HOSTILE_DIR, VALID_DIR } from './helpers.js'
import { libxml2ExcC14n, libxml2ExcC14nFile, requireTool, scratch } from './libxml2.js'

/** xmldom, refusing what it reports, as verify.ts parses */
function parse(xml: string): Document {
  const fail = (message: string) => {
    throw new Error(message)
  }
  return new DOMParser({ errorHandler: { warning: fail, error: fail, fatalError: fail } }).parseFromString(xml, 'text/xml')
}

function ours(xml: string): string {
  try {
    return exclusiveC14n(parse(xml))
  } catch (e) {
    return `(refused: ${(e as Error).message})`
  }
}

t.test('[LPF-4] every fixture libxml2 reads: the same canonical bytes as xmllint --exc-c14n', async (t) => {
  if (!requireTool(t, 'xmllint')) return
  let compared = 0
  let refused = 0
  for (const dir of [VALID_DIR, HOSTILE_DIR]) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.lp'))) {
      let text: string
      try {
        text = screenLpf(readFileSync(join(dir, file)))
      } catch {
        continue
      }
      const theirs = await libxml2ExcC14nFile(join(dir, file))
      if (theirs.code !== 0 || theirs.stderr !== '') {
        refused++
        continue
      }
      t.equal(ours(text), theirs.stdout, `${file}`)
      compared++
    }
  }
  t.ok(compared >= 50, `${compared} fixtures compared (${refused} that libxml2 refuses left to the screen)`)
})

t.test('[LPF-4] the cases where flr and xml-crypto differed from the recommendation, each as libxml2 writes it', async (t) => {
  if (!requireTool(t, 'xmllint')) return
  const cases: [string, string, string][] = [
    [
      'namespace declarations in code point order, upper case before lower, whatever the locale',
      '<r xmlns:b="urn:b" xmlns:B="urn:B" xmlns:a="urn:a" xmlns:t="urn:t" xmlns:z="urn:z" xmlns:š="urn:s"><e b:x="1" B:x="2" a:x="3" t:x="4" z:x="5" š:x="6"/></r>',
      '<r><e xmlns:B="urn:B" xmlns:a="urn:a" xmlns:b="urn:b" xmlns:t="urn:t" xmlns:z="urn:z" xmlns:š="urn:s" B:x="2" a:x="3" b:x="1" š:x="6" t:x="4" z:x="5"></e></r>',
    ],
    [
      'namespace URIs above U+FFFF after those in U+E000–U+FFFF (UTF-8 order, not UTF-16)',
      '<r xmlns:p="http://[𐀀]/" xmlns:q="http://[ﬀ]/"><e p:x="1" q:x="2"/></r>',
      '<r><e xmlns:p="http://[𐀀]/" xmlns:q="http://[ﬀ]/" q:x="2" p:x="1"></e></r>',
    ],
    [
      'attributes by namespace URI then local name, when one URI is a prefix of the other',
      '<r xmlns:p="urn:a" xmlns:q="urn:ab"><e q:a="1" p:z="2"/></r>',
      '<r><e xmlns:p="urn:a" xmlns:q="urn:ab" p:z="2" q:a="1"></e></r>',
    ],
    ['an attribute named xmlns… is an attribute: rendered, in order', '<r xmlnsfoo="x" a="1" xmlns-b="y"/>', '<r a="1" xmlns-b="y" xmlnsfoo="x"></r>'],
    ['escapes in text, attributes and CDATA', '<r a="&lt;&amp;&quot;&#9;&#10;&#13;>">&lt;&amp;&gt;&#13;<![CDATA[<&>]]></r>', '<r a="&lt;&amp;&quot;&#x9;&#xA;&#xD;>">&lt;&amp;&gt;&#xD;&lt;&amp;&gt;</r>'],
    ['xmlns="" where a default namespace rendered above no longer applies', '<r xmlns="urn:a"><e xmlns=""><f/></e></r>', '<r xmlns="urn:a"><e xmlns=""><f></f></e></r>'],
    ['a namespace rendered where it is used, not where it is declared', '<r xmlns:p="urn:p"><e><p:f/><p:g/></e></r>', '<r><e><p:f xmlns:p="urn:p"></p:f><p:g xmlns:p="urn:p"></p:g></e></r>'],
  ]
  const dir = scratch(t)
  for (const [name, xml, expected] of cases) {
    const file = join(dir, 'case.xml')
    writeFileSync(file, xml)
    const theirs = await libxml2ExcC14nFile(file)
    t.equal(theirs.stdout, expected, `${name}: libxml2`)
    t.equal(ours(xml), expected, `${name}: flr`)
  }
})

t.test('[LPF-4] a whole document: processing instructions around the root on their own line, comments and the declaration gone', async (t) => {
  if (!requireTool(t, 'xmllint')) return
  const dir = scratch(t)
  const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<!-- before --><?before x?>\n<r><!-- in --><?in?></r>\n<!-- after --><?after  y ?>\n'
  const file = join(dir, 'doc.xml')
  writeFileSync(file, xml)
  const theirs = await libxml2ExcC14nFile(file)
  t.equal(theirs.stdout, '<?before x?>\n<r><?in?></r>\n<?after y ?>')
  t.equal(ours(xml), theirs.stdout)
})

t.test('[LPF-4] 6,000 generated documents: 0 differences from libxml2', async (t) => {
  if (!requireTool(t, 'xmllint')) return
  const docs = generateDocuments(0xc14, 6000)
  const theirs = await libxml2ExcC14n(scratch(t), docs)
  t.equal(theirs.length, docs.length, 'libxml2 rendered every document')
  const differences: { xml: string; ours: string; theirs: string }[] = []
  let declaring = 0
  let xmlnsLike = 0
  docs.forEach((xml, i) => {
    const mine = ours(xml)
    if (mine !== theirs[i]) differences.push({ xml, ours: mine, theirs: theirs[i]! })
    if (/ xmlns(:[^=]+)?="/.test(mine)) declaring++
    if (/ xmlns[^:=]+="/.test(mine)) xmlnsLike++
  })
  t.same(differences.slice(0, 3), [], `${differences.length} of ${docs.length} documents differ`)
  // the generator reached what matters
  t.ok(declaring >= 2000, `${declaring} canonical forms declare namespaces`)
  t.ok(xmlnsLike >= 500, `${xmlnsLike} keep an attribute named xmlns…`)
})

t.test('[LPF-4] any nesting depth is rendered: the walk keeps its own stack', async (t) => {
  const depth = 100_000
  const doc = new DOMParser().parseFromString(`<lpf>${'<a b="1">'.repeat(depth)}t${'</a>'.repeat(depth)}</lpf>`, 'text/xml')
  t.equal(exclusiveC14n(doc.documentElement!), `<lpf>${'<a b="1">'.repeat(depth)}t${'</a>'.repeat(depth)}</lpf>`)
})
