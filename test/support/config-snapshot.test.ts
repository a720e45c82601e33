// What `flr serve` leaves in the state directory for `flr support-bundle` to find.
import t from 'tap'
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readConfigSnapshot, writeConfigSnapshot } from '../../lib/support/config-snapshot.js'
import { snapshot } from '../helpers/admin.js'

t.test('support bundle: the serve configuration snapshot round-trips through the state directory', async (t) => {
  const stateDir = t.testdir()
  const written = snapshot(stateDir)
  writeConfigSnapshot(written)
  t.same(readConfigSnapshot(stateDir), written)
  t.equal(statSync(join(stateDir, 'serve-config.json')).mode & 0o777, 0o644, 'readable: it holds no secret')
})

t.test('support bundle: no snapshot, or a damaged one, reads as undefined', async (t) => {
  const stateDir = t.testdir()
  t.equal(readConfigSnapshot(stateDir), undefined)
  writeFileSync(join(stateDir, 'serve-config.json'), '{"half": ')
  t.equal(readConfigSnapshot(stateDir), undefined)
})

t.test('support bundle: a snapshot that cannot be trusted to name files reads as undefined', async (t) => {
  const stateDir = t.testdir()
  const cases: [string, unknown][] = [
    ['an empty object', {}],
    ['null', null],
    ['a relative log directory', snapshot(stateDir, { logDir: 'logs' })],
    ['a relative license directory', snapshot(stateDir, { licenseDir: '../licenses' })],
    ['a host id that walks out of the license directory', snapshot(stateDir, { hostId: '../../etc/secret' })],
  ]
  for (const [what, value] of cases) {
    writeFileSync(join(stateDir, 'serve-config.json'), JSON.stringify(value))
    t.equal(readConfigSnapshot(stateDir), undefined, what)
  }
})
