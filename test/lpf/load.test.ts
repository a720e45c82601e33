import t from 'tap'
import { createHash, generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DOMParser } from '@xmldom/xmldom'
import { LOAD_STEPS, loadLpf, loadLpfDetailed, readVendorKeys } from '../../lib/lpf/load.js'
import { buildLpfXml, signLpf } from '../../lib/lpf/vendor.js'
import { niagaraSpec, OTHER_HOST_ID } from '../../fixtures/make-fixtures.js'
import { KEYS, NOW, OTHER_PUB_PATH, TEST_HOST, VENDOR_KEY_PEM, VENDOR_PUB_PATH, hostile, hostileCases, otherPub, valid, validCases, vendorPub } from './helpers.js'

const opts = { vendorKeys: [vendorPub], hostId: TEST_HOST, now: NOW }
const signedFor = (over: Parameters<typeof niagaraSpec>[0]) => Buffer.from(signLpf(buildLpfXml(niagaraSpec(over)), VENDOR_KEY_PEM))

t.test('[LPF-8] every hostile fixture is refused with the code its manifest gives', async (t) => {
  t.ok(hostileCases.length >= 40)
  for (const c of hostileCases) {
    t.throws(() => loadLpf(hostile(c.file), opts), { code: c.code }, `${c.file}: ${c.why}`)
  }
})

t.test('[LPF-8] every rejection message says what is wrong and what to do', async (t) => {
  for (const c of hostileCases) {
    try {
      loadLpf(hostile(c.file), opts)
      t.fail(`${c.file} loaded`)
    } catch (e) {
      t.match((e as Error).message, /(ask|the vendor|sign|check|never|must|only|allowed|use)/, c.file)
    }
  }
})

t.test('every valid fixture loads, named <hostId>.lp, on this host', async (t) => {
  for (const c of validCases) {
    const plan = loadLpf(valid(c.file), { ...opts, fileName: `/var/lib/flr/licenses/${TEST_HOST}.lp` })
    t.equal(plan.hostId, TEST_HOST, c.file)
  }
})

t.test('[LPF-6] screening happens before any XML parser sees the file', async (t) => {
  const seen: string[] = []
  const parseFromString = DOMParser.prototype.parseFromString
  DOMParser.prototype.parseFromString = function (this: DOMParser, ...args: Parameters<typeof parseFromString>) {
    seen.push('xmldom')
    return parseFromString.apply(this, args)
  }
  t.teardown(() => {
    DOMParser.prototype.parseFromString = parseFromString
  })

  loadLpf(valid('niagara.lp'), opts)
  // parse.ts reads only the canonical text verify.ts returns, with no XML library
  t.same(seen, ['xmldom'], 'the spy sees a normal load')
  for (const file of ['doctype-entity-bomb.lp', 'doctype-external-entity.lp', 'pi-in-value.lp', 'pi-stylesheet.lp', 'non-xml.lp', 'utf16.lp']) {
    seen.length = 0
    t.throws(() => loadLpf(hostile(file), opts), { code: 'LPF_MALFORMED' })
    t.same(seen, [], `${file}: refused before any XML library ran`)
  }
})

t.test('[LPF-7] the file must be named <hostId>.lp', async (t) => {
  t.throws(() => loadLpf(valid('niagara.lp'), { ...opts, fileName: '/licenses/niagara.lp' }), {
    code: 'LPF_WRONG_HOST',
    message: `the file is named niagara.lp but is issued for host ${TEST_HOST}: an LPF must be named ${TEST_HOST}.lp`,
  })
  t.equal(loadLpf(valid('niagara.lp'), { ...opts, fileName: `/licenses/${TEST_HOST}.lp` }).hostId, TEST_HOST)
})

t.test('[LPF-7] its hostId must equal the server host id', async (t) => {
  const other = signedFor({ hostId: OTHER_HOST_ID })
  t.throws(() => loadLpf(other, opts), { code: 'LPF_WRONG_HOST', message: new RegExp(`issued for host ${OTHER_HOST_ID}, but this host is ${TEST_HOST}`) })
  t.throws(() => loadLpf(other, { ...opts, hostId: undefined, fileName: `${TEST_HOST}.lp` }), { code: 'LPF_WRONG_HOST' }, 'named for this host is not enough')
  t.equal(loadLpf(other, { vendorKeys: [vendorPub], now: NOW }).hostId, OTHER_HOST_ID, 'without a host id (a vendor inspecting) it loads')
})

t.test('[LPF-1] a date expiration is valid through the last millisecond of that UTC day', async (t) => {
  const lpf = signedFor({ expiration: '2027-11-01' })
  t.equal(loadLpf(lpf, { ...opts, now: Date.UTC(2027, 10, 1, 23, 59, 59, 999) }).expiresAt, Date.UTC(2027, 10, 2))
  t.throws(() => loadLpf(lpf, { ...opts, now: Date.UTC(2027, 10, 2) }), { code: 'LPF_EXPIRED', message: /expired at 2027-11-02T00:00:00.000Z \(expiration="2027-11-01"\)/ })
})

t.test('[LPF-1] a timestamp expiration is valid up to that instant', async (t) => {
  const lpf = signedFor({ expiration: '2027-11-01T12:00:00Z' })
  t.ok(loadLpf(lpf, { ...opts, now: Date.UTC(2027, 10, 1, 11, 59, 59, 999) }))
  t.throws(() => loadLpf(lpf, { ...opts, now: Date.UTC(2027, 10, 1, 12) }), { code: 'LPF_EXPIRED' })
})

t.test('[LPF-1] never does not expire; without `now` the clock is used', async (t) => {
  t.equal(loadLpf(valid('never.lp'), { ...opts, now: Date.UTC(9999, 11, 31) }).expiresAt, null)
  t.throws(() => loadLpf(hostile('expired-date.lp'), { vendorKeys: [vendorPub] }), { code: 'LPF_EXPIRED' })
  t.ok(loadLpf(valid('niagara.lp'), { vendorKeys: [vendorPub] }))
})

t.test('[LPF-8] the steps run in order and the first failing one names the rejection', async (t) => {
  t.same(LOAD_STEPS.map((s) => s.name), ['screen', 'verify', 'parse', 'checkHost', 'checkExpiry'])
  const expiredElsewhere = signedFor({ hostId: OTHER_HOST_ID, expiration: '2020-01-01' })
  t.throws(() => loadLpf(expiredElsewhere, opts), { code: 'LPF_WRONG_HOST' }, 'host before expiry')
  const tamperedExpired = Buffer.from(hostile('expired-date.lp').toString().replace('limit="10"', 'limit="11"'))
  t.throws(() => loadLpf(tamperedExpired, opts), { code: 'LPF_SIGNATURE_INVALID' }, 'signature before expiry')
  t.throws(() => loadLpf(hostile('limit-negative.lp'), { ...opts, vendorKeys: [otherPub] }), { code: 'LPF_UNTRUSTED_KEY' }, 'signature before format')
})

t.test('[LPF-6] [LPF-8] a file nested deeper than a recursive walk survives is refused with a code, not a stack overflow', async (t) => {
  // 200,000 levels fit well within 4 MiB; xml-crypto's recursive c14n overflowed at a few thousand.
  // The screen refuses it before verification, at libxml2's own depth limit.
  const depth = 200_000
  const deep = valid('niagara.lp').toString().replace('<packs>', `<packs>${'<x>'.repeat(depth)}${'</x>'.repeat(depth)}`)
  t.throws(() => loadLpf(Buffer.from(deep), opts), { code: 'LPF_MALFORMED', message: /elements nested more than 257 deep/ })
})

t.test('the digest is the SHA-256 of the file bytes', async (t) => {
  const bytes = valid('niagara.lp')
  t.equal(loadLpf(bytes, opts).digest, createHash('sha256').update(bytes).digest('hex'))
  const crlf = loadLpf(valid('ds-prefix-bom-crlf.lp'), opts)
  t.not(crlf.digest, loadLpf(bytes, opts).digest, 'different bytes, different digest')
  t.same(crlf.packs, loadLpf(bytes, opts).packs, 'even when the signed content is the same')
})

t.test('[LPF-5] loadLpfDetailed tells which vendor key verified the file', async (t) => {
  t.equal(loadLpfDetailed(valid('niagara.lp'), { ...opts, vendorKeys: [otherPub, vendorPub] }).vendorKeyIndex, 1)
})

t.test('[LPF-5] readVendorKeys reads RSA public keys and names the file it cannot use', async (t) => {
  t.equal(readVendorKeys([VENDOR_PUB_PATH, OTHER_PUB_PATH]).length, 2)
  const dir = t.testdir({ 'garbage.pem': 'not a key\n' })
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) as string
  writeFileSync(join(dir, 'ec.pem'), ec)
  writeFileSync(join(dir, 'small.pem'), small)
  const cases: [string[], RegExp][] = [
    [[], /no vendor key given: pass --vendor-key/],
    [[join(dir, 'missing.pem')], /vendor key file .*missing\.pem cannot be read \(ENOENT\)/],
    [[join(KEYS, 'vendor.key.pem')], /vendor\.key\.pem is a private key; the server needs the vendor's public key/],
    [[join(dir, 'garbage.pem')], /garbage\.pem is not a PEM public key/],
    [[join(dir, 'ec.pem')], /ec\.pem is a ec key; LPF signatures are RSA/],
    [[join(dir, 'small.pem')], /small\.pem is a 1024-bit RSA key; at least 2048/],
    [[VENDOR_PUB_PATH, join(dir, 'garbage.pem')], /garbage\.pem/],
  ]
  for (const [paths, message] of cases) t.throws(() => readVendorKeys(paths), { code: 'USAGE', message })
})
