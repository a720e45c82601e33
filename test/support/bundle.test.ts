// `flr support-bundle`'s contents, picked by name from where the snapshot says serve keeps them:
// the logs, the LPF in force, status, versions and configuration, and never a secret ([ADM-2]).
import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { linkSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { supportBundle } from '../../lib/support/bundle.js'
import { writeConfigSnapshot } from '../../lib/support/config-snapshot.js'
import { VERSION } from '../../lib/version.js'
import { HOST_ID, VENDOR_KEY } from '../helpers/server.js'
import { snapshot } from '../helpers/admin.js'

const PRIVATE_KEY = readFileSync(VENDOR_KEY, 'utf8')
const PASSWORD_FILE = '{"algo":"scrypt","N":131072,"r":8,"p":1,"salt":"c2FsdHNhbHRzYWx0c2FsdA==","hash":"aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g="}\n'
const SECRETS = ['PRIVATE KEY', 'c2FsdHNhbHRzYWx0c2FsdA==', 'aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=', PRIVATE_KEY.split('\n')[1]!]

/** A state directory as a server leaves it, with secrets lying next to everything the bundle takes. */
function serverFiles(t: Test, opts: { logsInStateDir?: boolean } = {}) {
  const root = t.testdir({
    state: {
      'admin-password.json': PASSWORD_FILE,
      'demo-vendor.key.pem': PRIVATE_KEY,
      'leases.mdb': 'binary store',
      // [TLS-1] the auto certificate's key and the lock-out state lie in the state directory too
      'tls-key.pem': PRIVATE_KEY,
      'tls-cert.pem': '-----BEGIN CERTIFICATE-----\n',
      'admin-lockout.json': '{"version":1,"addresses":{}}\n',
    },
    licenses: {
      [`${HOST_ID}.lp`]: '<lpf vendor="Acme">the LPF in force</lpf>\n',
      'Lnx-AAAA-AAAA-AAAA-AAAA.lp': '<lpf>another host</lpf>',
      'acme.key.pem': PRIVATE_KEY,
    },
    logs: {
      'flr.log': '{"msg":"LPF loaded: serving"}\n',
      'access_2026-03-01.request.log': '{"method":"POST","path":"/request"}\n',
      'access_2026-03-02.request.log': '{"method":"DELETE","path":"/request/x"}\n',
      'access_2026-03-03.request.log': { 'not-a-file': 'x' },
      'flr.log.1': 'rotated by someone else',
      'notes.txt': 'x',
      'admin-password.json': PASSWORD_FILE,
      'vendor.key.pem': PRIVATE_KEY,
    },
  })
  const stateDir = join(root, 'state')
  const logDir = opts.logsInStateDir ? stateDir : join(root, 'logs')
  if (opts.logsInStateDir) {
    for (const name of readdirSync(join(root, 'logs'))) {
      if (statSync(join(root, 'logs', name)).isFile()) writeFileSync(join(stateDir, name), readFileSync(join(root, 'logs', name)))
    }
  }
  writeConfigSnapshot(snapshot(stateDir, { licenseDir: join(root, 'licenses'), logDir }))
  return { root, stateDir, logDir }
}

/** `tar -xzf` into a new directory (t.testdir() would wipe the server's files); content by path. */
function unpack(data: Buffer): Map<string, Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'flr-bundle-'))
  writeFileSync(join(dir, 'b.tar.gz'), data)
  execFileSync('tar', ['-xzf', join(dir, 'b.tar.gz'), '-C', dir])
  const files = new Map<string, Buffer>()
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name !== 'b.tar.gz') files.set(relative(dir, p), readFileSync(p))
    }
  }
  walk(dir)
  rmSync(dir, { recursive: true })
  return files
}

function noSecrets(t: Test, data: Buffer, files: Map<string, Buffer>): void {
  const whole = gunzipSync(data).toString('latin1')
  for (const secret of SECRETS) {
    t.notOk(whole.includes(secret), `the archive holds no ${secret.slice(0, 16)}…`)
    for (const [name, content] of files) if (content.includes(secret)) t.fail(`${name} holds ${secret.slice(0, 16)}…`)
  }
}

t.test('[ADM-2] support bundle: versions, status, config, the LPF in force and the logs — and nothing else', async (t) => {
  const { stateDir } = serverFiles(t)
  const status = { serving: true, packs: [{ name: 'station', limit: 10, inUse: 3, waiting: 0 }] }
  const bundle = supportBundle({ stateDir, status })
  const expected = [
    'flr-support/versions.json',
    'flr-support/status.json',
    'flr-support/config.json',
    `flr-support/lpf/${HOST_ID}.lp`,
    'flr-support/logs/access_2026-03-01.request.log',
    'flr-support/logs/access_2026-03-02.request.log',
    'flr-support/logs/flr.log',
    'flr-support/skipped.json',
  ]
  t.same(bundle.files, expected)
  const files = unpack(bundle.data)
  t.same([...files.keys()].sort(), [...expected].sort(), 'the archive holds exactly what files lists')
  t.match(JSON.parse(files.get('flr-support/versions.json')!.toString()), { flr: VERSION, node: process.version, versions: { node: String } })
  t.same(JSON.parse(files.get('flr-support/status.json')!.toString()), status)
  t.match(JSON.parse(files.get('flr-support/config.json')!.toString()), { hostId: HOST_ID, stateDir, httpPack: 'Agent-Session' })
  t.equal(files.get(`flr-support/lpf/${HOST_ID}.lp`)!.toString(), '<lpf vendor="Acme">the LPF in force</lpf>\n')
  t.equal(files.get('flr-support/logs/access_2026-03-02.request.log')!.toString(), '{"method":"DELETE","path":"/request/x"}\n')
  t.match(JSON.parse(files.get('flr-support/skipped.json')!.toString()), [{ file: /access_2026-03-03\.request\.log$/, why: /not a regular file/ }])
  noSecrets(t, bundle.data, files)
})

t.test('[ADM-2] support bundle: with --log-dir the state directory itself, the password file and keys beside the logs stay out', async (t) => {
  const { stateDir } = serverFiles(t, { logsInStateDir: true })
  const bundle = supportBundle({ stateDir, status: {} })
  t.same(bundle.files.filter((f) => f.includes('/logs/')), [
    'flr-support/logs/access_2026-03-01.request.log',
    'flr-support/logs/access_2026-03-02.request.log',
    'flr-support/logs/flr.log',
  ])
  noSecrets(t, bundle.data, unpack(bundle.data))
})

t.test('[LEASE-4] support bundle: a log over 10 MiB contributes its last 10 MiB, from its first whole line', async (t) => {
  const { stateDir, logDir } = serverFiles(t)
  const big = Buffer.alloc(10 * 1024 * 1024 + 4096, 'old\n')
  big.write('the newest line\n', big.length - 16)
  // a line whose lease id the 10 MiB cut splits: 11 of its characters before the cut, 11 after
  const id = randomBytes(16).toString('base64url')
  const cut = big.length - 10 * 1024 * 1024
  const line = `{"msg":"lease revoked","lease":"${id}"}\n`
  const lineStart = cut - line.indexOf(id) - 11
  big.write(line, lineStart)
  writeFileSync(join(logDir, 'flr.log'), big)
  const files = unpack(supportBundle({ stateDir, status: {} }).data)
  const log = files.get('flr-support/logs/flr.log')!
  t.ok(log.equals(big.subarray(lineStart + line.length)), 'the last 10 MiB from the first newline after the cut')
  t.notOk(log.includes(id.slice(11)), 'no fragment of a lease id cut in two')
  t.ok(log.subarray(log.length - 16).equals(Buffer.from('the newest line\n')), 'the tail is kept')
})

t.test('support bundle: without a usable serve-config.json it still writes versions, status and why the rest is missing', async (t) => {
  const none = t.testdir({ 'admin-password.json': PASSWORD_FILE })
  const a = supportBundle({ stateDir: none, status: { unreachable: 'CONNECTION_LOST: cannot reach flr' } })
  t.same(a.files, ['flr-support/versions.json', 'flr-support/status.json', 'flr-support/config.json'])
  const files = unpack(a.data)
  t.match(JSON.parse(files.get('flr-support/config.json')!.toString()), { missing: /no usable serve-config\.json .*has flr serve run with this --state-dir/ })
  t.same(JSON.parse(files.get('flr-support/status.json')!.toString()), { unreachable: 'CONNECTION_LOST: cannot reach flr' })

  // damaged: valid JSON without the fields the bundle uses, relative directories, or a host id
  // that would walk out of the license directory to a file that is there
  writeFileSync(join(none, 'stolen.lp'), PRIVATE_KEY)
  const walkOut = snapshot(none, { licenseDir: join(none, 'licenses'), hostId: '../stolen' })
  for (const content of ['{}', 'null', '[]', JSON.stringify(walkOut), JSON.stringify({ ...walkOut, hostId: HOST_ID, logDir: 'logs' })]) {
    writeFileSync(join(none, 'serve-config.json'), content)
    let bundle: ReturnType<typeof supportBundle> | undefined
    t.doesNotThrow(() => (bundle = supportBundle({ stateDir: none, status: {} })), content.slice(0, 40))
    t.same(bundle?.files, ['flr-support/versions.json', 'flr-support/status.json', 'flr-support/config.json'], content.slice(0, 40))
  }
})

t.test('[ADM-2] support bundle: a symbolic link, FIFO or hard link planted in the log directory is left out, never followed', async (t) => {
  const { root, stateDir, logDir } = serverFiles(t)
  const passwordFile = join(stateDir, 'admin-password.json')
  // flr.log replaced by a link to the password file (the finding of issue 11), another to the key
  rmSync(join(logDir, 'flr.log'))
  symlinkSync(passwordFile, join(logDir, 'flr.log'))
  symlinkSync(join(root, 'licenses', 'acme.key.pem'), join(logDir, 'access_2026-03-04.request.log'))
  // a FIFO would hang a plain read; a hard link is the password file under a log's name
  execFileSync('mkfifo', [join(logDir, 'access_2026-03-05.request.log')])
  linkSync(passwordFile, join(logDir, 'access_2026-03-06.request.log'))
  // the LPF in force a link to the password file too
  const lpf = join(root, 'licenses', `${HOST_ID}.lp`)
  rmSync(lpf)
  symlinkSync(passwordFile, lpf)

  const bundle = supportBundle({ stateDir, status: {} })
  t.same(bundle.files, [
    'flr-support/versions.json',
    'flr-support/status.json',
    'flr-support/config.json',
    'flr-support/logs/access_2026-03-01.request.log',
    'flr-support/logs/access_2026-03-02.request.log',
    'flr-support/skipped.json',
  ])
  const files = unpack(bundle.data)
  noSecrets(t, bundle.data, files)
  const skipped = JSON.parse(files.get('flr-support/skipped.json')!.toString()) as { file: string; why: string }[]
  t.same(skipped, bundle.skipped)
  const why = (name: string) => skipped.find((s) => s.file.endsWith(name))?.why
  t.match(why(`${HOST_ID}.lp`), /symbolic link/)
  t.match(why('/flr.log'), /symbolic link/)
  t.match(why('access_2026-03-04.request.log'), /symbolic link/)
  t.match(why('access_2026-03-05.request.log'), /not a regular file/)
  t.match(why('access_2026-03-06.request.log'), /hard links/)
  t.match(why('access_2026-03-03.request.log'), /not a regular file/)
})

t.test('[LEASE-4] support bundle: lease ids in flr.log, the access logs and status are replaced by pseudonyms', async (t) => {
  const { stateDir, logDir } = serverFiles(t)
  const ids = Array.from({ length: 64 }, () => randomBytes(16).toString('base64url'))
  // one in 64 ids starts with '-': a client may send it percent-encoded in the path
  const dashed = '-' + ids[0]!.slice(1)
  ids.push(dashed)
  const access = ids.map((id, i) =>
    JSON.stringify(
      i % 2 === 0
        ? { method: 'POST', path: '/request', client: 'agent-1', pack: 'Agent-Session', status: 200, lease: id }
        : { method: 'DELETE', path: `/request/${id}`, status: 204, lease: id },
    ),
  )
  access.push(JSON.stringify({ method: 'DELETE', path: `/request/%2D${dashed.slice(1)}`, status: 204, lease: dashed }))
  writeFileSync(join(logDir, 'access_2026-03-01.request.log'), access.join('\n') + '\n')
  // a pack name of 22 characters that is no lease id (its last character carries more than 2 bits)
  const packName = 'Engineering-Station-01'
  writeFileSync(join(logDir, 'flr.log'), ids.map((id) => JSON.stringify({ msg: 'lease revoked', lease: id, pack: packName, holder: 'h' })).join('\n') + '\n')
  const status = { serving: true, packs: [{ name: packName, limit: 1, inUse: 1 }], leases: [{ lease: ids[5] }] }

  const bundle = supportBundle({ stateDir, status })
  const whole = gunzipSync(bundle.data).toString('latin1')
  const leaked = ids.filter((id) => whole.includes(id) || whole.includes(id.slice(1)))
  t.same(leaked, [], 'no lease id, whole or from its second character, is in the archive')
  const files = unpack(bundle.data)
  const flrLog = files.get('flr-support/logs/flr.log')!.toString().trim().split('\n').map((l) => JSON.parse(l) as { lease: string; pack: string })
  const accessLog = files.get('flr-support/logs/access_2026-03-01.request.log')!.toString().trim().split('\n').map((l) => JSON.parse(l) as { lease: string; path: string })
  const names = accessLog.slice(0, ids.length).map((l) => l.lease)
  t.ok(names.every((n) => /^<lease-\d+>$/.test(n)), 'ids become <lease-N>')
  t.equal(new Set(names).size, ids.length, 'each id has its own pseudonym')
  t.same(flrLog.map((l) => l.lease), names, 'the same pseudonym across files')
  t.equal(accessLog[1]!.path, `/request/${names[1]}`)
  t.same(accessLog.at(-1), { method: 'DELETE', path: `/request/${names.at(-1)}`, status: 204, lease: names.at(-1) }, 'a percent-encoded id too')
  t.ok(flrLog.every((l) => l.pack === packName), 'a 22-character pack name that is no id is kept')
  t.same(JSON.parse(files.get('flr-support/status.json')!.toString()), { ...status, leases: [{ lease: names[5] }] }, 'status too')
})
