// File modes whatever the umask (issue 16), and `--tls-cert auto` end to end: a real `flr serve`
// spawned under umask 000 and 022; its certificate is made once, kept (key 0600), logged, shown
// by `flr status`, pinned by the CLI, and reused after a restart ([TLS-1], [TLS-2]).
import t from 'tap'
import { spawn } from 'node:child_process'
import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FLR_BIN, HOST_ID, VENDOR_PUB, dropLpf, freePort, makeDirs, type TestContext } from '../helpers/server.js'
import { watchServeLog } from '../../bench/harness.js'
import { setPassword } from '../../lib/admin/password.js'
import { run } from '../../lib/cli/main.js'
import { PASSWORD, terminal } from '../helpers/admin.js'

function serveUnderUmask(t: TestContext, umask: string, licenseDir: string, stateDir: string) {
  const args = [FLR_BIN, 'serve', '--license-dir', licenseDir, '--state-dir', stateDir, '--vendor-key', VENDOR_PUB, '--host-id', HOST_ID, '--bind', '127.0.0.1', '--no-http', '--tls-cert', 'auto']
  const child = spawn('sh', ['-c', `umask ${umask}; exec "$0" "$@"`, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const log = watchServeLog(child)
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    return log.exited
  })
  return { child, log }
}

/** every directory and file under `dir` (two levels: the state directory and its logs) with its mode */
function modes(dir: string): Record<string, string> {
  const out: Record<string, string> = { '.': (lstatSync(dir).mode & 0o777).toString(8) }
  for (const name of readdirSync(dir)) {
    const st = lstatSync(join(dir, name))
    out[name] = (st.mode & 0o777).toString(8)
    if (st.isDirectory()) for (const inner of readdirSync(join(dir, name))) out[`${name}/${inner}`] = (lstatSync(join(dir, name, inner)).mode & 0o777).toString(8)
  }
  return out
}

for (const umask of ['000', '022']) {
  t.test(`[TLS-1] under umask ${umask}: a new state directory 0700, every file 0600; auto certificate logged, shown, pinned, reused`, async (t) => {
    const dirs = makeDirs(t)
    const stateDir = join(dirs.root, 'new-state')
    const port = await freePort()
    dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 1 }] })
    const first = serveUnderUmask(t, umask, dirs.licenseDir, stateDir)
    const cert = await first.log.waitForLog(/^TLS certificate in force/)
    await first.log.waitForLog(/^listening for leases/)
    const fingerprint = String(cert.fingerprint)
    t.match(cert.msg, `--tls-fingerprint ${fingerprint}`, 'the log gives the flag to pin it')
    const found = modes(stateDir)
    t.equal(found['.'], '700')
    t.equal(found['logs'], '700')
    for (const [name, mode] of Object.entries(found)) if (name !== '.' && name !== 'logs') t.equal(mode, '600', `${name} is 0600`)
    t.ok('tls-key.pem' in found && 'leases.mdb' in found && 'logs/flr.log' in found, `the key, the store and the log are there: ${Object.keys(found).join(' ')}`)

    const status = terminal({})
    t.equal(await run(['status', '--server', `127.0.0.1:${port}`, '--tls-fingerprint', fingerprint.toLowerCase()], status.io), 0, status.stderr())
    t.match(status.stdout(), `SHA-256 fingerprint ${fingerprint}`)
    const wrong = terminal({})
    t.equal(await run(['status', '--server', `127.0.0.1:${port}`, '--tls-fingerprint', 'AB'.repeat(32)], wrong.io), 1)
    t.match(wrong.stderr(), `TLS_UNTRUSTED`)
    t.match(wrong.stderr(), `--tls-fingerprint ${fingerprint}`)
    const plain = terminal({})
    t.equal(await run(['status', '--server', `127.0.0.1:${port}`], plain.io), 1, 'plaintext to the TLS port fails')

    first.child.kill('SIGTERM')
    await first.log.exited
    const second = serveUnderUmask(t, umask, dirs.licenseDir, stateDir)
    const again = await second.log.waitForLog(/^TLS certificate in force/)
    t.equal(again.fingerprint, fingerprint, 'the auto certificate is reused after a restart')
    second.child.kill('SIGTERM')
    await second.log.exited
  })
}

t.test('an existing state directory 0755 with world-readable files is tightened at start, and the log says so', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 1 }] })
  await setPassword(dirs.stateDir, PASSWORD)
  mkdirSync(join(dirs.stateDir, 'logs'), { recursive: true })
  writeFileSync(join(dirs.stateDir, 'logs', 'flr.log'), '')
  chmodSync(join(dirs.stateDir, 'logs', 'flr.log'), 0o644)
  chmodSync(join(dirs.stateDir, 'admin-password.json'), 0o644)
  chmodSync(join(dirs.stateDir, 'logs'), 0o755)
  chmodSync(dirs.stateDir, 0o755)
  const serve = serveUnderUmask(t, '022', dirs.licenseDir, dirs.stateDir)
  await serve.log.waitForLog(/^listening for leases/)
  const found = modes(dirs.stateDir)
  t.match(found, { '.': '700', logs: '700', 'admin-password.json': '600', 'logs/flr.log': '600' })
  const said = serve.log.logs.filter((l) => /tightened to/.test(l.msg)).map((l) => l.path)
  t.same(new Set(said), new Set([dirs.stateDir, join(dirs.stateDir, 'logs'), join(dirs.stateDir, 'admin-password.json'), join(dirs.stateDir, 'logs', 'flr.log')]), 'one log line per tightened path')
})
