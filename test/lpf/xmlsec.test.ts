// [LPF-4] [LPF-6] Interop with libxml2's XML-DSig (xmlsec1) both ways, and what flr serves from a
// signed file against what libxml2 reads in it.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SignedXml } from 'xml-crypto'
import { loadLpf } from '../../lib/lpf/load.js'
import { verifyLpf } from '../../lib/lpf/verify.js'
import { buildLpfXml, signLpf } from '../../lib/lpf/vendor.js'
import { EXC_C14N, REFERENCE_TRANSFORMS } from '../../lib/lpf/dsig.js'
import { niagaraSpec } from '../../fixtures/make-fixtures.js'
import { generateDocuments } from './c14n-corpus.js'
import { KEYS, VENDOR_KEY_PEM, vendorPub } from './helpers.js'
import { requireTool, run, scratch } from './libxml2.js'

const VENDOR_PUB = join(KEYS, 'vendor.pub.pem')
const VENDOR_KEY = join(KEYS, 'vendor.key.pem')

/** licenses full of what c14n must get right: mixed-case prefixes, URIs prefixes of one another, xmlns-like names, escapes, comments, CDATA */
const RICH_LICENSES =
  '<licenses xmlns:B="urn:ab" xmlns:a="urn:a" xmlns:b="urn:a:b"><!-- a comment -->' +
  '<license xmlnsfoo="kept" b:z="1" a:y="2" B:x="3" note="&lt;&amp;&quot;&#9;&#10;&#13;>" xmlns:t="urn:t" xmlns:z="urn:z" t:q="4" z:q="5">' +
  '<![CDATA[<&>]]> text &amp; more&#13;<e xmlns="urn:d"><f xmlns=""/></e><x:y xmlns:x="http://[é >\']/p"/></license></licenses>'

const RICH = buildLpfXml(niagaraSpec({ packs: [{ name: 'rich', limit: 3, licenses: RICH_LICENSES }, ...niagaraSpec().packs] }))

/** an unsigned document plus xmlsec1's template of the LPF profile's Signature, for xmlsec1 to fill */
function template(xml: string): string {
  const signature =
    '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>' +
    `<CanonicalizationMethod Algorithm="${EXC_C14N}"/><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>` +
    `<Reference URI=""><Transforms>${REFERENCE_TRANSFORMS.map((a) => `<Transform Algorithm="${a}"/>`).join('')}</Transforms>` +
    '<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue></DigestValue></Reference></SignedInfo>' +
    '<SignatureValue></SignatureValue></Signature>'
  return xml.replace(/<\/lpf>\s*$/, `${signature}</lpf>\n`)
}

/** generated LPFs; none has an element in the XML-DSig namespace, which xmlsec1 would take for the Signature */
function generatedLpfs(seed: number, count: number): string[] {
  return generateDocuments(seed, count * 2)
    .filter((d) => !d.includes('xmldsig#'))
    .slice(0, count)
    .map(lpfWithLicenses)
}

function lpfWithLicenses(licenses: string): string {
  return buildLpfXml(niagaraSpec({ packs: [{ name: 'gen', limit: 1, licenses: `<licenses>${licenses}</licenses>` }] }))
}

t.test('[LPF-4] flr signs, xmlsec1 verifies with the vendor public key: a rich LPF and 40 generated ones', async (t) => {
  if (!requireTool(t, 'xmlsec1')) return
  const dir = scratch(t)
  const sources = [RICH, ...generatedLpfs(0x5ec, 40)]
  let verified = 0
  for (const [i, source] of sources.entries()) {
    const file = join(dir, `flr-${i}.lp`)
    writeFileSync(file, signLpf(source, VENDOR_KEY_PEM))
    const out = await run('xmlsec1', ['--verify', '--pubkey-pem', VENDOR_PUB, file])
    if (out.code === 0) verified++
    else t.fail(`xmlsec1 refuses flr's signature on source ${i}: ${out.stderr.slice(0, 500)}`)
  }
  t.equal(verified, sources.length, `${verified} of ${sources.length} verified by xmlsec1`)
})

t.test('[LPF-4] xmlsec1 signs, flr verifies: a rich LPF and 40 generated ones', async (t) => {
  if (!requireTool(t, 'xmlsec1')) return
  const dir = scratch(t)
  const sources = [RICH, ...generatedLpfs(0x5ed, 40)]
  let verified = 0
  for (const [i, source] of sources.entries()) {
    const tmpl = join(dir, `tmpl-${i}.xml`)
    const signed = join(dir, `xmlsec-${i}.lp`)
    writeFileSync(tmpl, template(source))
    const out = await run('xmlsec1', ['--sign', '--privkey-pem', VENDOR_KEY, '--output', signed, tmpl])
    if (out.code !== 0) {
      t.fail(`xmlsec1 could not sign source ${i}: ${out.stderr.slice(0, 500)}`)
      continue
    }
    const text = readFileSync(signed, 'utf8')
    try {
      verifyLpf(text, [vendorPub])
      verified++
    } catch (e) {
      t.fail(`flr refuses xmlsec1's signature on source ${i}: ${(e as Error).message}`)
    }
  }
  t.equal(verified, sources.length, `${verified} of ${sources.length} verified by flr`)
  // and the rich one loads as a server loads it
  const plan = loadLpf(Buffer.from(readFileSync(join(dir, 'xmlsec-0.lp'))), { vendorKeys: [vendorPub] })
  t.same(plan.packs.map((p) => p.name), ['rich', 'station', 'wb', 'energy'])
})

/** pack names and limits as libxml2 reads them in the file */
async function libxml2Packs(file: string): Promise<string> {
  const out = await run('xmllint', ['--xpath', 'concat(count(/lpf/packs/pack), ":", string-join(/lpf/packs/pack/@name, ","))', file])
  if (out.code === 0) return out.stdout.trim()
  // libxml2's XPath 1.0 has no string-join: list the attributes instead
  const count = await run('xmllint', ['--xpath', 'count(/lpf/packs/pack)', file])
  const names = await run('xmllint', ['--xpath', '/lpf/packs/pack/@name', file])
  return `${count.stdout.trim()}:${[...names.stdout.matchAll(/name="([^"]*)"/g)].map((m) => m[1]).join(',')}`
}

// a namespace URI that, written unescaped into the canonical text, closes the first pack and opens
// a pack "evil" of 1,000,000 seats; the real file, as any XML parser reads it, has three packs
const INJECTION = `"></c:x></licenses></pack><pack name="evil" limit="1000000"><licenses><c:x b="`
const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

t.test('[LPF-4] [LPF-6] a namespace URI carrying markup is refused, never served as a pack the file does not have', async (t) => {
  if (!requireTool(t, 'xmllint')) return
  const dir = scratch(t)
  for (const [name, uri] of [
    ['the URI libxml2 refuses', `urn:customer:Contoso${INJECTION}`],
    ['the bracketed host libxml2 accepts and writes unescaped', `http://[${INJECTION}]/`],
  ] as const) {
    const spec = niagaraSpec()
    const source = buildLpfXml({ ...spec, packs: [{ ...spec.packs[0]!, licenses: `<licenses><c:x xmlns:c="${escapeAttr(uri)}"/></licenses>` }, ...spec.packs.slice(1)] })
    const file = join(dir, 'crafted.lp')
    // signed as xml-crypto (and flr until now) signed it: the canonical text carries the raw markup
    const sig = new SignedXml({ privateKey: VENDOR_KEY_PEM, signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', canonicalizationAlgorithm: EXC_C14N, getKeyInfoContent: () => null })
    sig.addReference({ xpath: '/*', transforms: [...REFERENCE_TRANSFORMS], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256', isEmptyUri: true })
    sig.computeSignature(source, { location: { reference: '/*', action: 'append' } })
    writeFileSync(file, sig.getSignedXml())
    t.equal(await libxml2Packs(file), '3:station,wb,energy', `${name}: libxml2 reads three packs`)
    t.throws(() => loadLpf(Buffer.from(sig.getSignedXml()), { vendorKeys: [vendorPub] }), { code: 'LPF_MALFORMED', message: /namespace declaration xmlns:c=/ }, `${name}: the server refuses it`)
    t.throws(() => signLpf(source, VENDOR_KEY_PEM), { code: 'LPF_MALFORMED' }, `${name}: flr sign refuses it`)
  }
})

t.test('[LPF-4] [LPF-6] an accepted unusual namespace URI: flr serves exactly the packs libxml2 reads', async (t) => {
  if (!requireTool(t, 'xmllint')) return
  const dir = scratch(t)
  const file = join(dir, 'odd.lp')
  const signed = signLpf(RICH, VENDOR_KEY_PEM)
  writeFileSync(file, signed)
  const plan = loadLpf(Buffer.from(signed), { vendorKeys: [vendorPub] })
  t.equal(await libxml2Packs(file), `${plan.packs.length}:${plan.packs.map((p) => p.name).join(',')}`)
  t.match(plan.packs[0]!.licenses, /<x:y xmlns:x="http:\/\/\[é >'\]\/p"><\/x:y>/)
})
