// [WIRE-8] [TLS-3] the peer-address decisions, directly.
import t from 'tap'
import { isLoopback, peerAddress } from '../../lib/admin/peer-address.js'

t.test('[WIRE-8] an IPv4 peer is one address whichever family it came in on', async (t) => {
  t.equal(peerAddress('::ffff:192.0.2.7'), '192.0.2.7')
  t.equal(peerAddress('::FFFF:10.1.2.3'), '10.1.2.3')
  t.equal(peerAddress('192.0.2.7'), '192.0.2.7')
  t.equal(peerAddress('FD00::2'), 'fd00::2', 'IPv6 in one case')
  t.equal(peerAddress('fe80::1%eth0'), 'fe80::1', 'without the zone')
  t.equal(peerAddress(undefined), '?')
})

t.test('[WIRE-8] [TLS-3] loopback is 127.0.0.0/8 and ::1 in any spelling; nothing else', async (t) => {
  for (const a of ['127.0.0.1', '127.8.9.10', '::ffff:127.0.0.1', '::1', '0:0:0:0:0:0:0:1', '0000:0000:0000:0000:0000:0000:0000:0001']) t.ok(isLoopback(a), a)
  for (const a of ['192.0.2.7', '::ffff:192.0.2.7', '10.0.0.1', '128.0.0.1', '::', '::2', 'fe80::1', 'fd00::1', '?', '', 'localhost', '127.0.0.1.evil']) t.notOk(isLoopback(a), a)
})
