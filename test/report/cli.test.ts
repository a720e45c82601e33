// [OBS-3] `flr report` in-process against a real daemon: the table, --json, --csv, the day
// filters, and --by holder for admins only (the password as for every admin command).
import t, { type Test } from 'tap'
import { run } from '../../lib/cli/main.js'
import { PASSWORD, RawClient, startAdminServer, terminal } from '../helpers/admin.js'

const PACKS = [{ name: 'station', limit: 1 }, { name: 'viewer', limit: 3 }]

async function busyServer(t: Test) {
  const s = await startAdminServer(t, { password: PASSWORD, packs: PACKS })
  const ws = await RawClient.open(t, s.port, 'ws-1')
  const a = await ws.request('lease', { pack: 'station', holder: 'alice' })
  const refused = await ws.request('lease', { pack: 'station', holder: 'bob' })
  t.equal((refused.error as { code: string }).code, 'PACK_EXHAUSTED')
  await ws.request('release', { lease: a.lease })
  await ws.request('lease', { pack: 'viewer', holder: 'carol' })
  await ws.request('lease', { pack: 'viewer', holder: 'dave' })
  return s
}


t.test('[OBS-3] flr report prints one row per pack and day with its figures; --json and --csv', async (t) => {
  const s = await busyServer(t)
  const today = new Date().toISOString().slice(0, 10)
  const json = terminal({})
  t.equal(await run(['report', '--server', s.address, '--json'], json.io), 0, json.stderr())
  const report = JSON.parse(json.stdout())
  t.equal(report.by, 'day')
  const rows = report.rows.filter((r: { period: string }) => r.period.startsWith(today))
  const station = rows.find((r: { pack: string }) => r.pack === 'station')
  const viewer = rows.find((r: { pack: string }) => r.pack === 'viewer')
  t.match(station, { limit: 1, peakInUse: 1, grants: 1, denials: { PACK_EXHAUSTED: 1, WAIT_TIMEOUT: 0 }, holders: 1, maxWaitMs: 0 })
  t.match(viewer, { limit: 3, peakInUse: 2, grants: 2, denials: { PACK_EXHAUSTED: 0, WAIT_TIMEOUT: 0 }, holders: 2 })
  t.ok(viewer.leaseHours > 0 && viewer.meanInUse > 0, 'lease time counts while leases are held')

  const table = terminal({})
  t.equal(await run(['report', '--server', s.address, '--pack', 'viewer', '--from', today, '--to', today], table.io), 0)
  const lines = table.stdout().split('\n')
  t.match(lines[0], `Usage from ${today}`)
  t.match(lines[2], /^Pack\s+Period\s+Limit\s+Peak\s+Mean\s+Lease-hours\s+Grants\s+Denied \(full\)\s+Denied \(timeout\)\s+Mean wait\s+Max wait\s+Holders$/)
  t.match(lines[3], new RegExp(`^viewer\\s+${today}\\s+3\\s+2\\s`))
  t.equal(lines.length, 4, 'one pack, one day')

  const csv = terminal({})
  t.equal(await run(['report', '--server', s.address, '--csv', '--by', 'month'], csv.io), 0)
  const [header, ...csvRows] = csv.stdout().split('\r\n')
  t.equal(header, 'pack,period,limit,peakInUse,meanInUse,leaseHours,grants,deniedExhausted,deniedTimeout,meanWaitMs,maxWaitMs,holders')
  t.match(csvRows.join('\n'), /^station,\d{4}-\d{2}-01T00:00:00.000Z,1,1,/m)
})

t.test('[OBS-3] flr report --by holder names people: it needs the admin password', async (t) => {
  const s = await busyServer(t)
  const admin = terminal({ FLR_ADMIN_PASSWORD: PASSWORD })
  t.equal(await run(['report', '--server', s.address, '--by', 'holder', '--json'], admin.io), 0, admin.stderr())
  const rows = JSON.parse(admin.stdout()).rows as { pack: string; holder: string; grants: number; denials: { PACK_EXHAUSTED: number } }[]
  t.same(rows.map((r) => `${r.pack} ${r.holder}`).sort(), ['station alice', 'station bob', 'viewer carol', 'viewer dave'])
  t.equal(rows.find((r) => r.holder === 'bob')!.denials.PACK_EXHAUSTED, 1)

  const wrong = terminal({ FLR_ADMIN_PASSWORD: 'Not-The-Password-1' })
  t.not(await run(['report', '--server', s.address, '--by', 'holder'], wrong.io), 0, 'a wrong password gets no names')
  t.equal(wrong.stdout(), '')
})

t.test('[OBS-3] flr report refuses dates that are not days', async (t) => {
  const s = await startAdminServer(t, { packs: PACKS })
  const c = terminal({})
  t.not(await run(['report', '--server', s.address, '--from', 'last tuesday'], c.io), 0)
  t.match(c.stderr(), /"from" must be a date as YYYY-MM-DD/)
})
