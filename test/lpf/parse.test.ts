// parsePlan is pure: these tests feed it canonical text directly (exclusive c14n form: no
// empty-element tags, attributes double-quoted), and one fixture through the whole pipeline.
import t, { type Test } from 'tap'
import { DOMParser } from '@xmldom/xmldom'
import { SignedXml } from 'xml-crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parsePlan } from '../../lib/lpf/parse.js'
import { loadLpf } from '../../lib/lpf/load.js'
import { screenLpf } from '../../lib/lpf/screen.js'
import { DSIG_NS } from '../../lib/lpf/dsig.js'
import { KEYS, TEST_HOST, valid, vendorPub } from './helpers.js'

const DIGEST = 'ab'.repeat(32)

interface Doc {
  lpf?: string
  flr?: string
  packs?: string
}

const pack = (name: string, limit: string | number, licenses = '<licenses></licenses>') => `<pack limit="${limit}" name="${name}">${licenses}</pack>`

function doc(d: Doc = {}): string {
  const lpf = d.lpf ?? 'expiration="2099-12-31" generated="2026-11-01" vendor="Acme"'
  const flr = d.flr ?? `<flr hostId="${TEST_HOST}" port="19110"></flr>`
  const packs = d.packs ?? `<packs>\n    ${pack('station', 10)}\n  </packs>`
  return `<lpf ${lpf}>\n  ${flr}\n  ${packs}\n</lpf>`
}

const parse = (d: Doc) => parsePlan(doc(d), DIGEST)
const malformed = (t: Test, d: Doc, message: RegExp, name = String(message)) => t.throws(() => parse(d), { code: 'LPF_MALFORMED', message }, name)

t.test('[LPF-1] [LPF-2] [LPF-3] a plan holds every value of the file', async (t) => {
  const plan = parse({})
  t.same(plan, {
    vendor: 'Acme',
    generated: '2026-11-01',
    expiration: '2099-12-31',
    expiresAt: Date.UTC(2100, 0, 1),
    hostId: TEST_HOST,
    port: 19110,
    hosts: [{ hostId: TEST_HOST, port: 19110 }],
    grace: 7 * 86_400_000,
    packs: [{ name: 'station', limit: 10, licenses: '<licenses></licenses>' }],
    digest: DIGEST,
  })
})

t.test('[LPF-1] vendor is required and not empty; escaped values are decoded', async (t) => {
  malformed(t, { lpf: 'expiration="never"' }, /<lpf> has no vendor attribute/)
  malformed(t, { lpf: 'expiration="never" vendor=""' }, /empty vendor/)
  malformed(t, { lpf: 'expiration="never" vendor="  "' }, /empty vendor/)
  t.equal(parse({ lpf: 'expiration="never" vendor="A &amp; B &lt;C&gt; &quot;D&quot; &#xA;&#x9;&#65;"' }).vendor, 'A & B <C> "D" \n\tA')
})

t.test('[LPF-1] generated is optional and, when present, a real calendar date', async (t) => {
  t.equal(parse({ lpf: 'expiration="never" vendor="Acme"' }).generated, null)
  t.equal(parse({ lpf: 'expiration="never" generated="2024-02-29" vendor="Acme"' }).generated, '2024-02-29')
  for (const bad of ['2026-02-29', '2026-04-31', '2026-13-01', '2026-00-10', '2026-1-01', '26-01-01', '2026-01-01T00:00:00Z', '']) {
    malformed(t, { lpf: `expiration="never" generated="${bad}" vendor="Acme"` }, /generated .* is not a valid calendar date/, bad)
  }
})

t.test('[LPF-1] expiration: a date is valid to the end of that UTC day, a timestamp to that instant, never is null', async (t) => {
  const at = (expiration: string) => parse({ lpf: `expiration="${expiration}" vendor="Acme"` }).expiresAt
  t.equal(at('2027-11-01'), Date.UTC(2027, 10, 2), 'end of 2027-11-01 is the start of 2027-11-02')
  t.equal(at('2027-12-31'), Date.UTC(2028, 0, 1))
  t.equal(at('2027-11-01T12:00:00Z'), Date.UTC(2027, 10, 1, 12))
  t.equal(at('2027-11-01T12:00:00.250Z'), Date.UTC(2027, 10, 1, 12, 0, 0, 250))
  t.equal(at('2027-11-01T12:00:00.5Z'), Date.UTC(2027, 10, 1, 12, 0, 0, 500))
  t.equal(at('never'), null)
  t.equal(at('0099-01-01'), new Date('0099-01-02T00:00:00Z').getTime(), 'two-digit years are not 19xx')
})

t.test('[LPF-1] expiration is required and has one of the three forms', async (t) => {
  malformed(t, { lpf: 'vendor="Acme"' }, /no expiration attribute .*expiration="never"/)
  for (const bad of ['Never', 'NEVER', '', '2027-11-01T12:00:00+02:00', '2027-11-01T12:00:00', '2027-11-01 12:00:00Z', '2027-11-01T24:00:00Z', '2027-11-01T12:60:00Z', '2027-02-30', '2027-11-01T12:00Z', 'tomorrow']) {
    malformed(t, { lpf: `expiration="${bad}" vendor="Acme"` }, /expiration/, bad)
  }
})

t.test('[LPF-2] one <flr> with a host id and a port from 1 to 65535', async (t) => {
  malformed(t, { flr: '' }, /one <flr hostId="…" port="…"\/>, or two to 5 for a cluster LPF .*this one has 0/)
  t.equal(parse({ flr: `<flr hostId="${TEST_HOST}" port="1"></flr>` }).port, 1)
  t.equal(parse({ flr: `<flr hostId="${TEST_HOST}" port="65535"></flr>` }).port, 65535)
  for (const bad of ['0', '65536', '-1', '01', '+1', ' 1', '1 ', '1.0', '1e3', '0x50', '', '99999999999']) {
    malformed(t, { flr: `<flr hostId="${TEST_HOST}" port="${bad}"></flr>` }, /port .* is not an integer from 1 to 65535/, JSON.stringify(bad))
  }
  malformed(t, { flr: `<flr hostId="${TEST_HOST}"></flr>` }, /<flr> has no port attribute/)
  malformed(t, { flr: '<flr port="1"></flr>' }, /<flr> has no hostId attribute/)
  malformed(t, { flr: '<flr hostId="my-server" port="1"></flr>' }, /hostId "my-server" is not a host id/)
  malformed(t, { flr: `<flr hostId="${TEST_HOST}" port="1"><x></x></flr>` }, /<flr> has an unknown element <x>/)
})

const HOSTS = ['Lnx-AAAA-AAAA-AAAA-AAAA', 'Lnx-BBBB-BBBB-BBBB-BBBB', 'Lnx-CCCC-CCCC-CCCC-CCCC', 'Lnx-DDDD-DDDD-DDDD-DDDD', 'Lnx-EEEE-EEEE-EEEE-EEEE', 'Lnx-FFFF-FFFF-FFFF-FFFF']
const flrs = (ids: readonly string[]) => ids.map((id, i) => `<flr hostId="${id}" port="${19110 + i}"></flr>`).join('')

t.test('[LPF-2] [HA-2] a cluster LPF: two to five <flr> elements with distinct host ids, in file order, the first the main', async (t) => {
  for (const n of [2, 3, 5]) {
    const plan = parse({ flr: flrs(HOSTS.slice(0, n)) })
    t.same(plan.hosts, HOSTS.slice(0, n).map((hostId, i) => ({ hostId, port: 19110 + i })), `${n} hosts`)
    t.equal(plan.hostId, HOSTS[0], 'unchecked, the plan names the main host')
    t.equal(plan.port, 19110, "and the main host's port")
    t.ok(Object.isFrozen(plan.hosts) && Object.isFrozen(plan.hosts[1]), 'frozen like the rest of the plan')
  }
  malformed(t, { flr: flrs(HOSTS) }, /two to 5 for a cluster LPF \(one per node\), this one has 6/)
  malformed(t, { flr: flrs([HOSTS[0]!, HOSTS[1]!, HOSTS[0]!]) }, /host id "Lnx-AAAA-AAAA-AAAA-AAAA" appears in more than one <flr> element/)
  malformed(t, { flr: `${flrs([HOSTS[0]!])}<flr hostId="${HOSTS[1]}" port="0"></flr>` }, /port "0" is not an integer/, 'every element is checked')
})

t.test('[LPF-2] grace: a duration of whole units, at most 30d, 7d when absent; anything else names the attribute', async (t) => {
  const grace = (value: string) => parse({ lpf: `expiration="never" grace="${value}" vendor="Acme"` }).grace
  t.equal(parse({ lpf: 'expiration="never" vendor="Acme"' }).grace, 7 * 86_400_000, 'absent: 7 days')
  t.equal(grace('30d'), 30 * 86_400_000)
  t.equal(grace('720h'), 30 * 86_400_000)
  t.equal(grace('1d'), 86_400_000)
  t.equal(grace('90m'), 5_400_000)
  t.equal(grace('45s'), 45_000)
  t.equal(grace('250ms'), 250)
  t.equal(grace('0s'), 0, 'no grace at all is the vendor\'s choice')
  for (const over of ['31d', '721h', '2592000001ms', '999999999999d']) {
    malformed(t, { lpf: `expiration="never" grace="${over}" vendor="Acme"` }, /<lpf> grace ".*" is longer than the 30 days an LPF may allow/, over)
  }
  for (const bad of ['7', '7 d', ' 7d', '7d ', '07d', '-1d', '+7d', '1.5d', '7days', '7D', 'P7D', '', 'd', '1w']) {
    malformed(t, { lpf: `expiration="never" grace="${bad}" vendor="Acme"` }, /<lpf> grace ".*" is not a duration: write whole units, such as grace="7d"/, JSON.stringify(bad))
  }
})

t.test('[LPF-3] pack names: ^[A-Za-z0-9._-]{1,64}$', async (t) => {
  const name64 = 'a'.repeat(64)
  t.same(parse({ packs: `<packs>${pack(name64, 1)}${pack('A-z_0.9', 1)}</packs>` }).packs.map((p) => p.name), [name64, 'A-z_0.9'])
  for (const bad of ['a'.repeat(65), '', 'two words', 'ünï', 'a/b', 'a:b', 'a+b']) {
    malformed(t, { packs: `<packs>${pack(bad, 1)}</packs>` }, /pack name .* must be 1 to 64 characters/, bad)
  }
  malformed(t, { packs: '<packs><pack limit="1"><licenses></licenses></pack></packs>' }, /<pack> has no name attribute/)
})

t.test('[LPF-3] pack names are unique in the file (exactly: names differing in case are two packs)', async (t) => {
  malformed(t, { packs: `<packs>${pack('wb', 1)}${pack('station', 1)}${pack('wb', 2)}</packs>` }, /pack name "wb" appears more than once/)
  t.equal(parse({ packs: `<packs>${pack('wb', 1)}${pack('WB', 2)}</packs>` }).packs.length, 2)
})

t.test('[LPF-3] limit is an integer from 0 to 1,000,000', async (t) => {
  t.same(parse({ packs: `<packs>${pack('a', 0)}${pack('b', 1_000_000)}</packs>` }).packs.map((p) => p.limit), [0, 1_000_000])
  for (const bad of ['-1', '1000001', '2.5', '1e3', '0x10', '', ' 5', '05', 'ten', '1_000']) {
    malformed(t, { packs: `<packs>${pack('a', bad)}</packs>` }, /limit .* is not an integer from 0 to 1,000,000/, JSON.stringify(bad))
  }
  malformed(t, { packs: '<packs><pack name="a"><licenses></licenses></pack></packs>' }, /pack "a" has no limit attribute/)
})

t.test('[LPF-3] zero packs is a valid LPF; <packs> itself is required, once', async (t) => {
  t.same(parse({ packs: '<packs></packs>' }).packs, [])
  t.same(parse({ packs: '<packs>\n  </packs>' }).packs, [])
  malformed(t, { packs: '' }, /exactly one <packs> element .*has 0/)
  malformed(t, { packs: '<packs></packs><packs></packs>' }, /exactly one <packs> element .*has 2/)
})

t.test('[LPF-3] each pack has exactly one <licenses>', async (t) => {
  malformed(t, { packs: '<packs><pack limit="1" name="a"></pack></packs>' }, /pack "a" has 0 <licenses>/)
  malformed(t, { packs: `<packs>${pack('a', 1, '<licenses></licenses><licenses></licenses>')}</packs>` }, /pack "a" has 2 <licenses>/)
  malformed(t, { packs: `<packs>${pack('a', 1, '<licenses></licenses><extra></extra>')}</packs>` }, /<pack> has an unknown element <extra>/)
})

t.test('[LPF-3] the <licenses> XML text is kept verbatim, nested elements and all', async (t) => {
  const licenses =
    '<licenses a="1" b="x &amp; y">\n  <license product="station"><licenses>nested</licenses></license>' +
    '<t>&lt;not a tag&gt; &amp; "quotes"</t><x:y xmlns:x="urn:x" x:z="&quot;"></x:y>\n</licenses>'
  const plan = parse({ packs: `<packs>${pack('a', 1, licenses)}${pack('b', 2, '<licenses>b</licenses>')}</packs>` })
  t.equal(plan.packs[0]!.licenses, licenses)
  t.equal(plan.packs[1]!.licenses, '<licenses>b</licenses>')
})

t.test('[LPF-3] [LPF-6] licenses are the exact signed bytes: equal to the slice of xml-crypto\'s signed reference', async (t) => {
  const xml = screenLpf(valid('rich-licenses.lp'))
  const sig = new SignedXml({ publicCert: readFileSync(join(KEYS, 'vendor.pub.pem'), 'utf8') })
  sig.loadSignature(new DOMParser().parseFromString(xml, 'text/xml').getElementsByTagNameNS(DSIG_NS, 'Signature').item(0)!)
  t.equal(sig.checkSignature(xml), true)
  const reference = sig.getSignedReferences()[0]!
  const plan = loadLpf(valid('rich-licenses.lp'), { vendorKeys: [vendorPub] })
  let from = 0
  for (const p of plan.packs) {
    const start = reference.indexOf('<licenses', from)
    const end = reference.indexOf('</licenses>', start) + '</licenses>'.length
    t.equal(p.licenses, reference.slice(start, end), `pack ${p.name}`)
    from = end
  }
  t.match(plan.packs[0]!.licenses, /No &lt;resale&gt; &amp; no reverse engineering/, 'CDATA arrives as canonical text')
  t.notMatch(plan.packs[0]!.licenses, /<!--/, 'comments are not signed content')
  t.equal(plan.vendor, 'Acme & Sons "Controls" <EU>')
})

t.test('[LPF-3] the structure is strict: unknown elements, attributes and stray text are refused', async (t) => {
  malformed(t, { packs: '<pakcs></pakcs>' }, /<lpf> has an unknown element <pakcs>/)
  malformed(t, { lpf: 'expiration="never" vendor="Acme" edition="gold"' }, /<lpf> has an unknown attribute "edition"/)
  malformed(t, { flr: `<flr hostId="${TEST_HOST}" port="1" bind="0.0.0.0"></flr>` }, /<flr> has an unknown attribute "bind"/)
  malformed(t, { packs: '<packs><pack limit="1" name="a" seats="3"><licenses></licenses></pack></packs>' }, /<pack> has an unknown attribute "seats"/)
  malformed(t, { packs: '<packs xmlns="urn:x"></packs>' }, /<packs> has an unknown attribute "xmlns"/)
  malformed(t, { packs: '<packs>free text</packs>' }, /<packs> contains text/)
  malformed(t, { packs: `<packs>${pack('a', 1)}</packs>stray` }, /<lpf> contains text/)
})

t.test('[LPF-6] text that is not exclusive c14n output is refused, never guessed at', async (t) => {
  // verify.ts only ever hands over c14n output; anything else did not come from it
  const unreadable = (content: string, why: string) =>
    t.throws(() => parsePlan(content, DIGEST), { code: 'LPF_MALFORMED', message: /the signed content is not readable XML/ }, why)
  const good = doc()
  unreadable(good.replace('></flr>', '/>'), 'an empty-element tag')
  unreadable(good.replace('port="19110"', "port='19110'"), 'a single-quoted attribute')
  unreadable(good.replace('<flr hostId', '<flr  hostId'), 'two spaces before an attribute')
  unreadable(good.replace('</flr>', '</packs>'), 'an end tag that does not match')
  unreadable(good.replace('</lpf>', ''), 'an unclosed root')
  unreadable(`${good}<lpf></lpf>`, 'a second root')
  unreadable(`${good} `, 'text after the root')
  unreadable(good.replace('<licenses></licenses>', '<licenses><!-- c --></licenses>'), 'a comment, even inside <licenses>')
  unreadable(good.replace('<licenses></licenses>', '<licenses><a></b></licenses>'), 'a mismatched tag inside <licenses>')
  t.throws(() => parsePlan(doc({ flr: '', packs: '' }).replace(/ [^>]*>/, '>'), DIGEST), { code: 'LPF_MALFORMED', message: /has no <lpf> element/ }, 'an empty <lpf>')
})

t.test('[LPF-6] the plan is frozen, down to each pack', async (t) => {
  const plan = parse({})
  t.ok(Object.isFrozen(plan))
  t.ok(Object.isFrozen(plan.packs))
  t.ok(Object.isFrozen(plan.packs[0]))
  t.throws(() => ((plan as { port: number }).port = 1), TypeError)
  t.throws(() => (plan.packs as unknown[]).push({}), TypeError)
  t.throws(() => ((plan.packs[0] as { limit: number }).limit = 1e6), TypeError)
})

t.test('the digest given is the plan digest', async (t) => {
  t.equal(parsePlan(doc(), 'cafe').digest, 'cafe')
})
