// [TLS-1] [WIRE-10] handshakes that stall or flood never disturb a bystander, and count toward
// --max-connections while they last.
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { connectClient } from '../helpers/server.js'
import { eventually } from '../helpers/admin.js'
import { codeOf, serveTls } from './helpers.js'

function stall(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1')
    s.once('error', reject)
    s.once('connect', () => resolve(s))
  })
}

t.test('[TLS-1] a stalled handshake is cut after the handshake timeout; a bystander is served meanwhile', async (t) => {
  const { port, pki } = await serveTls(t, { tlsHandshakeTimeoutMs: 1_500 })
  const stalled = await Promise.all(Array.from({ length: 20 }, () => stall(port)))
  t.teardown(() => stalled.forEach((s) => s.destroy()))
  // half a ClientHello from some of them: a handshake that started and stopped
  for (const s of stalled.slice(0, 10)) s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]))
  const closed = stalled.map((s) => new Promise<void>((r) => s.once('close', () => r())))
  const bystander = await connectClient(t, port, { tls: { ca: pki.ca.cert } })
  const lease = await bystander.lease('station')
  t.equal(lease.pack, 'station', 'the bystander leases while 20 handshakes stall')
  await Promise.all(closed)
  t.pass('every stalled handshake was cut by the server')
  await lease.release()
})

t.test('[TLS-1] [WIRE-10] --max-connections counts connections still in their handshake', async (t) => {
  const { port, pki } = await serveTls(t, { maxConnections: 2, tlsHandshakeTimeoutMs: 2_000 })
  const stalled = await Promise.all([stall(port), stall(port)])
  t.teardown(() => stalled.forEach((s) => s.destroy()))
  const refused = await codeOf(connectClient(t, port, { tls: { ca: pki.ca.cert }, reconnect: false, connectTimeoutMs: 10_000 }))
  t.equal(refused.code, 'CONNECTION_LOST', 'a third connection is refused while two handshakes are under way')
  await Promise.all(stalled.map((s) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())))))
  await eventually(async () => {
    try {
      const c = await connectClient(t, port, { tls: { ca: pki.ca.cert }, reconnect: false })
      c.close()
      return true
    } catch {
      return false
    }
  }, 'a slot to come back once the stalled handshakes were cut')
  t.pass('once they were cut, a client gets in')
})

t.test('[TLS-1] a flood of full handshakes: the bystander keeps leasing and renewing', async (t) => {
  const { port, pki } = await serveTls(t)
  const bystander = await connectClient(t, port, { tls: { ca: pki.ca.cert } })
  let stop = false
  let handshakes = 0
  const flooder = async () => {
    while (!stop) {
      await new Promise<void>((resolve) => {
        const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false })
        s.once('secureConnect', () => {
          handshakes++
          s.destroy()
          resolve()
        })
        s.once('error', () => resolve())
      })
    }
  }
  const flood = Promise.all(Array.from({ length: 30 }, flooder))
  let served = 0
  for (let i = 0; i < 50; i++) {
    const lease = await bystander.lease('station')
    await lease.renewNow()
    await lease.release()
    served++
  }
  stop = true
  await flood
  t.equal(served, 50, `the bystander did 50 lease/renew/release rounds during ${handshakes} flooding handshakes`)
  t.ok(handshakes > 0)
})
