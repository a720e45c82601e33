// `flr support-bundle` against a real `flr serve` child: the archive, unpacked by the system's
// tar, holds versions, status, configuration, the LPF in force, flr.log and the access log, and
// no password, password hash or salt, or private key ([ADM-2]).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { run } from '../../lib/cli/main.js'
import { setPassword, PASSWORD_FILE } from '../../lib/admin/password.js'
import { accessLogName } from '../../lib/server/access-log.js'
import { VERSION } from '../../lib/version.js'
import { HOST_ID, VENDOR_KEY, dropLpf, freePort, makeDirs } from '../helpers/server.js'
import { PASSWORD, RawClient, eventually, httpCall, spawnServeWithHttp, terminal } from '../helpers/admin.js'

const WRONG = 'Wr0ng-Horse'

/** `tar -xzf` into a new directory beside the archive; every file's content, by path. */
function unpack(archive: string): Map<string, string> {
  const into = mkdtempSync(join(archive, '..', 'unpacked-'))
  execFileSync('tar', ['-xzf', archive, '-C', into])
  const files = new Map<string, string>()
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else files.set(relative(into, p), readFileSync(p, 'latin1'))
    }
  }
  walk(into)
  return files
}

t.test('[ADM-2] [HTTP-5] [LEASE-4] flr support-bundle of a running flr serve: what support needs, and no secret, no lease id, no planted link', async (t) => {
  const dirs = makeDirs(t)
  const lpfPort = await freePort()
  const lpfPath = dropLpf(dirs.licenseDir, { port: lpfPort, packs: [{ name: 'Agent-Session', limit: 5 }, { name: 'station', limit: 1 }] })
  await setPassword(dirs.stateDir, PASSWORD)
  // a demo-like vendor private key lying in the state directory, as `flr serve --demo` leaves one
  const privateKey = readFileSync(VENDOR_KEY, 'utf8')
  writeFileSync(join(dirs.stateDir, 'demo-vendor.key.pem'), privateKey, { mode: 0o600 })
  const stored = JSON.parse(readFileSync(join(dirs.stateDir, PASSWORD_FILE), 'utf8')) as { salt: string; hash: string }

  const serve = spawnServeWithHttp(t, dirs)
  const httpPort = await serve.httpPort()
  await serve.waitForLog(/LPF loaded: serving/)
  await eventually(() => existsSync(join(dirs.stateDir, 'serve-config.json')), 'serve-config.json')

  // traffic for the logs: HTTP grants, a release, a refusal; admin auth, wrong then right
  const granted = await Promise.all(['agent-1', 'agent-2', 'agent-3'].map((client) => httpCall(httpPort, 'POST', '/request', { client })))
  t.same(granted.map((r) => r.status), [200, 200, 200])
  t.equal((await httpCall(httpPort, 'DELETE', `/request/${granted[0]!.json.lease}`)).status, 204)
  t.equal((await httpCall(httpPort, 'POST', '/request', { pack: 'nope', client: 'agent-9' })).status, 404)
  const admin = await RawClient.open(t, lpfPort, 'admin-console')
  t.equal((await admin.request('auth', { password: WRONG })).error?.code, 'AUTH_FAILED')
  t.equal((await admin.request('auth', { password: PASSWORD })).ok, true)
  const accessLog = join(dirs.logDir, accessLogName(new Date().toISOString().slice(0, 10)))
  await eventually(() => existsSync(accessLog) && readFileSync(accessLog, 'utf8').trim().split('\n').length >= 5, 'five access log lines')
  await eventually(() => readFileSync(join(dirs.logDir, 'flr.log'), 'utf8').includes('HTTP shim listening'), 'flr.log')

  // issue 11: a link planted in the log directory, named like an access log, to the password file
  symlinkSync(join(dirs.stateDir, PASSWORD_FILE), join(dirs.logDir, 'access_2020-01-01.request.log'))

  const out = join(dirs.root, 'bundle.tar.gz')
  const c = terminal()
  t.equal(await run(['support-bundle', '--state-dir', dirs.stateDir, '--out', out, '--server', `127.0.0.1:${lpfPort}`], c.io), 0, c.stderr())
  t.match(c.stdout(), `Wrote ${out}`)
  t.match(c.stderr(), /left out .*access_2020-01-01\.request\.log: a symbolic link/)
  t.equal(statSync(out).mode & 0o777, 0o600, 'the bundle is readable by its owner only')

  const files = unpack(out)
  const day = accessLog.slice(accessLog.lastIndexOf('/') + 1)
  t.same([...files.keys()].sort(), [
    `flr-support/config.json`,
    `flr-support/logs/${day}`,
    `flr-support/logs/flr.log`,
    `flr-support/lpf/${HOST_ID}.lp`,
    `flr-support/skipped.json`,
    `flr-support/status.json`,
    `flr-support/versions.json`,
  ])
  t.match(JSON.parse(files.get('flr-support/skipped.json')!), [{ file: /access_2020-01-01\.request\.log$/, why: /symbolic link/ }])
  t.match(JSON.parse(files.get('flr-support/versions.json')!), { flr: VERSION, node: process.version })
  t.match(JSON.parse(files.get('flr-support/status.json')!), {
    serving: true,
    lpf: { hostId: HOST_ID, port: lpfPort },
    packs: [{ name: 'Agent-Session', limit: 5, inUse: 2 }, { name: 'station', limit: 1, inUse: 0 }],
  })
  t.match(JSON.parse(files.get('flr-support/config.json')!), { hostId: HOST_ID, stateDir: dirs.stateDir, logDir: dirs.logDir, licenseDir: dirs.licenseDir, httpPort })
  t.equal(files.get(`flr-support/lpf/${HOST_ID}.lp`), readFileSync(lpfPath, 'latin1'), 'the LPF in force, as is')
  t.match(files.get('flr-support/logs/flr.log'), /LPF loaded: serving/)
  const access = files.get(`flr-support/logs/${day}`)!
  t.match(access, /"client":"agent-2"/)
  t.match(access, /"method":"DELETE","path":"\/request\/<lease-\d+>"/)
  t.match(access, /"lease":"<lease-\d+>"/)

  const secrets: [string, string][] = [
    ['PRIVATE KEY', 'a PEM private key'],
    [privateKey.split('\n')[1]!, 'the private key body'],
    [stored.hash, 'the scrypt hash'],
    [stored.salt, 'the scrypt salt'],
    [PASSWORD, 'the admin password'],
    [WRONG, 'a mistyped password'],
    ...granted.map((r, i): [string, string] => [String(r.json.lease), `lease id ${i} ([LEASE-4])`]),
  ]
  const whole = gunzipSync(readFileSync(out)).toString('latin1')
  for (const [secret, what] of secrets) {
    t.notOk(whole.includes(secret), `no ${what} in the archive`)
    for (const [name, content] of files) if (content.includes(secret)) t.fail(`${name} holds ${what}`)
  }
})

t.test('flr support-bundle still writes a bundle when the server is down, saying why status is missing', async (t) => {
  const dirs = makeDirs(t)
  const out = join(dirs.root, 'b.tar.gz')
  const c = terminal()
  t.equal(await run(['support-bundle', '--state-dir', dirs.stateDir, '--out', out, '--server', `127.0.0.1:${await freePort()}`, '--json'], c.io), 0)
  t.same(JSON.parse(c.stdout()), { out, files: ['flr-support/versions.json', 'flr-support/status.json', 'flr-support/config.json'] })
  const files = unpack(out)
  t.match(JSON.parse(files.get('flr-support/status.json')!), { unreachable: /^CONNECTION_LOST: cannot reach flr/ })
  t.match(JSON.parse(files.get('flr-support/config.json')!), { missing: /has flr serve run with this --state-dir/ })
})

t.test('flr support-bundle without --state-dir takes FLR_STATE_DIR (as every command on the server host)', async (t) => {
  const dir = t.testdir({ state: {} })
  const out = join(dir, 'b.tar.gz')
  const c = terminal({ FLR_STATE_DIR: join(dir, 'state'), FLR_SERVER: '127.0.0.1:1' })
  t.equal(await run(['support-bundle', '--out', out, '--json'], c.io), 0)
  t.match(JSON.parse(c.stdout()), { out, files: ['flr-support/versions.json', 'flr-support/status.json', 'flr-support/config.json'] })
})
