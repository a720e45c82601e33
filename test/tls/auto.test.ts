// [TLS-1] --tls-cert auto in a real daemon: made at the first start, kept (key 0600), reused,
// and renewed once fewer than 30 days are left.
import t from 'tap'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { certificateFacts, makeCertificate } from '../../lib/server/tls-cert.js'
import { connectClient, dropLpf, freePort, makeDirs, startDaemon } from '../helpers/server.js'

t.test('[TLS-1] auto: made at the first start with its key 0600, served, shown in status', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 1 }] })
  await startDaemon(t, dirs, { tls: { auto: true } })
  t.equal(statSync(join(dirs.stateDir, 'tls-key.pem')).mode & 0o777, 0o600)
  const facts = certificateFacts(readFileSync(join(dirs.stateDir, 'tls-cert.pem'), 'utf8'))
  const client = await connectClient(t, port, { tls: { fingerprint: facts.fingerprint } })
  t.equal((await client.status()).tls?.fingerprint, facts.fingerprint)
  t.ok(Date.parse(facts.validTo) - Date.now() > 300 * 86_400_000, 'valid for about a year')
})

t.test('[TLS-1] auto: a certificate with fewer than 30 days left is renewed at start', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 1 }] })
  const old = makeCertificate({ commonName: 'old', altNames: ['127.0.0.1'], validDays: 10 })
  writeFileSync(join(dirs.stateDir, 'tls-cert.pem'), old.cert)
  writeFileSync(join(dirs.stateDir, 'tls-key.pem'), old.key, { mode: 0o600 })
  const daemon = await startDaemon(t, dirs, { tls: { auto: true } })
  const now = daemon.status().tls!
  t.not(now.fingerprint, certificateFacts(old.cert).fingerprint, 'a new certificate')
  t.ok(Date.parse(now.validTo) - Date.now() > 300 * 86_400_000)
  await daemon.stop()
  const again = await startDaemon(t, dirs, { tls: { auto: true } })
  t.equal(again.status().tls!.fingerprint, now.fingerprint, 'and reused at the next start')
})
