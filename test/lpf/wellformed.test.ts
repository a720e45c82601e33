// [LPF-6] The constructs libxml2 refuses that flr used to accept (issue 11), each inside an LPF
// signed by the vendor (so nothing but well-formedness can refuse it): xmllint refuses each,
// and loadLpf refuses each with LPF_MALFORMED naming what is wrong.
import t from 'tap'
import { loadLpf } from '../../lib/lpf/load.js'
import { buildLpfXml, signLpf } from '../../lib/lpf/vendor.js'
import { NOW, TEST_HOST, VENDOR_KEY_PEM, vendorPub } from './helpers.js'
import { requireTool, xmllintJudge } from './libxml2.js'

const LICENSES = '<license product="station"/>'

/** [construct, where it goes (replacing the licenses content), what flr's message says] */
const CONSTRUCTS: [string, string, RegExp][] = [
  ['"--" inside a comment', `${LICENSES}<!-- a -- b -->`, /"--" inside a comment/],
  ['an unbound element prefix', '<v:license product="station"/>', /namespace prefix v of element v:license is not declared/],
  ['an unbound attribute prefix', '<license v:product="station"/>', /namespace prefix v of attribute v:product is not declared/],
  ['"<" in an attribute value', '<license product="a<b"/>', /"<" in an attribute value/],
  ['"]]>" in text', '<license>a ]]> b</license>', /"\]\]>" in text/],
  ['the same attribute twice through two prefixes of one namespace', '<license xmlns:a="urn:x" xmlns:b="urn:x" a:p="1" b:p="2"/>', /attribute p in namespace urn:x given twice/],
  ['a name with two colons', '<a:b:c xmlns:a="urn:a"/>', /more than one colon/],
  ['a prefix bound to the empty namespace name', '<license xmlns:p=""/>', /empty namespace name/],
  ['the xml prefix bound to another namespace', '<license xmlns:xml="urn:x"/>', /xml prefix bound to another namespace/],
  ['a namespace name that is not a URI', '<license xmlns="urn:a b"/>', /not a valid URI/],
  ['a character reference to a non-character', '<license>&#xFFFE;</license>', /character reference to U\+FFFE/],
  ['an undefined entity', '<license>&nbsp;</license>', /undefined entity &nbsp;/],
  ['a name starting with a digit', '<license 1st="x"/>', /expected an attribute name/],
]

/**
 * The LPF with `licenses` verbatim, and the Signature `flr sign` computes over its lenient
 * (xmldom) reading of it: without the well-formedness check, such a file verified and loaded.
 */
function signedWith(licenses: string): string {
  const spec = { vendor: 'Acme', generated: '2026-11-01', expiration: '2099-12-31', hostId: TEST_HOST, port: 19110, packs: [{ name: 'station', limit: 1, licenses: 'PLACEHOLDER' }] }
  const raw = buildLpfXml(spec).replace('PLACEHOLDER', licenses)
  let signed: string
  try {
    signed = signLpf(raw, VENDOR_KEY_PEM)
  } catch {
    // flr's own c14n cannot canonicalize it (an unbound prefix): sign the file without it
    signed = signLpf(buildLpfXml(spec).replace('PLACEHOLDER', LICENSES), VENDOR_KEY_PEM)
  }
  const signature = /<Signature[\s\S]*<\/Signature>/.exec(signed)![0]
  return raw.replace(/<\/lpf>\s*$/, `${signature}</lpf>`)
}

t.test('[LPF-6] each construct libxml2 refuses is refused by loadLpf, before verification, as LPF_MALFORMED', async (t) => {
  if (!requireTool(t, 'xmllint')) return
  const files = CONSTRUCTS.map(([, licenses]) => signedWith(licenses))
  const libxml2 = xmllintJudge(files)
  for (const [k, [what, , message]] of CONSTRUCTS.entries()) {
    t.not(libxml2[k], null, `${what}: xmllint refuses it (${libxml2[k]})`)
    t.throws(() => loadLpf(Buffer.from(files[k]!), { vendorKeys: [vendorPub], now: NOW }), { code: 'LPF_MALFORMED', message }, `${what}: flr refuses it`)
  }
  // and the same file without the construct loads: the construct is the only reason
  t.equal(loadLpf(Buffer.from(signedWith(LICENSES)), { vendorKeys: [vendorPub], now: NOW }).packs.length, 1)
})
