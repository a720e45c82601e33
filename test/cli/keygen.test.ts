import t from 'tap'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run } from '../../lib/cli/main.js'
import { vendorKeyFingerprint } from '../../lib/lpf/load.js'
import { terminal } from '../lpf/helpers.js'

t.test('flr keygen --out PREFIX writes PREFIX.key.pem (0600) and PREFIX.pub.pem, RSA 3072', async (t) => {
  const dir = t.testdir()
  const prefix = join(dir, 'acme')
  const c = terminal()
  t.equal(await run(['keygen', '--out', prefix], c.io), 0)
  const priv = createPrivateKey(readFileSync(`${prefix}.key.pem`, 'utf8'))
  const pub = createPublicKey(readFileSync(`${prefix}.pub.pem`, 'utf8'))
  t.equal(priv.asymmetricKeyDetails?.modulusLength, 3072)
  t.equal(statSync(`${prefix}.key.pem`).mode & 0o777, 0o600)
  t.same(createPublicKey(priv).export({ type: 'spki', format: 'der' }), pub.export({ type: 'spki', format: 'der' }), 'a matching pair')
  t.match(c.stdout(), new RegExp(`Wrote ${prefix}\\.key\\.pem \\(private[\\s\\S]*Wrote ${prefix}\\.pub\\.pem \\(public[\\s\\S]*Fingerprint ${vendorKeyFingerprint(pub).replace(/[+/]/g, '\\$&')}`))
})

t.test('flr keygen --json', async (t) => {
  const prefix = join(t.testdir(), 'k')
  const c = terminal()
  t.equal(await run(['keygen', '--out', prefix, '--json'], c.io), 0)
  const out = JSON.parse(c.stdout())
  t.same(Object.keys(out), ['privateKey', 'publicKey', 'fingerprint'])
  t.equal(out.fingerprint, vendorKeyFingerprint(createPublicKey(readFileSync(`${prefix}.pub.pem`, 'utf8'))))
})

t.test('flr keygen refuses to overwrite an existing key file unless --force', async (t) => {
  const dir = t.testdir({ 'acme.pub.pem': 'old public\n' })
  const prefix = join(dir, 'acme')
  const c = terminal()
  t.equal(await run(['keygen', '--out', prefix], c.io), 1)
  t.match(c.stderr(), /acme\.pub\.pem already exists: choose another --out, or pass --force/)
  t.equal(readFileSync(`${prefix}.pub.pem`, 'utf8'), 'old public\n', 'untouched')

  writeFileSync(`${prefix}.key.pem`, 'old private\n')
  chmodSync(`${prefix}.key.pem`, 0o644)
  const f = terminal()
  t.equal(await run(['keygen', '--out', prefix, '--force'], f.io), 0)
  t.ok(createPrivateKey(readFileSync(`${prefix}.key.pem`, 'utf8')), 'replaced')
  t.equal(statSync(`${prefix}.key.pem`).mode & 0o777, 0o600, 'and made private again')
})

t.test('flr keygen without --out is a usage error (exit 2)', async (t) => {
  const c = terminal()
  t.equal(await run(['keygen'], c.io), 2)
  t.match(c.stderr(), /--out/)
})

t.test('flr keygen --help exits 0 with examples', async (t) => {
  const c = terminal()
  t.equal(await run(['keygen', '--help'], c.io), 0)
  t.match(c.stdout(), /--out <prefix>[\s\S]*--force[\s\S]*Examples:\n  flr keygen --out acme/)
})
