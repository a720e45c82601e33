// [LPF-4] The canonical form does not depend on the machine's locale: a file `flr sign` signed under
// one LANG verifies under another. Node's ICU follows LANG/LC_ALL without the system locale being
// generated, so no localedef is needed; the test checks the child really collates as Estonian
// (where "z" sorts before "t"), so that it cannot pass by not changing anything.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildLpfXml } from '../../lib/lpf/vendor.js'
import { niagaraSpec } from '../../fixtures/make-fixtures.js'
import { KEYS, ROOT } from './helpers.js'

const FLR = join(ROOT, 'bin', 'flr.js')
const C = { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' }
const ESTONIAN = { LANG: 'et_EE.UTF-8', LC_ALL: 'et_EE.UTF-8' }

// prefixes whose order differs between code points (t < z) and Estonian collation (z < t)
const LICENSES = '<licenses><license xmlns:t="urn:t" xmlns:z="urn:z" xmlns:Z="urn:Z" t:seats="1" z:seats="2" Z:seats="3"/></licenses>'

function node(args: string[], locale: Record<string, string>) {
  return spawnSync(process.execPath, args, { env: { ...process.env, ...locale }, encoding: 'utf8', timeout: 120_000 })
}

t.test('[LPF-4] the child processes really collate by their locale', async (t) => {
  const order = (locale: Record<string, string>) => node(['-e', "process.stdout.write(['t', 'z'].sort((a, b) => a.localeCompare(b)).join(''))"], locale).stdout
  t.equal(order(C), 'tz')
  t.equal(order(ESTONIAN), 'zt', 'under et_EE "z" sorts before "t": a locale-ordered c14n would differ')
})

for (const [signer, verifier, names] of [
  [C, ESTONIAN, 'signed under LANG=C.UTF-8, verified under LANG=et_EE.UTF-8'],
  [ESTONIAN, C, 'signed under LANG=et_EE.UTF-8, verified under LANG=C.UTF-8'],
] as const) {
  t.test(`[LPF-4] ${names}`, async (t) => {
    const dir = t.testdir()
    const source = join(dir, 'source.xml')
    const out = join(dir, 'signed.lp')
    writeFileSync(source, buildLpfXml(niagaraSpec({ packs: [{ name: 'station', limit: 1, licenses: LICENSES }] })))
    const sign = node([FLR, 'sign', source, '--key', join(KEYS, 'vendor.key.pem'), '--out', out], signer)
    t.equal(sign.status, 0, sign.status === 0 ? 'flr sign signs it' : `flr sign: ${sign.stderr}`)
    const inspect = node([FLR, 'inspect', out, '--vendor-key', join(KEYS, 'vendor.pub.pem'), '--json'], verifier)
    t.equal(inspect.status, 0, inspect.status === 0 ? 'flr inspect verifies it' : `flr inspect: ${inspect.stdout}${inspect.stderr}`)
  })
}
