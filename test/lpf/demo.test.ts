import t from 'tap'
import { existsSync, readFileSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { prepareDemo } from '../../lib/lpf/demo.js'
import { loadLpf, readVendorKeys } from '../../lib/lpf/load.js'
import { signLpf } from '../../lib/lpf/vendor.js'
import { ROOT, TEST_HOST, VENDOR_KEY_PEM, vendorPub } from './helpers.js'

const SAMPLES = join(ROOT, 'lpf-samples')

t.test('[HTTP-2] lpf-samples/niagara.xml is the Niagara example: station 10, wb 20, energy 2, Agent-Session 5 on port 19110', async (t) => {
  const plan = loadLpf(Buffer.from(signLpf(readFileSync(join(SAMPLES, 'niagara.xml'), 'utf8'), VENDOR_KEY_PEM)), { vendorKeys: [vendorPub] })
  t.equal(plan.vendor, 'Acme')
  t.equal(plan.port, 19110)
  t.equal(plan.expiration, '2099-12-31')
  t.same(plan.packs.map((p) => [p.name, p.limit]), [['station', 10], ['wb', 20], ['energy', 2], ['Agent-Session', 5]])
})

t.test('[LPF-7] prepareDemo signs the sample for this host with a demo key kept in the state directory', async (t) => {
  const dir = t.testdir()
  const opts = { samplesDir: SAMPLES, stateDir: join(dir, 'state'), licenseDir: join(dir, 'licenses'), hostId: TEST_HOST }
  const demo = prepareDemo(opts)
  t.equal(demo.lpfPath, join(dir, 'licenses', `${TEST_HOST}.lp`))
  t.equal(demo.vendorKeyPath, join(dir, 'state', 'demo-vendor.pub.pem'))
  t.equal(statSync(join(dir, 'state', 'demo-vendor.key.pem')).mode & 0o777, 0o600, 'the private key is 0600')
  const plan = loadLpf(readFileSync(demo.lpfPath), { vendorKeys: readVendorKeys([demo.vendorKeyPath]), hostId: TEST_HOST, fileName: demo.lpfPath })
  t.same(plan.packs.map((p) => [p.name, p.limit]), [['station', 10], ['wb', 20], ['energy', 2], ['Agent-Session', 5]])
  t.throws(() => loadLpf(readFileSync(demo.lpfPath), { vendorKeys: [vendorPub] }), { code: 'LPF_UNTRUSTED_KEY' }, 'signed by the demo key, not another')
})

t.test('prepareDemo keeps its key pair and leaves an unchanged LPF alone', async (t) => {
  const dir = t.testdir()
  const opts = { samplesDir: SAMPLES, stateDir: join(dir, 'state'), licenseDir: join(dir, 'licenses'), hostId: TEST_HOST }
  const first = prepareDemo(opts)
  const key = readFileSync(join(opts.stateDir, 'demo-vendor.key.pem'), 'utf8')
  const before = statSync(first.lpfPath)
  const second = prepareDemo(opts)
  t.same(second, first)
  t.equal(readFileSync(join(opts.stateDir, 'demo-vendor.key.pem'), 'utf8'), key, 'the key is created once')
  const after = statSync(first.lpfPath)
  t.equal(after.ino, before.ino, 'not rewritten')
  t.equal(after.mtimeMs, before.mtimeMs)

  unlinkSync(first.vendorKeyPath)
  const third = prepareDemo({ ...opts, hostId: 'Lnx-AAAA-BBBB-CCCC-DDDD' })
  t.ok(existsSync(third.vendorKeyPath), 'a lost public key is derived again from the private one')
  t.equal(loadLpf(readFileSync(third.lpfPath), { vendorKeys: readVendorKeys([third.vendorKeyPath]), hostId: 'Lnx-AAAA-BBBB-CCCC-DDDD' }).hostId, 'Lnx-AAAA-BBBB-CCCC-DDDD')
})
