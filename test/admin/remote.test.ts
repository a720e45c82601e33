// [TLS-3] [WIRE-8] end to end from a peer that is not loopback: this host's own non-loopback
// address (the server sees it as the peer address, as it would a remote host's).
import t from 'tap'
import { networkInterfaces } from 'node:os'
import { Writable } from 'node:stream'
import pino from 'pino'
import { FlrClient, type ClientOptions } from '../../lib/client/client.js'
import { setPassword } from '../../lib/admin/password.js'
import { FlrError } from '../../lib/errors.js'
import { dropLpf, freePort, makeDirs, startDaemon, type Dirs } from '../helpers/server.js'
import { PASSWORD } from '../helpers/admin.js'
import { makePki, type Pki } from '../tls/helpers.js'

const WRONG = 'Wr0ng-Horse'
const local = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address

async function authCode(opts: ClientOptions, password: string): Promise<string> {
  const c = await FlrClient.connect({ ...opts, reconnect: false })
  try {
    await c.request('auth', { password })
    return 'ok'
  } catch (e) {
    if (e instanceof FlrError) return `${e.code}${e.code === 'LOCKED_OUT' ? `: ${e.message}` : ''}`
    throw e
  } finally {
    c.close()
  }
}

function capture() {
  const lines: Record<string, unknown>[] = []
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _e, cb) => void (lines.push(JSON.parse(String(chunk))), cb()) }))
  return { log, lines }
}

const noRemote = 'this host has no non-loopback IPv4 address: no remote peer can be made here (the decisions are tested in peer-address.test.ts and lockout.test.ts)'
{
  t.test('[TLS-3] [WIRE-8] plaintext auth from the network: TLS_REQUIRED, not counted; over TLS: 3 wrong lock that address only, across a restart', { skip: local ? false : noRemote }, async (t) => {
    const localAddress = local!
    const dirs: Dirs = makeDirs(t)
    const pki: Pki = makePki(dirs.root, ['127.0.0.1', localAddress])
    const port = await freePort()
    dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 1 }] })
    await setPassword(dirs.stateDir, PASSWORD)
    const plainLog = capture()
    const plain = await startDaemon(t, dirs, { bind: '0.0.0.0', log: plainLog.log as never })
    const remotePlain = { host: localAddress, port, client: 'remote' }
    for (let i = 0; i < 4; i++) t.equal(await authCode(remotePlain, PASSWORD), 'TLS_REQUIRED', 'the right password too: it is never looked at')
    t.equal(await authCode({ host: '127.0.0.1', port, client: 'local' }, PASSWORD), 'ok', 'plaintext from the server host is accepted')
    t.ok(plainLog.lines.some((l) => l.address === localAddress && /TLS_REQUIRED/.test(String(l.msg))), 'the refusal is logged with the address')
    await plain.stop()

    const tlsLog = capture()
    const first = await startDaemon(t, dirs, { bind: '0.0.0.0', log: tlsLog.log as never, tls: { certFile: pki.certFile, keyFile: pki.keyFile } })
    const remote = { host: localAddress, port, client: 'remote', tls: { fingerprint: pki.fingerprint } }
    const loopback = { host: '127.0.0.1', port, client: 'local', tls: { ca: pki.ca.cert } }
    t.equal(await authCode(remote, WRONG), 'AUTH_FAILED', 'the four TLS_REQUIRED were not counted')
    t.equal(await authCode(remote, WRONG), 'AUTH_FAILED')
    t.match(await authCode(remote, WRONG), new RegExp(`^LOCKED_OUT: .*from ${localAddress.replace(/\./g, '\\.')}.*10 more minute.*server host`))
    t.match(await authCode(remote, PASSWORD), /^LOCKED_OUT/, 'the right password from that address is refused')
    t.equal(await authCode(loopback, PASSWORD), 'ok', 'the server host is never locked out')
    const logged = tlsLog.lines.filter((l) => l.address === localAddress).map((l) => String(l.msg))
    t.match(logged, [/wrong admin password from .* \(1 of 3/, /\(2 of 3/, /locked out for 10 minutes/], 'every failure and the lock-out logged with the address')
    await first.stop()

    const second = await startDaemon(t, dirs, { bind: '0.0.0.0', tls: { certFile: pki.certFile, keyFile: pki.keyFile } })
    t.match(await authCode(remote, PASSWORD), /^LOCKED_OUT/, 'the lock-out survives a restart')
    await second.stop()
  })
}
