// [LPF-4] [LPF-6] Which namespace URIs flr accepts, against libxml2: exactly those libxml2 parses
// without a namespace error and canonicalizes (it refuses relative ones), less those holding a
// character libxml2 would write unescaped (& < " TAB LF CR), where the recommendation escapes it.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkNamespaceDeclaration } from '../../lib/lpf/namespace-uri.js'
import { seededRandom } from '../helpers/random.js'
import { requireTool, run, scratch } from './libxml2.js'

const HANDPICKED = [
  'urn:a', 'urn:x?a&b', 'urn:x"q', 'urn:x<q', 'urn:x>q', 'urn:x q', 'urn:x\tq', 'urn:é', "urn:x'y", 'urn:%41', 'urn:%4', 'urn:a#b#c',
  'http://[::1]/x', 'http://a b', 'x:{}', 'x:|', 'x:\\', 'x:^`', '1x:a', 'x:a?b/c?d', 'x:[a]', 'http://u@h:p/', 'http://u@h:1/', 'http://h:/',
  'http://h:99999999999/', 'x:%zz', 'X+-.:y', '#frag', '//host', 'x:', 'foo', 'a/b', 'http://["<>]/x', "http://[\"<>']/x", 'http://[\t]/x',
  'http://[é >]/', 'x:a#[]', 'x:?#', 'http://1.2.3.4/', 'http://999.1.1.1/', 'x:/', 'x://', 'x:///', 'x:a//b', 'http://h/%41%', 'mailto:a@b',
]
const ALPHABET = 'ab:/?#[]@!$&\'()*+,;=%4F-._~"<> \té1'

function candidates(): string[] {
  const random = seededRandom(0x0e1)
  const out = new Set(HANDPICKED)
  while (out.size < 600) {
    let s = random() < 0.7 ? 'x:' : random() < 0.5 ? 'http://' : ''
    const length = 1 + Math.floor(random() * 10)
    for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(random() * ALPHABET.length)]
    out.add(s)
  }
  return [...out]
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\t/g, '&#9;')

function flrAccepts(uri: string): boolean {
  try {
    checkNamespaceDeclaration('p', uri)
    return true
  } catch {
    return false
  }
}

t.test('[LPF-4] [LPF-6] namespace URIs: flr accepts exactly what libxml2 canonicalizes and writes as the recommendation does', async (t) => {
  if (!requireTool(t, 'xmllint')) return
  const dir = scratch(t)
  const uris = candidates()
  const files = uris.map((uri, i) => {
    const file = join(dir, `u${i}.xml`)
    writeFileSync(file, `<r xmlns:p="${escapeAttr(uri)}"><p:e/></r>`)
    return file
  })
  // parse errors, many files per run: each is reported with its file name
  const parseRefused = new Set<number>()
  for (let i = 0; i < files.length; i += 200) {
    const out = await run('xmllint', ['--noout', ...files.slice(i, i + 200)])
    for (const m of out.stderr.matchAll(/u(\d+)\.xml:\d+: namespace error/g)) parseRefused.add(Number(m[1]))
  }
  // c14n refuses relative URIs: one run per file that parsed, a few at a time
  const libxml2Accepts = new Array<boolean>(uris.length).fill(false)
  let next = 0
  const worker = async () => {
    while (next < uris.length) {
      const i = next++
      if (parseRefused.has(i)) continue
      const out = await run('xmllint', ['--exc-c14n', files[i]!])
      libxml2Accepts[i] = out.code === 0 && out.stderr === ''
    }
  }
  await Promise.all([worker(), worker(), worker()])

  const mismatches: string[] = []
  let accepted = 0
  let unescapable = 0
  uris.forEach((uri, i) => {
    const expected = libxml2Accepts[i]! && !/[&<"\t\n\r]/.test(uri)
    if (libxml2Accepts[i] && !expected) unescapable++
    if (expected) accepted++
    if (flrAccepts(uri) !== expected) mismatches.push(`${JSON.stringify(uri)}: libxml2 ${libxml2Accepts[i] ? 'accepts' : 'refuses'}, flr ${flrAccepts(uri) ? 'accepts' : 'refuses'}`)
  })
  t.same(mismatches, [], `${uris.length} URIs: ${accepted} accepted by both, ${uris.length - accepted - unescapable} refused by both, ${unescapable} libxml2 accepts but would write unescaped`)
  t.ok(accepted >= 100 && unescapable >= 10 && uris.length - accepted - unescapable >= 100, 'every kind is well represented')
})

t.test('[LPF-6] the Namespaces in XML constraints libxml2 reports are LPF_MALFORMED too', async (t) => {
  for (const [prefix, uri] of [
    ['p', ''],
    ['xml', 'urn:x'],
    ['p', 'http://www.w3.org/XML/1998/namespace'],
    ['', 'http://www.w3.org/XML/1998/namespace'],
    ['xmlns', 'urn:x'],
    ['p', 'http://www.w3.org/2000/xmlns/'],
  ]) {
    t.throws(() => checkNamespaceDeclaration(prefix!, uri!), { code: 'LPF_MALFORMED' }, `${prefix ? `xmlns:${prefix}` : 'xmlns'}="${uri}"`)
  }
  t.doesNotThrow(() => checkNamespaceDeclaration('', ''), 'xmlns="" undeclares the default namespace')
  t.doesNotThrow(() => checkNamespaceDeclaration('xml', 'http://www.w3.org/XML/1998/namespace'), 'the xml prefix may be declared as itself')
})
