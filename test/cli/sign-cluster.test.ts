// `flr sign` of a cluster source ([HA-2]): one identical signed copy per host, each named after its
// host ([LPF-7]), verified by xmlsec1 like any LPF ([LPF-4]); and no signed file is ever replaced
// without --force (issue 17).
import t, { type Test } from 'tap'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run } from '../../lib/cli/main.js'
import { loadLpf } from '../../lib/lpf/load.js'
import { buildLpfXml } from '../../lib/lpf/vendor.js'
import { niagaraSpec, OTHER_HOST_ID, THIRD_HOST_ID } from '../../fixtures/make-fixtures.js'
import { KEYS, TEST_HOST, terminal, vendorPub } from '../lpf/helpers.js'
import { requireTool, run as runTool } from '../lpf/libxml2.js'

const KEY = join(KEYS, 'vendor.key.pem')
const HOSTS = [TEST_HOST, OTHER_HOST_ID, THIRD_HOST_ID]
const clusterXml = buildLpfXml(niagaraSpec({ grace: '3d', otherHosts: [{ hostId: OTHER_HOST_ID, port: 19111 }, { hostId: THIRD_HOST_ID, port: 19112 }] }))

function source(t: Test, xml = clusterXml): { dir: string; file: string } {
  const dir = t.testdir({ 'cluster.xml': xml })
  return { dir, file: join(dir, 'cluster.xml') }
}

t.test('[HA-2] [LPF-7] flr sign of a cluster source writes one identical copy per host, named <hostId>.lp, and says which goes where', async (t) => {
  const { dir, file } = source(t)
  const c = terminal()
  t.equal(await run(['sign', file, '--key', KEY], c.io), 0)
  const copies = HOSTS.map((h) => readFileSync(join(dir, `${h}.lp`)))
  t.ok(copies.every((b) => b.equals(copies[0]!)), 'the copies are identical (one digest across the cluster)')
  for (const [i, hostId] of HOSTS.entries()) {
    const path = join(dir, `${hostId}.lp`)
    const plan = loadLpf(readFileSync(path), { vendorKeys: [vendorPub], hostId, fileName: path })
    t.equal(plan.port, 19110 + i, `${hostId} serves on the port of its own <flr>`)
    t.equal(plan.grace, 3 * 86_400_000)
  }
  const out = c.stdout()
  t.match(out, `Signed ${file}: a cluster LPF for 3 hosts, 3 packs, expiration 2099-12-31, grace 3d`)
  t.match(out, /3 identical copies, one per node; the customer's admin puts each in the license directory of its host:/)
  t.match(out, `${join(dir, `${TEST_HOST}.lp`)} → the server whose \`flr host-id\` is ${TEST_HOST} (port 19110, the main host)`)
  t.match(out, `${join(dir, `${THIRD_HOST_ID}.lp`)} → the server whose \`flr host-id\` is ${THIRD_HOST_ID} (port 19112)`)
  t.match(out, /every node must run with the same --store postgres:\/\/… \(a shared store\)/)
})

t.test('[HA-2] flr sign --out DIR --json: the copies in that directory, listed', async (t) => {
  const { dir, file } = source(t)
  const outDir = join(dir, 'out', 'acme')
  const c = terminal()
  t.equal(await run(['sign', file, '--key', KEY, '--out', outDir, '--json'], c.io), 0)
  const summary = JSON.parse(c.stdout())
  t.same(summary.files, HOSTS.map((hostId, i) => ({ file: join(outDir, `${hostId}.lp`), hostId, port: 19110 + i })))
  t.same(summary.hosts, HOSTS.map((hostId, i) => ({ hostId, port: 19110 + i })))
  t.equal(summary.grace, 3 * 86_400_000)
  t.match(summary.digest, /^[0-9a-f]{64}$/)
  for (const h of HOSTS) t.ok(existsSync(join(outDir, `${h}.lp`)), `${h}.lp in --out`)
  t.notOk(existsSync(join(dir, `${TEST_HOST}.lp`)), 'nothing beside the source')

  writeFileSync(join(dir, 'a-file'), 'x')
  const notDir = terminal()
  t.equal(await run(['sign', file, '--key', KEY, '--out', join(dir, 'a-file')], notDir.io), 2)
  t.match(notDir.stderr(), /--out .*a-file is a file, but a cluster LPF is written as one <hostId>\.lp per host: give --out a directory/)
})

t.test('flr sign never replaces an existing signed file without --force (issue 17), and writes nothing then', async (t) => {
  const { dir, file } = source(t)
  // one copy of the three already there
  const existing = join(dir, `${OTHER_HOST_ID}.lp`)
  writeFileSync(existing, 'the copy the customer has')
  const c = terminal()
  t.equal(await run(['sign', file, '--key', KEY], c.io), 1)
  t.match(c.stderr(), `${existing} already exists: pass --force to replace it, or choose another --out; nothing was written`)
  t.equal(readFileSync(existing, 'utf8'), 'the copy the customer has', 'left alone')
  t.notOk(existsSync(join(dir, `${TEST_HOST}.lp`)), 'no other copy written either')

  t.equal(await run(['sign', file, '--key', KEY, '--force'], terminal().io), 0, '--force replaces')
  t.match(readFileSync(existing, 'utf8'), /<Signature/)

  // a plain LPF and --out FILE too
  const single = source(t, buildLpfXml(niagaraSpec()))
  const out = join(single.dir, 'customer.lp')
  writeFileSync(out, 'old')
  const again = terminal()
  t.equal(await run(['sign', single.file, '--key', KEY, '--out', out], again.io), 1)
  t.match(again.stderr(), /customer\.lp already exists: pass --force to replace it/)
  t.equal(readFileSync(out, 'utf8'), 'old')
  t.equal(await run(['sign', single.file, '--key', KEY, '--out', out, '--force'], terminal().io), 0)
  t.match(readFileSync(out, 'utf8'), /<Signature/)
  // --out an existing directory: <hostId>.lp in it
  t.equal(await run(['sign', single.file, '--key', KEY, '--out', single.dir], terminal().io), 0)
  t.ok(existsSync(join(single.dir, `${TEST_HOST}.lp`)))
})

t.test('[LPF-2] [HA-2] flr sign refuses a cluster source servers would refuse, naming the problem', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['grace over 30 days', buildLpfXml(niagaraSpec({ grace: '45d' })), /LPF_MALFORMED: .*<lpf> grace "45d" is longer than the 30 days an LPF may allow/],
    ['a malformed grace', buildLpfXml(niagaraSpec({ grace: '1 week' })), /LPF_MALFORMED: .*<lpf> grace "1 week" is not a duration/],
    ['a host listed twice', buildLpfXml(niagaraSpec({ otherHosts: [{ hostId: TEST_HOST, port: 2 }] })), /host id ".*" appears in more than one <flr> element/],
    [
      'six hosts',
      buildLpfXml(niagaraSpec({ otherHosts: ['AAAA', 'BBBB', 'CCCC', 'DDDD', 'EEEE'].map((g) => ({ hostId: `Lnx-${g}-${g}-${g}-${g}`, port: 1 })) })),
      /two to 5 for a cluster LPF \(one per node\), this one has 6/,
    ],
  ]
  for (const [name, xml, message] of cases) {
    const { dir, file } = source(t, xml)
    const c = terminal()
    t.equal(await run(['sign', file, '--key', KEY], c.io), 1, name)
    t.match(c.stderr(), message, name)
    t.notMatch(c.stderr(), /ask the vendor|the vendor must/, `${name}: the vendor is not told to ask the vendor`)
    t.notOk(existsSync(join(dir, `${TEST_HOST}.lp`)), `${name}: nothing written`)
  }
})

t.test('[LPF-4] [HA-2] every copy flr sign writes of a cluster LPF verifies with xmlsec1', async (t) => {
  if (!requireTool(t, 'xmlsec1')) return
  for (const digest of ['sha256', 'sha512']) {
    const { dir, file } = source(t)
    t.equal(await run(['sign', file, '--key', KEY, '--digest', digest], terminal().io), 0)
    for (const h of HOSTS) {
      const out = await runTool('xmlsec1', ['--verify', '--pubkey-pem', join(KEYS, 'vendor.pub.pem'), join(dir, `${h}.lp`)])
      t.equal(out.code, 0, `${digest}: xmlsec1 verifies ${h}.lp${out.code === 0 ? '' : `: ${out.stderr.slice(0, 300)}`}`)
    }
  }
})
