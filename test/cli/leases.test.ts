// `flr leases` in-process against a real daemon: [WIRE-8] the holders table and --json,
// [ADM-3] where the password comes from, and the admin refusals as exit codes.
import t from 'tap'
import { run } from '../../lib/cli/main.js'
import { freePort } from '../helpers/server.js'
import { PASSWORD, RawClient, httpCall, startAdminServer, terminal } from '../helpers/admin.js'

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/
const PACKS = [{ name: 'station', limit: 2 }, { name: 'Agent-Session', limit: 2 }]

t.test('[WIRE-8] [ADM-3] flr leases prints lease, pack, holder, client, address, since, expires (password from FLR_ADMIN_PASSWORD)', async (t) => {
  const s = await startAdminServer(t, { password: PASSWORD, packs: PACKS })
  const ws = await RawClient.open(t, s.port, 'ws-1')
  const station = await ws.request('lease', { pack: 'station', holder: 'alice' })
  const agent = await httpCall(s.httpPort, 'POST', '/request', { client: 'agent-7' })

  const c = terminal({ FLR_ADMIN_PASSWORD: PASSWORD })
  t.equal(await run(['leases', '--server', s.address], c.io), 0)
  t.equal(c.stderr(), '', 'no warning: the password did not come from the command line')
  const [header, ...rows] = c.stdout().split('\n')
  t.match(header, /^Lease\s+Pack\s+Holder\s+Client\s+Address\s+Since\s+Expires$/)
  t.equal(rows.length, 2)
  const cells = rows.map((r) => r.split(/\s{2,}/))
  const byLease = Object.fromEntries(cells.map((r) => [r[0], r]))
  t.match(byLease[station.lease as string], [station.lease, 'station', 'alice', 'ws-1', ws.localAddress, ISO, ISO])
  t.match(byLease[agent.json.lease], [agent.json.lease, 'Agent-Session', 'agent-7', 'agent-7', /127\.0\.0\.1/, ISO, ISO])
  t.equal(byLease[station.lease as string]![6], new Date(station.expiresAt as number).toISOString().replace(/\.\d+Z$/, 'Z'), 'expires is the lease’s expiry, UTC')
})

t.test('[WIRE-8] flr leases --json, filtered by pack, with the server from FLR_SERVER', async (t) => {
  const s = await startAdminServer(t, { password: PASSWORD, packs: PACKS })
  const ws = await RawClient.open(t, s.port, 'ws-1')
  const station = await ws.request('lease', { pack: 'station' })
  await httpCall(s.httpPort, 'POST', '/request', { client: 'agent-7' })

  const all = terminal({ FLR_ADMIN_PASSWORD: PASSWORD, FLR_SERVER: s.address })
  t.equal(await run(['leases', '--json'], all.io), 0)
  // one convention for --json: an object, the list under its name
  const { leases } = JSON.parse(all.stdout())
  t.equal(leases.length, 2)
  for (const l of leases) t.same(Object.keys(l).sort(), ['address', 'client', 'expiresAt', 'grantedAt', 'holder', 'lease', 'pack'])

  const one = terminal({ FLR_ADMIN_PASSWORD: PASSWORD, FLR_SERVER: s.address })
  t.equal(await run(['leases', 'station', '--json'], one.io), 0)
  t.match(JSON.parse(one.stdout()).leases, [{ lease: station.lease, pack: 'station', holder: 'ws-1', client: 'ws-1', address: ws.localAddress }])
  t.equal(JSON.parse(one.stdout()).leases.length, 1)

  const none = terminal({ FLR_ADMIN_PASSWORD: PASSWORD, FLR_SERVER: s.address })
  await ws.request('release', { lease: station.lease })
  t.equal(await run(['leases', 'station'], none.io), 0)
  t.equal(none.stdout(), 'No leases on station.')
})

t.test('[ADM-3] flr leases -p works and warns that shells record it', async (t) => {
  const s = await startAdminServer(t, { password: PASSWORD, packs: PACKS })
  const c = terminal()
  t.equal(await run(['leases', '--server', s.address, '-p', PASSWORD], c.io), 0)
  t.equal(c.stdout(), 'No leases.')
  t.match(c.stderr(), /warning: a password on the command line is recorded by shells/)
  t.notMatch(c.stderr(), PASSWORD, 'the warning does not repeat the password')
})

t.test('[WIRE-8] flr leases refusals: AUTH_FAILED exits 1, no password exits 2, ADMIN_PASSWORD_NOT_SET exits 1', async (t) => {
  const s = await startAdminServer(t, { password: PASSWORD, packs: PACKS })
  const wrong = terminal({ FLR_ADMIN_PASSWORD: 'Wr0ng-Horse' })
  t.equal(await run(['leases', '--server', s.address], wrong.io), 1)
  t.match(wrong.stderr(), /^flr: AUTH_FAILED: /)
  t.equal(wrong.stdout(), '', 'nothing listed')

  const nothing = terminal()
  t.equal(await run(['leases', '--server', s.address], nothing.io), 2)
  t.match(nothing.stderr(), /no admin password: .*FLR_ADMIN_PASSWORD/)

  const unset = await startAdminServer(t, { packs: PACKS })
  const c = terminal({ FLR_ADMIN_PASSWORD: PASSWORD })
  t.equal(await run(['leases', '--server', unset.address], c.io), 1)
  t.match(c.stderr(), /^flr: ADMIN_PASSWORD_NOT_SET: .*flr set-password/)

  const away = terminal({ FLR_ADMIN_PASSWORD: PASSWORD })
  t.equal(await run(['leases', '--server', `127.0.0.1:${await freePort()}`], away.io), 1)
  t.match(away.stderr(), /^flr: CONNECTION_LOST: cannot reach flr/)
})

t.test('[WIRE-8] three wrong `flr leases` runs on the server host lock nobody out: the right password works', async (t) => {
  const s = await startAdminServer(t, { password: PASSWORD, packs: PACKS })
  const codes: number[] = []
  const errors: string[] = []
  for (let i = 0; i < 3; i++) {
    const c = terminal({ FLR_ADMIN_PASSWORD: `Wr0ng-Horse${i}` })
    codes.push(await run(['leases', '--server', s.address], c.io))
    errors.push(c.stderr())
  }
  t.same(codes, [1, 1, 1])
  t.match(errors, [/AUTH_FAILED/, /AUTH_FAILED/, /AUTH_FAILED/])
  const right = terminal({ FLR_ADMIN_PASSWORD: PASSWORD })
  t.equal(await run(['leases', '--server', s.address], right.io), 0)
})
