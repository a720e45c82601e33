import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { hostileFixtures, readKeys, validFixtures } from '../../fixtures/make-fixtures.js'
import { HOSTILE_DIR, KEYS, VALID_DIR, hostileCases } from './helpers.js'

const keys = readKeys(KEYS)

t.test('the committed fixtures are exactly what fixtures/make-fixtures.ts makes from the committed keys', async (t) => {
  for (const [dir, made] of [
    [VALID_DIR, validFixtures(keys)],
    [HOSTILE_DIR, hostileFixtures(keys)],
  ] as const) {
    t.same(readdirSync(dir).sort(), [...made.map((f) => f.file), 'manifest.json'].sort(), `${dir}: no missing or stale files`)
    for (const f of made) t.ok(readFileSync(join(dir, f.file)).equals(f.bytes), `${f.file} is up to date (npm run fixtures)`)
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { file: string }[]
    t.same(manifest.map((m) => m.file), made.map((f) => f.file))
  }
})

t.test('[LPF-8] the hostile set covers every attack listed in issue 2, each with its code', async (t) => {
  const byFile = new Map(hostileCases.map((c) => [c.file, c.code]))
  const required: [string, string, string][] = [
    ['tampered value', 'tampered-limit.lp', 'LPF_SIGNATURE_INVALID'],
    ['signed by another key', 'other-key.lp', 'LPF_UNTRUSTED_KEY'],
    ['attacker key embedded in KeyInfo', 'keyinfo-attacker-cert.lp', 'LPF_UNTRUSTED_KEY'],
    ['HMAC keyed with the vendor public key', 'hmac-vendor-public-key.lp', 'LPF_SIGNATURE_INVALID'],
    ['a Reference that covers one element', 'reference-one-element.lp', 'LPF_SIGNATURE_INVALID'],
    ['packs hidden in the Signature Object', 'object-hidden-packs.lp', 'LPF_SIGNATURE_INVALID'],
    ['two Signatures', 'two-signatures.lp', 'LPF_SIGNATURE_INVALID'],
    ['DOCTYPE with an entity bomb', 'doctype-entity-bomb.lp', 'LPF_MALFORMED'],
    ['processing instruction inside a value', 'pi-in-value.lp', 'LPF_MALFORMED'],
    ['truncated', 'truncated.lp', 'LPF_MALFORMED'],
    ['non-XML bytes', 'non-xml.lp', 'LPF_MALFORMED'],
    ['wrong host', 'wrong-host.lp', 'LPF_WRONG_HOST'],
    ['expired', 'expired-date.lp', 'LPF_EXPIRED'],
    ['bad port', 'port-65536.lp', 'LPF_MALFORMED'],
    ['duplicate pack names', 'duplicate-pack-names.lp', 'LPF_MALFORMED'],
    ['bad limit: negative', 'limit-negative.lp', 'LPF_MALFORMED'],
    ['bad limit: over 1,000,000', 'limit-over-million.lp', 'LPF_MALFORMED'],
    ['bad limit: not an integer', 'limit-fraction.lp', 'LPF_MALFORMED'],
  ]
  for (const [what, file, code] of required) t.equal(byFile.get(file), code, what)
  // the file over 4 MiB is made at test time (fixtures/oversize.ts), see screen.test.ts
})
