import t, { type Test } from 'tap'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run } from '../../lib/cli/main.js'
import { loadLpf } from '../../lib/lpf/load.js'
import { buildLpfXml } from '../../lib/lpf/vendor.js'
import { niagaraSpec } from '../../fixtures/make-fixtures.js'
import { KEYS, ROOT, TEST_HOST, terminal, vendorPub } from '../lpf/helpers.js'

const KEY = join(KEYS, 'vendor.key.pem')

function source(t: Test, xml = buildLpfXml(niagaraSpec())): { dir: string; file: string } {
  const dir = t.testdir({ 'customer.xml': xml })
  return { dir, file: join(dir, 'customer.xml') }
}

t.test('[LPF-4] [LPF-7] flr sign writes <hostId>.lp beside the source, and it verifies', async (t) => {
  const { dir, file } = source(t)
  const c = terminal()
  t.equal(await run(['sign', file, '--key', KEY], c.io), 0)
  const out = join(dir, `${TEST_HOST}.lp`)
  t.match(c.stdout(), `Signed ${file} → ${out}`)
  t.match(c.stdout(), `for host ${TEST_HOST}, port 19110, 3 packs, expiration 2099-12-31`)
  const plan = loadLpf(readFileSync(out), { vendorKeys: [vendorPub], hostId: TEST_HOST, fileName: out })
  t.same(plan.packs.map((p) => p.name), ['station', 'wb', 'energy'])
})

t.test('[LPF-4] flr sign --out and --digest sha512 --json', async (t) => {
  const { dir, file } = source(t)
  const out = join(dir, 'elsewhere.lp')
  const c = terminal()
  t.equal(await run(['sign', file, '--key', KEY, '--out', out, '--digest', 'sha512', '--json'], c.io), 0)
  const summary = JSON.parse(c.stdout())
  t.equal(summary.file, out)
  t.equal(summary.hostId, TEST_HOST)
  t.equal(summary.packs, 3)
  t.match(readFileSync(out, 'utf8'), /xmldsig-more#rsa-sha512/)
  t.equal(loadLpf(readFileSync(out), { vendorKeys: [vendorPub] }).digest, summary.digest)
})

t.test('flr sign signs the annotated sample as is', async (t) => {
  const dir = t.testdir()
  const out = join(dir, 'sample.lp')
  t.equal(await run(['sign', join(ROOT, 'lpf-samples', 'niagara.xml'), '--key', KEY, '--out', out], terminal().io), 0)
  // station, wb, energy and the HTTP shim's default pack, Agent-Session (issue 17)
  t.equal(loadLpf(readFileSync(out), { vendorKeys: [vendorPub] }).packs.length, 4)
})

t.test('[LPF-1] [LPF-3] flr sign refuses a source servers would refuse, and writes nothing', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['a negative limit', buildLpfXml(niagaraSpec({ packs: [{ name: 'a', limit: -1 }] })), /^flr: LPF_MALFORMED: .*customer\.xml was not signed: pack "a": limit "-1"/],
    ['an expired date', buildLpfXml(niagaraSpec({ expiration: '2020-01-01' })), /^flr: LPF_EXPIRED: .*was not signed: the license pack file expired/],
    ['a DOCTYPE', '<!DOCTYPE lpf>' + buildLpfXml(niagaraSpec()).replace(/^<\?xml[^>]*>\n/, ''), /^flr: LPF_MALFORMED: .*customer\.xml cannot be signed: .*DOCTYPE/],
    ['not XML', 'hello', /^flr: LPF_MALFORMED: .*cannot be signed: .*not well-formed/],
  ]
  for (const [name, xml, message] of cases) {
    const { dir, file } = source(t, xml)
    const c = terminal()
    t.equal(await run(['sign', file, '--key', KEY], c.io), 1, name)
    t.match(c.stderr(), message, name)
    t.notOk(existsSync(join(dir, `${TEST_HOST}.lp`)), `${name}: nothing written`)
  }
})

t.test('flr sign refuses an already signed file, a public key and missing files', async (t) => {
  const { dir, file } = source(t)
  t.equal(await run(['sign', file, '--key', KEY], terminal().io), 0)
  const signed = join(dir, `${TEST_HOST}.lp`)
  const again = terminal()
  t.equal(await run(['sign', signed, '--key', KEY, '--out', join(dir, 'x.lp')], again.io), 1)
  t.match(again.stderr(), /is already signed: sign the unsigned XML source/)

  const pub = terminal()
  t.equal(await run(['sign', file, '--key', join(KEYS, 'vendor.pub.pem')], pub.io), 1)
  t.match(pub.stderr(), /--key .*vendor\.pub\.pem is not a PEM private key: it is a public key; sign with PREFIX\.key\.pem/)

  const missing = terminal()
  t.equal(await run(['sign', join(dir, 'nope.xml'), '--key', KEY], missing.io), 1)
  t.match(missing.stderr(), /cannot read .*nope\.xml: ENOENT/)

  writeFileSync(join(dir, 'garbage.pem'), 'x')
  const garbage = terminal()
  t.equal(await run(['sign', file, '--key', join(dir, 'garbage.pem')], garbage.io), 1)
  t.match(garbage.stderr(), /is not a PEM private key \(flr keygen writes one\)/)
})

t.test('flr sign without --key is a usage error (exit 2); --help exits 0', async (t) => {
  const { file } = source(t)
  const c = terminal()
  t.equal(await run(['sign', file], c.io), 2)
  t.match(c.stderr(), /--key/)
  const h = terminal()
  t.equal(await run(['sign', '--help'], h.io), 0)
  t.match(h.stdout(), /Usage: flr sign \[options\] <file>[\s\S]*--key <file>[\s\S]*--out <path>[\s\S]*--force[\s\S]*Examples:/)
})
