// `flr lease PACK` in-process against a real daemon: takes a lease, prints it, keeps it
// renewed until interrupted, then releases it (section 9, [LEASE-3], [WIRE-5], [WIRE-6]).
import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { dropLpf, freePort, makeDirs, startDaemon } from '../helpers/server.js'
import { setPassword } from '../../lib/admin/password.js'
import type { Daemon } from '../../lib/server/daemon.js'
import { RawPeer } from '../helpers/wire.js'
import { run } from '../../lib/cli/main.js'
import { terminal, type Terminal } from '../helpers/terminal.js'


const ADMIN_PASSWORD = 'Adm1n-Pass!'

async function serve(t: Test, ttl = 30_000, withPassword = false): Promise<{ port: number; peer: RawPeer; daemon: Daemon }> {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 1, licenses: '<licenses><license>STATION-KEY</license></licenses>' }] })
  if (withPassword) await setPassword(dirs.stateDir, ADMIN_PASSWORD)
  const daemon = await startDaemon(t, dirs, { leaseTtlMs: ttl })
  return { port, peer: await RawPeer.hello(t, port, 'observer'), daemon }
}

async function status(peer: RawPeer): Promise<{ inUse: number; waiting: number }> {
  return ((await peer.call('status')).packs as { inUse: number; waiting: number }[])[0]!
}

async function inUse(peer: RawPeer): Promise<number> {
  const status = await peer.call('status')
  return (status.packs as { inUse: number }[])[0]!.inUse
}

async function printed(term: Terminal, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const text = term.out.join('\n')
    if (pattern.test(text)) return text
    if (Date.now() > deadline) throw new Error(`never printed ${pattern}; out: ${text}; err: ${term.err.join('\n')}`)
    await sleep(20)
  }
}

t.test('[LEASE-3] flr lease prints the lease, keeps it renewed, releases it on Ctrl-C', async (t) => {
  const ttl = 900
  const { port, peer } = await serve(t, ttl)
  const term = terminal()
  const exit = run(['lease', 'station', '--server', `127.0.0.1:${port}`, '--holder', 'cli-holder'], term.io)
  const text = await printed(term, /Leased/)
  const id = /lease (\S+)/.exec(text)?.[1]
  t.match(text, /Leased station as cli-holder: lease \S+/, 'says what it holds')
  t.match(text, /Ctrl-C/, 'and how to give it back')
  t.equal(await inUse(peer), 1, 'the seat is taken')
  await sleep(3 * ttl)
  t.match(await peer.call('renew', { lease: id }), { ok: true, lease: id }, 'still alive three TTLs later: it renews itself')
  term.interrupt()
  t.equal(await exit, 0, 'exit 0 after Ctrl-C')
  t.match(term.out.join('\n'), /Released station\./)
  t.equal(await inUse(peer), 0, 'the seat is back')
  t.same(term.err, [])
})

t.test('[WIRE-5] flr lease --json prints the lease for scripts; --wait waits for a seat', async (t) => {
  const { port, peer } = await serve(t)
  const held = await peer.call('lease', { pack: 'station' })
  const term = terminal({ FLR_SERVER: `127.0.0.1:${port}` })
  const exit = run(['lease', 'station', '--json', '--wait', '30s', '--holder', 'patient'], term.io)
  await sleep(200)
  t.same(term.out, [], 'waiting while the seat is held')
  await peer.call('release', { lease: held.lease })
  const lease = JSON.parse(await printed(term, /\}/))
  t.match(lease, { lease: String, pack: 'station', holder: 'patient', licenses: '<licenses><license>STATION-KEY</license></licenses>' })
  term.interrupt()
  t.equal(await exit, 0)
  t.equal(await inUse(peer), 0)
})

t.test('[WIRE-5] flr lease on an unknown pack: exit 1 with PACK_UNKNOWN', async (t) => {
  const { port } = await serve(t)
  const term = terminal()
  t.equal(await run(['lease', 'nope', '--server', `127.0.0.1:${port}`], term.io), 1)
  t.match(term.err.join('\n'), /PACK_UNKNOWN.*nope/)
})

t.test('[WIRE-5] flr lease on a full pack without --wait: exit 1 with PACK_EXHAUSTED', async (t) => {
  const { port, peer } = await serve(t)
  await peer.call('lease', { pack: 'station' })
  const term = terminal()
  t.equal(await run(['lease', 'station', '--server', `127.0.0.1:${port}`], term.io), 1)
  t.match(term.err.join('\n'), /PACK_EXHAUSTED/)
})

t.test('[WIRE-6] flr lease ends with exit 1 when its lease is gone (released elsewhere)', async (t) => {
  const { port, peer } = await serve(t, 600)
  const term = terminal()
  const exit = run(['lease', 'station', '--server', `127.0.0.1:${port}`], term.io)
  const id = /lease (\S+)/.exec(await printed(term, /Leased/))?.[1]
  // released behind its back: its next renewal learns the lease is gone
  t.match(await peer.call('release', { lease: id }), { ok: true })
  t.equal(await exit, 1)
  t.match(term.err.join('\n'), /lost/)
})

t.test('[WIRE-9] flr lease ends with exit 1 when an admin revokes the lease', async (t) => {
  const { port, peer } = await serve(t, 30_000, true)
  const term = terminal()
  const exit = run(['lease', 'station', '--server', `127.0.0.1:${port}`], term.io)
  const id = /lease (\S+)/.exec(await printed(term, /Leased/))?.[1]
  t.match(await peer.call('auth', { password: ADMIN_PASSWORD }), { ok: true })
  t.match(await peer.call('revoke', { lease: id }), { ok: true })
  t.equal(await exit, 1)
  t.match(term.err.join('\n'), /revoked the lease \(admin\)/)
})

t.test('[LEASE-5] [LEASE-4] Ctrl-C while waiting for a seat ends the wait: exit 1, nothing held', async (t) => {
  const { port, peer } = await serve(t)
  await peer.call('lease', { pack: 'station' })
  const term = terminal()
  const exit = run(['lease', 'station', '--server', `127.0.0.1:${port}`, '--wait', '10m'], term.io)
  const deadline = Date.now() + 15_000
  while ((await status(peer)).waiting !== 1) {
    if (Date.now() > deadline) throw new Error('flr lease never queued')
    await sleep(20)
  }
  term.interrupt()
  t.equal(await exit, 1, 'exit 1: no lease was taken')
  t.match(term.err.join('\n'), /interrupted while waiting for a seat of station/)
  while ((await status(peer)).waiting !== 0) {
    if (Date.now() > deadline) throw new Error('the wait was never cancelled')
    await sleep(20)
  }
  t.match(await status(peer), { inUse: 1, waiting: 0 }, 'the wait is gone from the server')
})

t.test('[LEASE-3] Ctrl-C with the server gone: exit 1 after a bounded try, saying the seat frees itself', async (t) => {
  const { port, daemon } = await serve(t)
  const term = terminal()
  const exit = run(['lease', 'station', '--server', `127.0.0.1:${port}`], term.io)
  await printed(term, /Leased/)
  await daemon.stop()
  term.interrupt()
  t.equal(await exit, 1)
  t.match(term.err.join('\n'), /could not reach the server to release lease \S+ of station; the seat frees itself/)
})

t.test('section 9: flr lease with nothing at the address: exit 1 and what to check', async (t) => {
  const port = await freePort()
  const term = terminal()
  t.equal(await run(['lease', 'station', '--server', `127.0.0.1:${port}`], term.io), 1)
  t.match(term.err.join('\n'), new RegExp(`CONNECTION_LOST.*127\\.0\\.0\\.1:${port}.*flr serve`))
})

t.test('section 9: flr lease usage', async (t) => {
  const help = terminal()
  t.equal(await run(['lease', '--help'], help.io), 0, '--help exits 0')
  t.match(help.out.join('\n'), /<pack>[\s\S]*--server[\s\S]*--wait[\s\S]*--holder[\s\S]*--json/)
  const cases: [string[], RegExp][] = [
    [['lease', 'station', '--server', 'not-an-address'], /HOST:PORT/],
    [['lease', 'station', '--server', '127.0.0.1:99999'], /HOST:PORT/],
    [['lease', 'station', '--server', '127.0.0.1:1', '--wait', 'soon'], /--wait/],
    [['lease', 'station', '--server', '127.0.0.1:1', '--wait', '11m'], /--wait.*10m/],
    [['lease'], /pack/],
  ]
  for (const [argv, message] of cases) {
    const term = terminal()
    t.equal(await run(argv, term.io), 2, `${argv.slice(1).join(' ')}: usage error`)
    t.match(term.err.join('\n'), message)
  }
})
