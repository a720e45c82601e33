// [TLS-1] [TLS-2] the lease port over TLS against a real daemon: CA trust, pinning, the refusals
// and their messages, plaintext on the wrong side, a certificate replaced without a restart.
import t from 'tap'
import { createServer as createTlsServer } from 'node:tls'
import { FlrClient } from '../../lib/client/client.js'
import { openTransport } from '../../lib/client/transport.js'
import { makeCertificate, certificateFacts } from '../../lib/server/tls-cert.js'
import { connectClient, servePacks, type TestContext } from '../helpers/server.js'
import { eventually } from '../helpers/admin.js'
import { codeOf, makePki, replaceFile, serveTls } from './helpers.js'

t.test('[TLS-1] [TLS-2] a client trusting the site CA leases over TLS; status shows the certificate', async (t) => {
  const { port, pki } = await serveTls(t)
  const client = await connectClient(t, port, { tls: { ca: pki.ca.cert } })
  const lease = await client.lease('station')
  t.equal(lease.pack, 'station')
  const status = await client.status()
  t.equal(status.tls?.fingerprint, pki.fingerprint, 'status shows the fingerprint as the server prints it')
  t.match(status.tls?.subject, /CN=flr test server/)
  t.ok(Date.parse(status.tls!.validTo) > Date.now())
  await lease.release()
})

t.test('[TLS-2] a pinned fingerprint is accepted in the printed form, lower case, or without colons', async (t) => {
  const { port, pki } = await serveTls(t)
  for (const form of [pki.fingerprint, pki.fingerprint.toLowerCase(), pki.fingerprint.replace(/:/g, '')]) {
    const client = await connectClient(t, port, { tls: { fingerprint: form } })
    t.equal(client.hello?.protocol, 1, form)
    client.close()
  }
})

/** A TLS server that records every byte a client sends after its handshake. */
async function recordingServer(t: TestContext, cert: string, key: string) {
  const received: Buffer[] = []
  const server = createTlsServer({ cert, key }, (s) => {
    s.on('data', (d: Buffer) => received.push(d))
    s.on('error', () => {})
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return { port: (server.address() as { port: number }).port, received }
}

t.test('[TLS-2] a wrong fingerprint: TLS_UNTRUSTED naming the fingerprint shown and the flag, and nothing is sent', async (t) => {
  const pki = makePki(t.testdir({}))
  const srv = await recordingServer(t, pki.server.cert, pki.server.key)
  const other = certificateFacts(makeCertificate({ commonName: 'other', validDays: 1 }).cert).fingerprint
  const err = await codeOf(FlrClient.connect({ host: '127.0.0.1', port: srv.port, client: 'c', reconnect: false, tls: { fingerprint: other } }))
  t.equal(err.code, 'TLS_UNTRUSTED')
  t.match(err.message, `--tls-fingerprint ${pki.fingerprint}`)
  t.equal(err.details.fingerprint, pki.fingerprint)
  t.same(srv.received, [], 'the server never received a byte of a request')
})

t.test('[TLS-2] an unknown CA, and no CA at all (the system store): TLS_UNTRUSTED naming the fingerprint, --tls-ca and --tls-fingerprint', async (t) => {
  const pki = makePki(t.testdir({}))
  const srv = await recordingServer(t, pki.server.cert, pki.server.key)
  const stranger = makeCertificate({ commonName: 'another CA', ca: true, validDays: 1 })
  for (const tls of [{ ca: stranger.cert }, {}]) {
    const err = await codeOf(openTransport({ host: '127.0.0.1', port: srv.port, timeoutMs: 5_000, tls }))
    t.equal(err.code, 'TLS_UNTRUSTED')
    t.match(err.message, /--tls-ca FILE/)
    t.match(err.message, `--tls-fingerprint ${pki.fingerprint}`)
  }
  t.same(srv.received, [], 'nothing was sent')
})

t.test('[TLS-2] a certificate for another name: refused even when its CA is trusted', async (t) => {
  const pki = makePki(t.testdir({}), ['10.9.8.7'])
  const srv = await recordingServer(t, pki.server.cert, pki.server.key)
  const err = await codeOf(openTransport({ host: '127.0.0.1', port: srv.port, timeoutMs: 5_000, tls: { ca: pki.ca.cert } }))
  t.equal(err.code, 'TLS_UNTRUSTED')
  t.match(err.message, /not for 127\.0\.0\.1/)
})

t.test('[TLS-1] plaintext to the TLS port is not served (and a TLS bystander is); TLS to a plaintext port says what to check', async (t) => {
  const { port, pki } = await serveTls(t)
  const bystander = await connectClient(t, port, { tls: { ca: pki.ca.cert } })
  const plain = await codeOf(FlrClient.connect({ host: '127.0.0.1', port, client: 'plain', reconnect: false, connectTimeoutMs: 15_000 }))
  t.equal(plain.code, 'CONNECTION_LOST', 'a plaintext hello gets no answer but a closed connection')
  t.equal((await bystander.status()).serving, true)
  const { port: plainPort } = await servePacks(t, [{ name: 'station', limit: 1 }])
  const tlsToPlain = await codeOf(openTransport({ host: '127.0.0.1', port: plainPort, timeoutMs: 15_000, tls: { ca: pki.ca.cert } }))
  t.equal(tlsToPlain.code, 'CONNECTION_LOST')
  t.match(tlsToPlain.message, /--tls-cert/)
})

t.test('[TLS-1] a certificate replaced on disk is used for new connections without a restart; open ones go on', async (t) => {
  const { port, pki } = await serveTls(t)
  const daemonTls = { ca: pki.ca.cert }
  const before = await connectClient(t, port, { tls: daemonTls })
  const next = makeCertificate({ commonName: 'flr test server 2', altNames: ['127.0.0.1'], validDays: 30, issuer: pki.ca })
  const nextFp = certificateFacts(next.cert).fingerprint
  replaceFile(pki.keyFile, next.key)
  replaceFile(pki.certFile, next.cert)
  await eventually(async () => (await before.status()).tls?.fingerprint === nextFp, 'status to show the new certificate', 30_000)
  const after = await connectClient(t, port, { tls: { fingerprint: nextFp } })
  t.equal(after.hello?.protocol, 1, 'a new connection sees the new certificate')
  t.equal((await before.status()).serving, true, 'the connection made before goes on')
})
