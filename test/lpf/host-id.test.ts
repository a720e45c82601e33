import t from 'tap'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { HOST_ID_PATTERN, computeHostId, hostIdOf, resolveHostId, type HostIdSources } from '../../lib/lpf/host-id.js'

/** base32 by arithmetic, independent of the implementation's bit shuffling */
function expectedHostId(identity: string): string {
  const head = createHash('sha256').update(identity).digest().subarray(0, 10)
  let n = BigInt('0x' + head.toString('hex'))
  let chars = ''
  for (let i = 0; i < 16; i++) {
    chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[Number(n & 31n)] + chars
    n >>= 5n
  }
  return `Lnx-${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}-${chars.slice(12)}`
}

const sources = (s: Partial<HostIdSources>): HostIdSources => ({
  machineId: () => undefined,
  productUuid: () => undefined,
  macAddresses: () => [],
  ...s,
})

t.test('[HOST-1] Lnx- and four groups of four base32 characters of SHA-256(identity)', async (t) => {
  for (const identity of ['3d1219c7c4c5404aaa1f6d2a48adfda4', 'x', '']) {
    t.equal(hostIdOf(identity), expectedHostId(identity))
    t.match(hostIdOf(identity), HOST_ID_PATTERN)
  }
})

t.test('[HOST-1] this machine has a stable host id', async (t) => {
  const id = computeHostId()
  t.match(id, HOST_ID_PATTERN)
  t.equal(computeHostId(), id)
  if (existsSync('/etc/machine-id')) t.equal(id, expectedHostId(readFileSync('/etc/machine-id', 'utf8').trim()), 'from /etc/machine-id')
})

t.test('[HOST-1] the first source that exists wins: machine-id, then product_uuid, then MAC addresses', async (t) => {
  const macs = ['02:42:ac:11:00:02', '00:16:3e:aa:bb:cc']
  t.equal(computeHostId(sources({ machineId: () => 'mid', productUuid: () => 'uuid', macAddresses: () => macs })), expectedHostId('mid'))
  t.equal(computeHostId(sources({ productUuid: () => 'uuid', macAddresses: () => macs })), expectedHostId('uuid'))
  t.equal(computeHostId(sources({ macAddresses: () => macs })), expectedHostId('00:16:3e:aa:bb:cc\n02:42:ac:11:00:02'))
})

t.test('[HOST-1] MAC addresses are sorted, so interface order, case and duplicates do not change the id', async (t) => {
  const a = computeHostId(sources({ macAddresses: () => ['02:42:AC:11:00:02', '00:16:3e:aa:bb:cc'] }))
  const b = computeHostId(sources({ macAddresses: () => ['00:16:3e:aa:bb:cc', '02:42:ac:11:00:02', '02:42:ac:11:00:02', '00:00:00:00:00:00'] }))
  t.equal(a, b)
})

t.test('[HOST-1] with no identity at all the error says how to give one', async (t) => {
  t.throws(() => computeHostId(sources({ macAddresses: () => ['00:00:00:00:00:00'] })), { code: 'USAGE', message: /cannot compute a host id.*--host-id or FLR_HOST_ID/ })
})

t.test('[HOST-2] --host-id wins over FLR_HOST_ID, which wins over the machine; either is reported as an override', async (t) => {
  let computed = 0
  const compute = () => {
    computed++
    return 'Lnx-AAAA-AAAA-AAAA-AAAA'
  }
  t.same(resolveHostId({ flag: 'Lnx-BBBB-BBBB-BBBB-BBBB', env: 'Lnx-CCCC-CCCC-CCCC-CCCC' }, compute), { hostId: 'Lnx-BBBB-BBBB-BBBB-BBBB', overridden: true })
  t.same(resolveHostId({ env: 'Lnx-CCCC-CCCC-CCCC-CCCC' }, compute), { hostId: 'Lnx-CCCC-CCCC-CCCC-CCCC', overridden: true })
  t.equal(computed, 0, 'the machine is not consulted when overridden')
  t.same(resolveHostId({ env: '' }, compute), { hostId: 'Lnx-AAAA-AAAA-AAAA-AAAA', overridden: false }, 'an empty FLR_HOST_ID is unset')
  t.same(resolveHostId({}), { hostId: computeHostId(), overridden: false })
})

t.test('[HOST-2] an override that is not a host id is refused with a hint', async (t) => {
  t.throws(() => resolveHostId({ flag: 'my-server' }), { code: 'USAGE', message: /--host-id "my-server" is not a host id: a host id looks like Lnx-/ })
  t.throws(() => resolveHostId({ env: 'lnx-test-test-test-test' }), { code: 'USAGE', message: /FLR_HOST_ID .*did you mean Lnx-TEST-TEST-TEST-TEST\?/ })
  t.throws(() => resolveHostId({ flag: 'Lnx-0000-1111-8888-9999' }), { code: 'USAGE' }, '0, 1, 8 and 9 are not base32')
  t.equal(resolveHostId({ flag: ' Lnx-TEST-TEST-TEST-TEST\n' }).hostId, 'Lnx-TEST-TEST-TEST-TEST', 'surrounding whitespace (a pasted line) is dropped')
})
