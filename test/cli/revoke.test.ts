// `flr revoke LEASE` in-process against a real daemon: [WIRE-8] an admin frees a seat whose
// holder went away without releasing it ([LEASE-4] closing a connection releases nothing).
import t, { type Test } from 'tap'
import { run } from '../../lib/cli/main.js'
import { PASSWORD, RawClient, startAdminServer, terminal } from '../helpers/admin.js'

async function abandonedSeat(t: Test) {
  const s = await startAdminServer(t, { password: PASSWORD, packs: [{ name: 'station', limit: 1 }] })
  const gone = await RawClient.open(t, s.port, 'crashed-ws')
  const granted = await gone.request('lease', { pack: 'station' })
  t.equal(granted.ok, true, 'the client that goes away holds the only seat')
  await gone.destroy()
  const other = await RawClient.open(t, s.port, 'ws-2')
  return { s, lease: granted.lease as string, other }
}

t.test('[WIRE-8] [LEASE-4] flr revoke frees a seat held by a client that went away', async (t) => {
  const { s, lease, other } = await abandonedSeat(t)
  t.match((await other.request('lease', { pack: 'station' })).error, { code: 'PACK_EXHAUSTED', limit: 1, inUse: 1 }, 'the seat stays held after its connection is gone')

  const listed = terminal({ FLR_ADMIN_PASSWORD: PASSWORD })
  t.equal(await run(['leases', '--server', s.address, '--json'], listed.io), 0)
  t.match(JSON.parse(listed.stdout()).leases, [{ lease, pack: 'station', client: 'crashed-ws' }], 'flr leases shows who holds it')

  const c = terminal({ FLR_ADMIN_PASSWORD: PASSWORD })
  t.equal(await run(['revoke', lease, '--server', s.address], c.io), 0)
  t.equal(c.stdout(), `Revoked ${lease}; its seat is free.`)
  t.equal(c.stderr(), '')

  const next = await other.request('lease', { pack: 'station' })
  t.equal(next.ok, true, 'a new lease succeeds')
  t.not(next.lease, lease)
})

t.test('[WIRE-8] [ADM-3] flr revoke -p warns; an unknown lease exits 1 with LEASE_UNKNOWN', async (t) => {
  const { s, lease } = await abandonedSeat(t)
  const c = terminal()
  t.equal(await run(['revoke', lease, '--server', s.address, '-p', PASSWORD], c.io), 0)
  t.match(c.stderr(), /warning: a password on the command line is recorded by shells/)

  const again = terminal({ FLR_ADMIN_PASSWORD: PASSWORD })
  t.equal(await run(['revoke', lease, '--server', s.address], again.io), 1)
  t.match(again.stderr(), /^flr: LEASE_UNKNOWN: /)
  t.equal(again.stdout(), '')
})

t.test('[WIRE-8] flr revoke with a wrong password exits 1 with AUTH_FAILED and the seat stays held', async (t) => {
  const { s, lease, other } = await abandonedSeat(t)
  const c = terminal({ FLR_ADMIN_PASSWORD: 'Wr0ng-Horse' })
  t.equal(await run(['revoke', lease, '--server', s.address], c.io), 1)
  t.match(c.stderr(), /^flr: AUTH_FAILED: /)
  t.equal(c.stdout(), '')
  t.equal((await other.request('lease', { pack: 'station' })).error?.code, 'PACK_EXHAUSTED', 'nothing was revoked')
})

t.test('flr revoke without a lease id is a usage error (exit 2)', async (t) => {
  const c = terminal({ FLR_ADMIN_PASSWORD: PASSWORD })
  t.equal(await run(['revoke'], c.io), 2)
  t.match(c.stderr(), /missing required argument 'lease'/)
})

t.test('[LEASE-4] flr revoke takes a lease id that starts with "-" (one in 64 do) as the lease, not as options', async (t) => {
  const s = await startAdminServer(t, { password: PASSWORD, packs: [{ name: 'station', limit: 1000 }] })
  const ws = await RawClient.open(t, s.port, 'ws-1')
  // draw leases until one starts with '-': the chance of 1,000 draws missing is about 1e-7
  let dashed: string | undefined
  for (let i = 0; i < 1000 && !dashed; i++) {
    const r = await ws.request('lease', { pack: 'station', holder: `h-${i}` })
    if ((r.lease as string).startsWith('-')) dashed = r.lease as string
  }
  t.ok(dashed, `drew a dashed lease id (${dashed})`)
  const c = terminal({ FLR_ADMIN_PASSWORD: PASSWORD })
  t.equal(await run(['revoke', dashed!, '--server', s.address], c.io), 0, c.stderr())
  t.equal(c.stdout(), `Revoked ${dashed}; its seat is free.`)
  t.equal((await ws.request('renew', { lease: dashed })).error?.code, 'LEASE_UNKNOWN', 'that very lease was revoked')

  // ids that begin like the command's own flags: still lease ids, which the server does not know
  for (const id of ['-pAAAAAAAAAAAAAAAAAAAA', '-hAAAAAAAAAAAAAAAAAAAA', '--AAAAAAAAAAAAAAAAAAAA']) {
    const o = terminal({ FLR_ADMIN_PASSWORD: PASSWORD })
    t.equal(await run(['revoke', '--server', s.address, id], o.io), 1, id)
    t.match(o.stderr(), /^flr: LEASE_UNKNOWN: no such lease/, id)
  }
})

t.test('[ADM-3] flr revoke -p with a password shaped like a lease id still reads it as the password', async (t) => {
  const password = '-Abcdefgh1_xyzxyzxyzx'
  const s = await startAdminServer(t, { password, packs: [{ name: 'station', limit: 1 }] })
  const ws = await RawClient.open(t, s.port, 'ws-1')
  const granted = await ws.request('lease', { pack: 'station' })
  const c = terminal()
  t.equal(await run(['revoke', '-p', password, granted.lease as string, '--server', s.address], c.io), 0, c.stderr())
  t.match(c.stdout(), /^Revoked /)
})

// KNOWN BUG (reported to the lead, not in a file of mine): the root program parses its own
// options across the whole command line, so a lease id starting with '-V' (one in 4,096) prints
// the version and exits 0 without revoking anything. Fix: `.enablePositionalOptions()` on the
// program in lib/cli/main.ts, so root options stop at the subcommand's name.
t.test('[LEASE-4] flr revoke reads a lease id starting with "-V" as the lease, not as --version', async (t) => {
  const s = await startAdminServer(t, { password: PASSWORD })
  const c = terminal({ FLR_ADMIN_PASSWORD: PASSWORD })
  t.equal(await run(['revoke', '-VAAAAAAAAAAAAAAAAAAAA', '--server', s.address], c.io), 1)
  t.match(c.stderr(), /^flr: LEASE_UNKNOWN: /)
})
