// deploy/systemd/flr.service: a dedicated user, StateDirectory=/LogsDirectory=, hardening,
// Restart=on-failure, the journal; checked by `systemd-analyze verify` where systemd is installed,
// and its ExecStart line is one `flr serve` accepts.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run } from '../../lib/cli/main.js'
import { FLR_BIN, ROOT } from '../helpers/server.js'
import { terminal } from '../helpers/admin.js'

const UNIT = join(ROOT, 'deploy', 'systemd', 'flr.service')
const text = readFileSync(UNIT, 'utf8')
const directives = new Map<string, string>()
for (const line of text.split('\n')) {
  const m = /^([A-Za-z]+)=(.*)$/.exec(line)
  if (m) directives.set(m[1]!, m[2]!)
}

t.test('the unit runs flr as a dedicated user with its own state and log directories, hardened, restarted on failure, logging to the journal', async (t) => {
  t.equal(directives.get('User'), 'flr')
  t.equal(directives.get('StateDirectory'), 'flr')
  t.equal(directives.get('LogsDirectory'), 'flr')
  t.equal(directives.get('Restart'), 'on-failure')
  t.equal(directives.get('StandardOutput'), 'journal')
  t.equal(directives.get('ExecReload'), '/bin/kill -HUP $MAINPID', 'systemctl reload reopens flr.log')
  for (const hardening of ['NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'PrivateDevices', 'RestrictAddressFamilies', 'SystemCallFilter', 'CapabilityBoundingSet']) {
    t.ok(directives.has(hardening), `${hardening}`)
  }
  t.equal(directives.get('ProtectSystem'), 'strict')
  const exec = directives.get('ExecStart')!.split(/\s+/)
  t.match(exec.join(' '), /--state-dir \/var\/lib\/flr .*--log-dir \/var\/log\/flr/, 'the directories systemd creates')
  // every option of the line is one flr serve knows: with a bad TTL added, the only complaint is the TTL
  const term = terminal()
  t.equal(await run([...exec.slice(1), '--lease-ttl', '0s'], term.io), 2)
  t.match(term.stderr(), /^flr: --lease-ttl: 0s is out of range/)
})

const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' })
// skipped, with the reason in the report, where systemd is not installed
const noSystemd = probe.error ? `systemd-analyze is not installed here (${(probe.error as NodeJS.ErrnoException).code}): the unit is not verified on this machine` : false

t.test('systemd-analyze verify accepts the unit, without a warning', { skip: noSystemd }, async (t) => {
  // ExecStart must name an executable that exists: this checkout's bin/flr.js stands in for /usr/local/bin/flr
  const unit = join(t.testdir(), 'flr.service')
  writeFileSync(unit, text.replace('/usr/local/bin/flr', FLR_BIN))
  const verify = spawnSync('systemd-analyze', ['verify', '--man=no', unit], { encoding: 'utf8', timeout: 120_000 })
  t.equal(verify.status, 0, 'systemd-analyze verify passes')
  // an unknown or misspelled directive is only a warning: none is allowed
  t.equal(verify.stderr.split('\n').filter((l) => l.includes('flr.service')).join('\n'), '', 'no warning about the unit')
})
