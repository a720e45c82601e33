// [WIRE-8] admin ops over TCP against a real in-process daemon: auth, the per-server lock-out,
// leases, revoke (with its [WIRE-9] push), reload, and [ADM-2] a password changed while running.
import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setPassword } from '../../lib/admin/password.js'
import { LOCKOUT_MS } from '../../lib/admin/lockout.js'
import { HOST_ID, dropLpf, lpfText } from '../helpers/server.js'
import { PASSWORD, RawClient, httpCall, startAdminServer as server } from '../helpers/admin.js'

const WRONG = 'Wr0ng-Horse'
const LEASE_FIELDS = ['address', 'client', 'expiresAt', 'grantedAt', 'holder', 'lease', 'pack']

async function admin(t: Test, port: number, password = PASSWORD): Promise<RawClient> {
  const c = await RawClient.open(t, port, 'admin-console')
  const reply = await c.request('auth', { password })
  if (!reply.ok) throw new Error(`auth failed: ${JSON.stringify(reply.error)}`)
  return c
}

t.test('[WIRE-8] leases, revoke and reload answer AUTH_REQUIRED before auth, and after a failed auth', async (t) => {
  const s = await server(t, { password: PASSWORD })
  const c = await RawClient.open(t, s.port, 'curious')
  const ops: [string, Record<string, unknown>][] = [['leases', {}], ['leases', { pack: 'station' }], ['revoke', { lease: 'AAAAAAAAAAAAAAAAAAAAAA' }], ['reload', {}]]
  for (const [op, body] of ops) {
    const reply = await c.request(op, body)
    t.equal(reply.ok, false, op)
    t.equal(reply.error?.code, 'AUTH_REQUIRED', op)
  }
  t.equal((await c.request('auth', { password: WRONG })).error?.code, 'AUTH_FAILED')
  t.equal((await c.request('leases')).error?.code, 'AUTH_REQUIRED', 'a failed auth leaves the connection a plain one')
  t.equal((await c.request('status')).ok, true, 'the connection itself stays usable ([WIRE-3] not a fault)')
})

t.test('[WIRE-8] [ADM-1] with no password set, auth answers ADMIN_PASSWORD_NOT_SET and never locks out', async (t) => {
  const s = await server(t)
  const c = await RawClient.open(t, s.port, 'admin-console')
  for (let i = 1; i <= 4; i++) {
    const reply = await c.request('auth', { password: i % 2 ? PASSWORD : WRONG })
    t.equal(reply.error?.code, 'ADMIN_PASSWORD_NOT_SET', `attempt ${i}`)
    t.match(reply.error?.message, /flr set-password/, 'the message says what to do')
  }
  t.equal((await c.request('leases')).error?.code, 'AUTH_REQUIRED')
})

t.test('[WIRE-8] a wrong password gets AUTH_FAILED; the right one makes that connection, and only it, an admin one', async (t) => {
  const s = await server(t, { password: PASSWORD })
  const c = await RawClient.open(t, s.port, 'admin-console')
  const failed = await c.request('auth', { password: WRONG })
  t.equal(failed.error?.code, 'AUTH_FAILED')
  t.notMatch(JSON.stringify(failed), WRONG, 'the answer does not echo the password')
  const ok = await c.request('auth', { password: PASSWORD })
  t.same({ ok: ok.ok, keys: Object.keys(ok).sort() }, { ok: true, keys: ['id', 'ok'] }, 'auth → {}')
  t.same((await c.request('leases')).leases, [])
  const other = await RawClient.open(t, s.port, 'bystander')
  t.equal((await other.request('leases')).error?.code, 'AUTH_REQUIRED', 'admin is per connection')
})

t.test('[WIRE-8] the server host (loopback) is never locked out, over any number of wrong passwords on any connections', async (t) => {
  // the lock-out per remote address is tested in test/admin/lockout.test.ts and test/admin/remote.test.ts
  const s = await server(t, { password: PASSWORD })
  const a = await RawClient.open(t, s.port, 'guesser-a')
  const b = await RawClient.open(t, s.port, 'guesser-b')
  const codes: (string | undefined)[] = []
  for (const c of [a, b, a, b, a]) codes.push((await c.request('auth', { password: WRONG })).error?.code)
  t.same(codes, ['AUTH_FAILED', 'AUTH_FAILED', 'AUTH_FAILED', 'AUTH_FAILED', 'AUTH_FAILED'])
  t.ok((await b.request('auth', { password: PASSWORD })).ok, 'the right password still works')
  t.ok(LOCKOUT_MS > 0)
})

t.test('[WIRE-8] leases {pack?} lists every lease, TCP and HTTP, with lease, pack, holder, client, address, grantedAt, expiresAt', async (t) => {
  const s = await server(t, {
    password: PASSWORD,
    packs: [{ name: 'station', limit: 3 }, { name: 'wb', limit: 2 }, { name: 'Agent-Session', limit: 2 }],
  })
  const before = Date.now()
  const ws = await RawClient.open(t, s.port, 'ws-1')
  const station = await ws.request('lease', { pack: 'station', holder: 'alice' })
  const wb = await ws.request('lease', { pack: 'wb' })
  const agent = await httpCall(s.httpPort, 'POST', '/request', { client: 'agent-7' })
  t.equal(agent.status, 200)
  const after = Date.now()

  const c = await admin(t, s.port)
  const all = (await c.request('leases')).leases as Record<string, any>[]
  t.equal(all.length, 3)
  for (const l of all) t.same(Object.keys(l).sort(), LEASE_FIELDS, `${l.pack}: exactly the [WIRE-8] fields`)
  const byPack = Object.fromEntries(all.map((l) => [l.pack, l]))
  t.match(byPack.station, { lease: station.lease, holder: 'alice', client: 'ws-1', address: ws.localAddress, expiresAt: station.expiresAt })
  t.match(byPack.wb, { lease: wb.lease, holder: 'ws-1', client: 'ws-1', address: ws.localAddress }, 'holder defaults to the hello client')
  t.match(byPack['Agent-Session'], { lease: agent.json.lease, holder: 'agent-7', client: 'agent-7', address: /^(::ffff:)?127\.0\.0\.1/ })
  for (const l of all) {
    t.ok(l.grantedAt >= before - 1 && l.grantedAt <= after + 1, `${l.pack}: grantedAt is the grant's time`)
    t.ok(l.expiresAt > l.grantedAt, `${l.pack}: expiresAt after grantedAt`)
  }

  const onlyWb = (await c.request('leases', { pack: 'wb' })).leases as Record<string, unknown>[]
  t.same(onlyWb.map((l) => l.lease), [wb.lease], 'leases {pack} filters')
  t.same((await c.request('leases', { pack: 'station' })).leases, [byPack.station])
})

t.test('[WIRE-8] [WIRE-9] revoke frees the seat and the holder’s connection gets revoked {reason: admin}', async (t) => {
  const s = await server(t, { password: PASSWORD })
  const holder = await RawClient.open(t, s.port, 'ws-1')
  const granted = await holder.request('lease', { pack: 'station' })
  t.equal(granted.ok, true)
  const waiting = await RawClient.open(t, s.port, 'ws-2')
  t.equal((await waiting.request('lease', { pack: 'station' })).error?.code, 'PACK_EXHAUSTED', 'limit 1 is taken')

  const c = await admin(t, s.port)
  const revoked = await c.request('revoke', { lease: granted.lease })
  t.same({ ok: revoked.ok, keys: Object.keys(revoked).sort() }, { ok: true, keys: ['id', 'ok'] }, 'revoke → {}')
  t.match(await holder.nextPush('revoked'), { push: 'revoked', lease: granted.lease, pack: 'station', reason: 'admin' })
  t.equal((await holder.request('renew', { lease: granted.lease })).error?.code, 'LEASE_UNKNOWN', 'the revoked lease is gone')
  const next = await waiting.request('lease', { pack: 'station' })
  t.equal(next.ok, true, 'the seat is free for someone else')
  t.equal(waiting.pushes.length, 0, 'nobody else was told')
  t.equal((await c.request('revoke', { lease: granted.lease })).error?.code, 'LEASE_UNKNOWN', 'revoking twice: LEASE_UNKNOWN')
})

t.test('[WIRE-8] [SRV-2] reload answers {applied, error?}', async (t) => {
  const s = await server(t, { password: PASSWORD })
  const c = await admin(t, s.port)
  const same = await c.request('reload')
  t.same({ ok: same.ok, applied: same.applied, error: same.error }, { ok: true, applied: false, error: undefined }, 'the same file: nothing to apply')

  // the admin's reload comes well before the watcher's 300 ms settle time
  dropLpf(s.dirs.licenseDir, { port: s.lpfPort, packs: [{ name: 'station', limit: 4 }] })
  const raised = await c.request('reload')
  t.equal(raised.applied, true, 'a new valid file is applied')
  t.equal(raised.error, undefined)
  t.match((await c.request('status')).packs, [{ name: 'station', limit: 4 }])

  const tampered = lpfText({ port: s.lpfPort, packs: [{ name: 'station', limit: 9 }] }).replace('limit="9"', 'limit="99"')
  writeFileSync(join(s.dirs.licenseDir, `${HOST_ID}.lp`), tampered)
  const bad = await c.request('reload')
  t.equal(bad.ok, true, 'a rejected file is an answer, not a failed request')
  t.equal(bad.applied, false)
  t.match(bad.error, { code: 'LPF_SIGNATURE_INVALID', message: String })
  t.match((await c.request('status')).packs, [{ name: 'station', limit: 4 }], 'the last valid LPF stays in force')
})

t.test('[ADM-2] a password set while the server runs is in force at once, without a restart', async (t) => {
  const s = await server(t)
  const a = await RawClient.open(t, s.port, 'admin-console')
  t.equal((await a.request('auth', { password: PASSWORD })).error?.code, 'ADMIN_PASSWORD_NOT_SET')
  await setPassword(s.dirs.stateDir, PASSWORD)
  t.equal((await a.request('auth', { password: PASSWORD })).ok, true, 'the first password works at once')

  const NEW = 'N3w-Battery!'
  await setPassword(s.dirs.stateDir, NEW)
  const b = await RawClient.open(t, s.port, 'admin-console')
  t.equal((await b.request('auth', { password: PASSWORD })).error?.code, 'AUTH_FAILED', 'the old password no longer works')
  t.equal((await b.request('auth', { password: NEW })).ok, true, 'the new one does')
  t.equal((await b.request('leases')).ok, true)
})
