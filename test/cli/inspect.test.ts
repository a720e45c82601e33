import t from 'tap'
import { createHash } from 'node:crypto'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run } from '../../lib/cli/main.js'
import { OTHER_HOST_ID } from '../../fixtures/make-fixtures.js'
import { HOSTILE_DIR, OTHER_PUB_PATH, ROOT, TEST_HOST, VALID_DIR, VENDOR_PUB_PATH, hostileCases, terminal } from '../lpf/helpers.js'

t.test('[LPF-4] keygen → sign → inspect round trip, human output', async (t) => {
  const dir = t.testdir()
  const prefix = join(dir, 'acme')
  t.equal(await run(['keygen', '--out', prefix], terminal().io), 0)
  const out = join(dir, `${TEST_HOST}.lp`)
  const source = join(dir, 'niagara.xml')
  // the vendor fills in the customer's host id, as the sample says
  writeFileSync(source, readFileSync(join(ROOT, 'lpf-samples', 'niagara.xml'), 'utf8').replace('Lnx-AAAA-AAAA-AAAA-AAAA', TEST_HOST))
  t.equal(await run(['sign', source, '--key', `${prefix}.key.pem`], terminal().io), 0)

  const c = terminal()
  t.equal(await run(['inspect', out, '--vendor-key', `${prefix}.pub.pem`, '--host-id', TEST_HOST], c.io), 0)
  const text = c.stdout()
  t.match(text, new RegExp(`^Verified: signed by vendor key ${prefix}\\.pub\\.pem \\(SHA256:[A-Za-z0-9+/]+\\), for this host`))
  t.match(text, /Vendor +Acme\nGenerated +2026-11-01\nExpiration +2099-12-31 \(valid until 2100-01-01T00:00:00.000Z\)/)
  t.match(text, new RegExp(`Host id +${TEST_HOST}\\nPort +19110`))
  t.match(text, /PACK +LIMIT\nstation +10\nwb +20\nenergy +2/)
  t.equal(c.stderr(), '')
})

t.test('[LPF-4] inspect --json of a verified file', async (t) => {
  const c = terminal()
  t.equal(await run(['inspect', join(VALID_DIR, 'rich-licenses.lp'), '--vendor-key', VENDOR_PUB_PATH, '--json'], c.io), 0)
  const out = JSON.parse(c.stdout())
  t.equal(out.verified, true)
  t.equal(out.error, null)
  t.equal(out.vendorKey.path, VENDOR_PUB_PATH)
  t.equal(out.hostChecked, false)
  t.equal(out.lpf.vendor, 'Acme & Sons "Controls" <EU>')
  t.equal(out.lpf.expiresAt, '2100-01-01T00:00:00.000Z')
  t.same(out.lpf.packs.map((p: { name: string; limit: number }) => [p.name, p.limit]), [['station', 10], ['wb.v2_Pro-1', 1000000], ['energy', 0]])
  t.equal(out.lpf.packs[2].licenses, '<licenses></licenses>')
})

t.test('[LPF-8] inspect of each hostile fixture exits 1 with its code', async (t) => {
  const dir = t.testdir()
  for (const c of hostileCases) {
    // named as a server would read it, so the name is not the reason it fails
    const path = join(dir, `${TEST_HOST}.lp`)
    copyFileSync(join(HOSTILE_DIR, c.file), path)
    const human = terminal()
    t.equal(await run(['inspect', path, '--vendor-key', VENDOR_PUB_PATH, '--host-id', TEST_HOST], human.io), 1, c.file)
    t.match(human.stdout(), new RegExp(`^NOT VERIFIED \\(${c.code}\\)`), `${c.file}: says so first`)
    t.match(human.stderr(), new RegExp(`^flr: ${c.code}: `), `${c.file}: ${c.code}`)
    const json = terminal()
    t.equal(await run(['inspect', path, '--vendor-key', VENDOR_PUB_PATH, '--host-id', TEST_HOST, '--json'], json.io), 1)
    const out = JSON.parse(json.stdout())
    t.equal(out.verified, false)
    t.equal(out.error.code, c.code)
  }
})

t.test('[LPF-6] a file that does not verify is shown as what it claims, marked NOT VERIFIED', async (t) => {
  const c = terminal()
  t.equal(await run(['inspect', join(HOSTILE_DIR, 'tampered-limit.lp'), '--vendor-key', VENDOR_PUB_PATH], c.io), 1)
  t.match(c.stdout(), /^NOT VERIFIED \(LPF_SIGNATURE_INVALID\): the contents below are what the file claims[\s\S]*station +1000/)
  const bad = terminal()
  t.equal(await run(['inspect', join(HOSTILE_DIR, 'non-xml.lp'), '--vendor-key', VENDOR_PUB_PATH], bad.io), 1)
  t.equal(bad.stdout(), 'NOT VERIFIED (LPF_MALFORMED)', 'nothing to show')
})

t.test('without --vendor-key, inspect shows the contents, says it cannot verify, and exits 1', async (t) => {
  const c = terminal()
  t.equal(await run(['inspect', join(VALID_DIR, 'niagara.lp')], c.io), 1)
  t.match(c.stdout(), /^NOT VERIFIED \(no --vendor-key\)[\s\S]*station +10/)
  t.match(c.stderr(), /cannot be verified without --vendor-key: pass the vendor's public key/)
  const j = terminal()
  t.equal(await run(['inspect', join(VALID_DIR, 'niagara.lp'), '--json'], j.io), 1)
  t.same(JSON.parse(j.stdout()).error, { code: null, message: `${join(VALID_DIR, 'niagara.lp')} cannot be verified without --vendor-key: pass the vendor's public key (PREFIX.pub.pem)` })
})

t.test('[LPF-7] the host is checked only with --host-id: a vendor inspects files made for other hosts', async (t) => {
  const file = join(HOSTILE_DIR, 'wrong-host.lp')
  const vendor = terminal()
  t.equal(await run(['inspect', file, '--vendor-key', VENDOR_PUB_PATH], vendor.io), 0)
  t.match(vendor.stdout(), new RegExp(`Host id +${OTHER_HOST_ID}`))
  t.match(vendor.stdout(), new RegExp(`Note: a server reads this file only if it is named ${OTHER_HOST_ID}\\.lp`))
  const admin = terminal()
  t.equal(await run(['inspect', file, '--vendor-key', VENDOR_PUB_PATH, '--host-id', TEST_HOST], admin.io), 1)
  t.match(admin.stderr(), /LPF_WRONG_HOST/)
  const named = terminal()
  t.equal(await run(['inspect', join(VALID_DIR, 'niagara.lp'), '--vendor-key', VENDOR_PUB_PATH, '--host-id', TEST_HOST], named.io), 1)
  t.match(named.stderr(), /LPF_WRONG_HOST: the file is named niagara\.lp but is issued for host/)
})

t.test('[LPF-5] inspect tries each --vendor-key and names the one that verified', async (t) => {
  const c = terminal()
  t.equal(await run(['inspect', join(VALID_DIR, 'niagara.lp'), '--vendor-key', OTHER_PUB_PATH, '--vendor-key', VENDOR_PUB_PATH], c.io), 0)
  t.match(c.stdout(), `Verified: signed by vendor key ${VENDOR_PUB_PATH}`)
  const other = terminal()
  t.equal(await run(['inspect', join(VALID_DIR, 'niagara.lp'), '--vendor-key', OTHER_PUB_PATH], other.io), 1)
  t.match(other.stderr(), /^flr: LPF_UNTRUSTED_KEY/)
})

t.test('inspect refuses bad options with a clear message (usage errors exit 2)', async (t) => {
  const badHost = terminal()
  t.equal(await run(['inspect', join(VALID_DIR, 'niagara.lp'), '--vendor-key', VENDOR_PUB_PATH, '--host-id', 'srv1'], badHost.io), 2)
  t.match(badHost.stderr(), /--host-id "srv1" is not a host id/)
  const privateKey = terminal()
  t.equal(await run(['inspect', join(VALID_DIR, 'niagara.lp'), '--vendor-key', join(ROOT, 'fixtures/keys/vendor.key.pem')], privateKey.io), 2)
  t.match(privateKey.stderr(), /is a private key/)
  const missing = terminal()
  t.equal(await run(['inspect', 'nope.lp', '--vendor-key', VENDOR_PUB_PATH], missing.io), 1)
  t.match(missing.stderr(), /cannot read nope\.lp: ENOENT/)
  const noFile = terminal()
  t.equal(await run(['inspect'], noFile.io), 2)
})

t.test('inspect --help exits 0 with examples', async (t) => {
  const c = terminal()
  t.equal(await run(['inspect', '--help'], c.io), 0)
  t.match(c.stdout(), /Usage: flr inspect \[options\] <file>[\s\S]*--vendor-key <file>[\s\S]*--host-id <id>[\s\S]*--json[\s\S]*Examples:/)
})

t.test('[HA-2] [LPF-2] inspect shows a cluster LPF\'s hosts (the main first), its grace and its digest; --json too', async (t) => {
  const file = join(VALID_DIR, 'cluster.lp')
  const digest = createHash('sha256').update(readFileSync(file)).digest('hex')
  const c = terminal()
  t.equal(await run(['inspect', file, '--vendor-key', VENDOR_PUB_PATH], c.io), 0)
  const text = c.stdout()
  t.match(text, new RegExp(`Hosts +${OTHER_HOST_ID} +port 19110 +\\(main\\)\\n +${TEST_HOST} +port 19111\\n`))
  t.match(text, /Grace +7d \(a client cut off from the server keeps using its lease that long; a server's --grace may shorten it\)/)
  t.match(text, `Digest      sha256:${digest}`)
  t.match(text, `Note: a server reads this file only if it is named after its own host (${OTHER_HOST_ID}.lp, ${TEST_HOST}.lp)`)
  t.match(text, /A cluster LPF \(\[HA-2\]\): each host gets an identical copy named <hostId>\.lp, and every node needs a shared store/)

  const j = terminal()
  t.equal(await run(['inspect', file, '--vendor-key', VENDOR_PUB_PATH, '--json'], j.io), 0)
  const out = JSON.parse(j.stdout())
  t.same(out.lpf.hosts, [{ hostId: OTHER_HOST_ID, port: 19110 }, { hostId: TEST_HOST, port: 19111 }])
  t.match(out.lpf, { hostId: OTHER_HOST_ID, port: 19110, grace: 7 * 86_400_000, digest })

  // checked for this host: its own element and port
  const dir = t.testdir()
  const named = join(dir, `${TEST_HOST}.lp`)
  copyFileSync(file, named)
  const mine = terminal()
  t.equal(await run(['inspect', named, '--vendor-key', VENDOR_PUB_PATH, '--host-id', TEST_HOST, '--json'], mine.io), 0)
  t.match(JSON.parse(mine.stdout()).lpf, { hostId: TEST_HOST, port: 19111 })
})

t.test('[LPF-2] inspect shows the grace the vendor set', async (t) => {
  const c = terminal()
  t.equal(await run(['inspect', join(VALID_DIR, 'grace-30d.lp'), '--vendor-key', VENDOR_PUB_PATH], c.io), 0)
  t.match(c.stdout(), /^Grace +30d /m)
  t.match(c.stdout(), new RegExp(`^Host id +${TEST_HOST}\\nPort +19110$`, 'm'), 'a plain LPF: one host id and port')
})
