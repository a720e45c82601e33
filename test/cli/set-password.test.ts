import t, { type Test } from 'tap'
import { terminal, type Terminal } from '../helpers/terminal.js'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from '../../lib/cli/main.js'
import { PASSWORD_FILE, setPassword, verifyPassword } from '../../lib/admin/password.js'

const OLD = 'Old-Passw0rd'
const NEW = 'N3w+Secret'

function noSecretsIn(t: Test, c: Terminal, ...secrets: string[]) {
  const printed = [...c.out, ...c.err].join('\n')
  for (const s of secrets) t.notOk(printed.includes(s), 'no password printed')
}

t.test('[ADM-1] --help explains the rules and exits 0', async (t) => {
  const c = terminal()
  t.equal(await run(['set-password', '--help'], c.io), 0)
  t.match(c.out.join('\n'), /--state-dir[\s\S]*-p, --password[\s\S]*-n, --new-password[\s\S]*8-30 characters/)
})

t.test('[ADM-1] --state-dir is required: usage error, exit 2', async (t) => {
  const c = terminal()
  t.equal(await run(['set-password'], c.io), 2)
  t.match(c.err.join('\n'), /--state-dir/)
})

t.test('[ADM-1] first password: prompted twice, stored, no current one asked', async (t) => {
  const dir = t.testdir()
  const c = terminal({}, [NEW, NEW])
  t.equal(await run(['set-password', '--state-dir', dir], c.io), 0)
  t.equal(c.questions.length, 2)
  t.match(c.questions[0], /New admin password/)
  t.match(c.questions[1], /again/)
  t.equal(await verifyPassword(dir, NEW), 'ok')
  t.match(c.out.join('\n'), /Admin password set/)
  noSecretsIn(t, c, NEW)
})

t.test('[ADM-1] the two new entries must match', async (t) => {
  const dir = t.testdir()
  const c = terminal({}, [NEW, NEW + 'x'])
  t.equal(await run(['set-password', '--state-dir', dir], c.io), 1)
  t.match(c.err.join('\n'), /differ/)
  t.equal(await verifyPassword(dir, NEW), 'not-set')
})

t.test('[ADM-1] a password that breaks a rule: exit 1 naming the rule, before the confirmation', async (t) => {
  const dir = t.testdir()
  const c = terminal({}, ['no-digits-Here'])
  t.equal(await run(['set-password', '--state-dir', dir], c.io), 1)
  t.equal(c.questions.length, 1, 'not asked to confirm a password that cannot be used')
  t.match(c.err.join('\n'), /PASSWORD_RULES: .*at least one digit/)
  noSecretsIn(t, c, 'no-digits-Here')
  t.equal(await verifyPassword(dir, 'no-digits-Here'), 'not-set')
})

t.test('[ADM-1] when a password is set, the current one is asked first', async (t) => {
  const dir = t.testdir()
  await setPassword(dir, OLD)
  const c = terminal({}, [OLD, NEW, NEW])
  t.equal(await run(['set-password', '--state-dir', dir], c.io), 0)
  t.match(c.questions[0], /Current admin password/)
  t.equal(await verifyPassword(dir, NEW), 'ok')
  noSecretsIn(t, c, OLD, NEW)
})

t.test('[ADM-1] a wrong current password: exit 1, password unchanged, no new one asked', async (t) => {
  const dir = t.testdir()
  await setPassword(dir, OLD)
  const c = terminal({}, ['Wrong-Passw0rd'])
  t.equal(await run(['set-password', '--state-dir', dir], c.io), 1)
  t.equal(c.questions.length, 1)
  t.match(c.err.join('\n'), /AUTH_FAILED: the current admin password is wrong/)
  t.equal(await verifyPassword(dir, OLD), 'ok')
})

t.test('[ADM-3] -p and -n are accepted with a warning that shells record command lines', async (t) => {
  const dir = t.testdir()
  await setPassword(dir, OLD)
  const c = terminal()
  t.equal(await run(['set-password', '--state-dir', dir, '-p', OLD, '-n', NEW], c.io), 0)
  t.match(c.err.join('\n'), /warning: -p and -n put a password on the command line, which shells record/)
  t.equal(await verifyPassword(dir, NEW), 'ok')
  noSecretsIn(t, c, OLD, NEW)
})

t.test('[ADM-3] -n with a wrong -p: exit 1, unchanged', async (t) => {
  const dir = t.testdir()
  await setPassword(dir, OLD)
  const c = terminal()
  t.equal(await run(['set-password', '--state-dir', dir, '-p', 'Wrong-Passw0rd', '-n', NEW], c.io), 1)
  t.equal(await verifyPassword(dir, OLD), 'ok')
})

t.test('[ADM-1] -n breaking a rule: exit 1 with the rule named', async (t) => {
  const dir = t.testdir()
  const c = terminal()
  t.equal(await run(['set-password', '--state-dir', dir, '-n', "Has'Quote1"], c.io), 1)
  t.match(c.err.join('\n'), /PASSWORD_RULES: .*no ' " or \\/)
  t.match(c.err.join('\n'), /at least one symbol/)
})

t.test('[ADM-3] without a terminal: FLR_ADMIN_PASSWORD is the current one, FLR_ADMIN_NEW_PASSWORD the new one', async (t) => {
  const dir = t.testdir()
  await setPassword(dir, OLD)
  const c = terminal({ FLR_ADMIN_PASSWORD: OLD, FLR_ADMIN_NEW_PASSWORD: NEW })
  t.equal(await run(['set-password', '--state-dir', dir], c.io), 0)
  t.same(c.err, [], 'no warning for the environment')
  t.equal(await verifyPassword(dir, NEW), 'ok')
})

t.test('[ADM-3] without a terminal and without a value: exit 2 saying how to give it', async (t) => {
  const first = t.testdir()
  const c1 = terminal()
  t.equal(await run(['set-password', '--state-dir', first], c1.io), 2)
  t.match(c1.err.join('\n'), /FLR_ADMIN_NEW_PASSWORD \(or pass -n\)/)

  const second = t.testdir()
  await setPassword(second, OLD)
  const c2 = terminal({ FLR_ADMIN_NEW_PASSWORD: NEW })
  t.equal(await run(['set-password', '--state-dir', second], c2.io), 2)
  t.match(c2.err.join('\n'), /current one is needed.*FLR_ADMIN_PASSWORD \(or pass -p\)/)
  t.equal(await verifyPassword(second, OLD), 'ok')
})

t.test('[ADM-2] the file written by the command holds a hash, not the password', async (t) => {
  const dir = t.testdir()
  const c = terminal()
  t.equal(await run(['set-password', '--state-dir', dir, '-n', NEW], c.io), 0)
  const text = await readFile(join(dir, PASSWORD_FILE), 'utf8')
  t.notOk(text.includes(NEW))
  t.match(JSON.parse(text), { algo: 'scrypt' })
})
