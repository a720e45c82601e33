import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DOMParser } from '@xmldom/xmldom'
import { SignedXml } from 'xml-crypto'
import { signatureCount, unverifiedContent, verifyLpf } from '../../lib/lpf/verify.js'
import { screenLpf } from '../../lib/lpf/screen.js'
import { buildLpfXml, signLpf } from '../../lib/lpf/vendor.js'
import { niagaraSpec } from '../../fixtures/make-fixtures.js'
import { DSIG_NS } from '../../lib/lpf/dsig.js'
import { KEYS, VALID_DIR, VENDOR_KEY_PEM, VENDOR_PUB_PATH, hostile, otherPub, valid, validCases, vendorPub } from './helpers.js'
import { libxml2ExcC14nFile, requireTool, run, scratch } from './libxml2.js'

const VENDOR_PUB_PEM = readFileSync(join(KEYS, 'vendor.pub.pem'), 'utf8')
const signed = signLpf(buildLpfXml(niagaraSpec()), VENDOR_KEY_PEM)
const text = (bytes: Buffer) => screenLpf(bytes)

/** xml-crypto's own verifier, configured as its README shows: a naive verifier the attacks below fool */
function xmlCryptoCheck(xml: string, configure: (sig: SignedXml) => void): { ok: boolean; references: string[] } {
  const sig = new SignedXml()
  configure(sig)
  const doc = new DOMParser().parseFromString(xml, 'text/xml')
  sig.loadSignature(doc.getElementsByTagNameNS(DSIG_NS, 'Signature').item(0)!)
  try {
    return { ok: sig.checkSignature(xml), references: sig.getSignedReferences() }
  } catch {
    return { ok: false, references: [] }
  }
}

t.test('[LPF-4] [LPF-6] every valid fixture verifies here and with xmlsec1, and its signed content is libxml2\'s exclusive c14n of it', async (t) => {
  if (!requireTool(t, 'xmlsec1') || !requireTool(t, 'xmllint')) return
  const dir = scratch(t)
  for (const { file } of validCases) {
    const xml = text(readFileSync(join(VALID_DIR, file)))
    const ours = verifyLpf(xml, [vendorPub])
    t.equal(ours.vendorKeyIndex, 0)
    const xmlsec = await run('xmlsec1', ['--verify', '--pubkey-pem', VENDOR_PUB_PATH, join(VALID_DIR, file)])
    t.equal(xmlsec.code, 0, `${file}: xmlsec1 verifies it too`)
    // enveloped-signature, then exclusive c14n, as libxml2 does it
    const unsigned = join(dir, file)
    writeFileSync(unsigned, xml.replace(/<(\w+:)?Signature\b[^]*<\/\1Signature>/, ''))
    t.equal(ours.signedContent, (await libxml2ExcC14nFile(unsigned)).stdout, `${file}: the signed content is libxml2's`)
  }
})

t.test('[LPF-6] the signed content is <lpf> without its Signature and without comments', async (t) => {
  const { signedContent } = verifyLpf(text(valid('rich-licenses.lp')), [vendorPub])
  t.match(signedContent, /^<lpf [^>]*>/)
  t.match(signedContent, /<\/lpf>$/)
  t.notMatch(signedContent, /Signature|<!--/)
})

t.test('[LPF-4] content changed after signing: LPF_SIGNATURE_INVALID, and xmlsec1 agrees it does not verify', async (t) => {
  const tampered = signed.replace('limit="20"', 'limit="21"')
  t.throws(() => verifyLpf(tampered, [vendorPub]), { code: 'LPF_SIGNATURE_INVALID', message: /changed after the vendor signed it/ })
  if (!requireTool(t, 'xmlsec1')) return
  const file = join(scratch(t), 'tampered.lp')
  writeFileSync(file, tampered)
  t.not((await run('xmlsec1', ['--verify', '--pubkey-pem', VENDOR_PUB_PATH, file])).code, 0, 'xmlsec1 refuses it too')
})

t.test('[LPF-5] signed with a key that is not configured: LPF_UNTRUSTED_KEY', async (t) => {
  t.throws(() => verifyLpf(signed, [otherPub]), { code: 'LPF_UNTRUSTED_KEY', message: /does not verify with the configured vendor key/ })
  t.throws(() => verifyLpf(signed, []), { code: 'LPF_UNTRUSTED_KEY' })
})

t.test('[LPF-5] with several vendor keys, the file verifies with the one that signed it', async (t) => {
  t.equal(verifyLpf(signed, [otherPub, vendorPub]).vendorKeyIndex, 1)
  t.equal(verifyLpf(signed, [vendorPub, otherPub]).vendorKeyIndex, 0)
})

t.test('[LPF-5] the attacker-certificate fixture is a real attack (a verifier that trusts KeyInfo accepts it); flr refuses it', async (t) => {
  const xml = text(hostile('keyinfo-attacker-cert.lp'))
  const naive = xmlCryptoCheck(xml, (s) => (s.getCertFromKeyInfo = SignedXml.getCertFromKeyInfo))
  t.equal(naive.ok, true, 'xml-crypto with getCertFromKeyInfo enabled accepts the attacker key')
  t.match(naive.references[0], /limit="1000000"/, 'and would serve the attacker packs')
  t.throws(() => verifyLpf(xml, [vendorPub]), { code: 'LPF_UNTRUSTED_KEY' })
})

t.test('[LPF-5] the HMAC fixture is a real attack (HMAC keyed with the public key verifies if enabled); flr refuses it', async (t) => {
  const xml = text(hostile('hmac-vendor-public-key.lp'))
  const naive = xmlCryptoCheck(xml, (s) => {
    s.enableHMAC()
    s.publicCert = VENDOR_PUB_PEM
  })
  t.equal(naive.ok, true, 'an HMAC-enabled verifier keyed with the vendor public key accepts it')
  t.throws(() => verifyLpf(xml, [vendorPub]), { code: 'LPF_SIGNATURE_INVALID', message: /HMAC is never accepted/ })
})

t.test('[LPF-5] KeyInfo is never read: a vendor-signed file with an attacker certificate verifies with the vendor key only', async (t) => {
  const xml = text(valid('keyinfo-ignored.lp'))
  t.match(xml, /<X509Certificate>/)
  t.equal(verifyLpf(xml, [vendorPub]).vendorKeyIndex, 0)
  t.throws(() => verifyLpf(xml, [otherPub]), { code: 'LPF_UNTRUSTED_KEY' }, 'the certificate in it is not trusted either')
})

t.test('[LPF-4] anything outside the signature profile is refused with LPF_SIGNATURE_INVALID', async (t) => {
  const reference = /<Reference URI="">[^]*?<\/Reference>/.exec(signed)![0]
  const cases: [string, string, RegExp][] = [
    ['two References', signed.replace(reference, reference + reference), /more than one Reference/],
    ['a Reference without URI', signed.replace('<Reference URI="">', '<Reference>'), /URI="" \(the whole <lpf>\), not no URI/],
    ['a Reference to an id', signed.replace('<Reference URI="">', '<Reference URI="#x">'), /not URI="#x"/],
    ['one transform only', signed.replace(/<Transform Algorithm="http:\/\/www.w3.org\/2000\/09\/xmldsig#enveloped-signature"\/>/, ''), /exactly enveloped-signature then exclusive c14n/],
    [
      'InclusiveNamespaces in the c14n transform',
      signed.replace('<Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>', '<Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><InclusiveNamespaces xmlns="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="x"/></Transform>'),
      /not in the XML-DSig namespace|no child elements/,
    ],
    ['HMACOutputLength', signed.replace(/<SignatureMethod Algorithm="([^"]*)"\/>/, '<SignatureMethod Algorithm="$1"><HMACOutputLength>80</HMACOutputLength></SignatureMethod>'), /no child elements/],
    ['an unknown element in Signature', signed.replace('</SignatureValue>', '</SignatureValue><Manifest/>'), /unexpected <Manifest> in Signature/],
    ['an Object', signed.replace('</SignatureValue>', '</SignatureValue><Object/>'), /Object element/],
    ['text in SignedInfo', signed.replace('<SignedInfo>', '<SignedInfo>hello'), /unexpected text in SignedInfo/],
    ['a short DigestValue', signed.replace(/<DigestValue>[^<]*</, '<DigestValue>AAAA<'), /not a sha256 digest/],
    ['a SignatureValue that is not base64', signed.replace(/<SignatureValue>[^<]*</, '<SignatureValue>not base64!<'), /SignatureValue is not base64/],
    ['no SignatureValue', signed.replace(/<SignatureValue>[^<]*<\/SignatureValue>/, ''), /no SignatureValue/],
    ['an unknown DigestMethod', signed.replace('http://www.w3.org/2001/04/xmlenc#sha256', 'urn:md5'), /DigestMethod "urn:md5" is not allowed/],
    ['a Signature outside the XML-DSig namespace', signed.replace('<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">', '<Signature xmlns="urn:not-dsig">'), /not signed/],
  ]
  for (const [name, xml, message] of cases) {
    t.throws(() => verifyLpf(xml, [vendorPub]), { code: 'LPF_SIGNATURE_INVALID', message }, name)
  }
})

t.test('[LPF-8] a file that is not well-formed XML, or not an <lpf>, is LPF_MALFORMED', async (t) => {
  // well-formedness is the screen's (it always runs first, load.ts and inspect.ts); the root is verify's
  const cases: [string, string, RegExp][] = [
    ['text after the root', signed + 'junk', /content after the root element/],
    ['a bare & in text', signed.replace('<packs>', '<packs>A & B'), /expected a name after "&"/],
    ['mismatched tags', signed.replace('</packs>', '</pack>'), /<\/pack> closing <packs>/],
    ['an undefined entity', signed.replace('vendor="Acme"', 'vendor="&acme;"'), /undefined entity &acme;/],
    ['a duplicate attribute', signed.replace('vendor="Acme"', 'vendor="Acme" vendor="Evil"'), /attribute vendor given twice/],
    ['two root elements', signed + signed.slice(signed.indexOf('<lpf')), /a second root element/],
    ['empty', '', /no root element/],
    ['another root element', signed.replace(/<(\/?)lpf\b/g, '<$1license'), /root element is <license>, not <lpf>/],
    ['<lpf> in a namespace', signed.replace('<lpf ', '<lpf xmlns="urn:x" '), /not <lpf>/],
  ]
  for (const [name, xml, message] of cases) {
    t.throws(() => verifyLpf(screenLpf(Buffer.from(xml, 'utf8')), [vendorPub]), { code: 'LPF_MALFORMED', message }, name)
  }
})

t.test('[LPF-4] [LPF-6] a namespace declaration libxml2 refuses is LPF_MALFORMED wherever it is, signed or not', async (t) => {
  const cases: [string, string][] = [
    ['a relative URI on the unsigned SignatureValue', signed.replace('<SignatureValue>', '<SignatureValue xmlns:q="relative">')],
    ['markup in a URI inside <licenses>', signed.replace('<license product="station"', '<license xmlns:q="http://[&quot;&gt;&lt;/x&gt;]/" product="station"')],
    ['an & in a default namespace URI', signed.replace('<packs>', '<packs xmlns="urn:x?a&amp;b">')],
  ]
  for (const [name, xml] of cases) {
    t.throws(() => verifyLpf(xml, [vendorPub]), { code: 'LPF_MALFORMED', message: /namespace declaration/ }, name)
  }
})

t.test('unverifiedContent shows what a file claims without trusting it; signatureCount counts Signatures', async (t) => {
  const tampered = text(hostile('tampered-limit.lp'))
  t.match(unverifiedContent(tampered), /limit="1000" name="station"/)
  t.equal(signatureCount(signed), 1)
  t.equal(signatureCount(text(hostile('two-signatures.lp'))), 2)
  t.equal(signatureCount(buildLpfXml(niagaraSpec())), 0)
})
