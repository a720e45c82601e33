import t from 'tap'
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import { buildLpfXml, generateVendorKeys, signLpf } from '../../lib/lpf/vendor.js'
import { loadLpf } from '../../lib/lpf/load.js'
import { niagaraSpec } from '../../fixtures/make-fixtures.js'
import { TEST_HOST, VENDOR_KEY_PEM, vendorPub } from './helpers.js'

t.test('[LPF-4] vendor keys are an RSA 3072 pair (PKCS#8 private, SPKI public)', async (t) => {
  const keys = generateVendorKeys()
  const priv = createPrivateKey(keys.privateKeyPem)
  t.equal(priv.asymmetricKeyType, 'rsa')
  t.equal(priv.asymmetricKeyDetails?.modulusLength, 3072)
  t.match(keys.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/)
  t.match(keys.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/)
  const data = Buffer.from('lpf')
  t.ok(verify('sha256', data, createPublicKey(keys.publicKeyPem), sign('sha256', data, priv)), 'the halves belong together')
})

t.test('[LPF-1] [LPF-3] buildLpfXml escapes values and inserts licenses as given', async (t) => {
  const xml = buildLpfXml(
    niagaraSpec({
      vendor: 'A&B "<q>"',
      packs: [
        { name: 'a', limit: 1, licenses: '<licenses x="1"><l/></licenses>' },
        { name: 'b', limit: 2, licenses: '<l/>' },
        { name: 'c', limit: 3 },
      ],
    }),
  )
  t.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<lpf vendor="A&amp;B &quot;&lt;q&gt;&quot;" generated="2026-11-01" expiration="2099-12-31">/)
  t.match(xml, /<licenses x="1"><l\/><\/licenses>/)
  t.match(xml, /<licenses><l\/><\/licenses>/)
  t.match(xml, /<licenses\/>/)
  t.notMatch(buildLpfXml(niagaraSpec({ generated: undefined })), /generated=/)
  const plan = loadLpf(Buffer.from(signLpf(xml, VENDOR_KEY_PEM)), { vendorKeys: [vendorPub], hostId: TEST_HOST })
  t.equal(plan.vendor, 'A&B "<q>"')
  t.same(plan.packs.map((p) => p.licenses), ['<licenses x="1"><l></l></licenses>', '<licenses><l></l></licenses>', '<licenses></licenses>'])
})

t.test('[LPF-4] [LPF-5] signLpf writes exactly the LPF profile, with no KeyInfo', async (t) => {
  const xml = signLpf(buildLpfXml(niagaraSpec()), VENDOR_KEY_PEM)
  t.match(xml, /<Signature xmlns="http:\/\/www.w3.org\/2000\/09\/xmldsig#"><SignedInfo>/)
  t.match(xml, /<\/Signature><\/lpf>\s*$/, 'the last child of <lpf>')
  t.match(xml, /<CanonicalizationMethod Algorithm="http:\/\/www.w3.org\/2001\/10\/xml-exc-c14n#"\/>/)
  t.match(xml, /<SignatureMethod Algorithm="http:\/\/www.w3.org\/2001\/04\/xmldsig-more#rsa-sha256"\/>/)
  t.match(xml, /<Reference URI=""><Transforms><Transform Algorithm="http:\/\/www.w3.org\/2000\/09\/xmldsig#enveloped-signature"\/><Transform Algorithm="http:\/\/www.w3.org\/2001\/10\/xml-exc-c14n#"\/><\/Transforms><DigestMethod Algorithm="http:\/\/www.w3.org\/2001\/04\/xmlenc#sha256"\/>/)
  t.notMatch(xml, /KeyInfo/)
  t.equal(xml.match(/<Signature /g)?.length, 1)
})

t.test('[LPF-4] signLpf with SHA-512 uses an RSA-SHA512 signature and a SHA-512 digest, and takes a KeyObject', async (t) => {
  const xml = signLpf(buildLpfXml(niagaraSpec()), createPrivateKey(VENDOR_KEY_PEM), { digest: 'sha512' })
  t.match(xml, /xmldsig-more#rsa-sha512/)
  t.match(xml, /xmlenc#sha512/)
  t.equal(loadLpf(Buffer.from(xml), { vendorKeys: [vendorPub] }).packs.length, 3)
})

t.test('signing is deterministic (flr serve --demo relies on it to leave an unchanged file alone)', async (t) => {
  const source = buildLpfXml(niagaraSpec())
  t.equal(signLpf(source, VENDOR_KEY_PEM), signLpf(source, VENDOR_KEY_PEM))
})
