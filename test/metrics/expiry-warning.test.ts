// [OBS-5] The LPF expiry warning: on the license keeper's fake clock (the real keeper, engine and
// LPF loader; time moves only when the test moves it) through the last 40 days of an LPF, and in
// a real daemon: the warning at start, and expiresInDays in status, health and `flr status`.
import t from 'tap'
import { render } from '../../lib/cli/commands/status.js'
import { ExpiryWarning } from '../../lib/server/expiry-warning.js'
import { captureLog } from '../helpers/reload.js'
import { dropLpf, freePort, makeDirs, startDaemon } from '../helpers/server.js'
import { RawPeer } from '../helpers/wire.js'
import { DAY_MS, isoAt, QUIET_MS, serving } from '../server/keeper-harness.js'

const HOUR_MS = 3_600_000
/** serving() starts the clock this far after START (the file settles): expiries are set from there */
const SETTLED = 10 * QUIET_MS

t.test('[OBS-5] from 30 days before the LPF expires, one warning a day, counting down; none before, none once expired', async (t) => {
  const r = await serving(t, (r) => r.lpf({ expiration: isoAt(SETTLED + 40 * DAY_MS) }))
  t.equal(r.clock.now(), Date.parse(isoAt(SETTLED)), 'the warnings start 40 days before the expiry')
  const warning = new ExpiryWarning({ clock: r.clock, log: r.captured.log, plan: () => r.keeper.plan })
  warning.start()
  t.teardown(() => warning.stop())
  const warnings = () => r.captured.matching(/^the LPF expires/)
  await r.advance(10 * DAY_MS - HOUR_MS)
  t.equal(warnings().length, 0, 'nothing while more than 30 days are left')
  await r.advance(HOUR_MS)
  t.equal(warnings().length, 1, 'the first warning at 30 days')
  t.match(warnings()[0], { level: 40, expiresInDays: 30, expiresAt: new Date(r.keeper.plan!.expiresAt!).toISOString(), msg: /expires in 30 days/ })
  await r.advance(DAY_MS - HOUR_MS)
  t.equal(warnings().length, 1, 'no second warning within the day')
  await r.advance(31 * DAY_MS)
  const days = warnings().map((w) => w.expiresInDays)
  t.same(days, Array.from({ length: 30 }, (_, i) => 30 - i), 'one a day, 30 days down to 1, then none once expired')
  t.match(r.keeper.state, { kind: 'stopped', why: { code: 'LPF_EXPIRED' } }, '[SRV-6] took over at the instant')
})

t.test('[OBS-5] a new LPF that expires sooner is warned about within the hour, though one was warned about today', async (t) => {
  const r = await serving(t, (r) => r.lpf({ expiration: isoAt(SETTLED + 20 * DAY_MS) }))
  const warning = new ExpiryWarning({ clock: r.clock, log: r.captured.log, plan: () => r.keeper.plan })
  warning.start()
  t.teardown(() => warning.stop())
  t.equal(r.captured.matching(/^the LPF expires in 20 days/).length, 1, 'at start')
  r.disk.write(r.lpf({ expiration: isoAt(SETTLED + 5 * DAY_MS) }))
  t.match(await r.keeper.reload(), { applied: true })
  await r.advance(HOUR_MS)
  t.equal(r.captured.matching(/^the LPF expires in 4 days/).length, 1, 'the new expiry, warned about within the hour')
  r.disk.write(r.lpf({ expiration: '2099-12-31' }))
  t.match(await r.keeper.reload(), { applied: true })
  await r.advance(3 * DAY_MS)
  t.equal(r.captured.matching(/^the LPF expires/).length, 2, 'an LPF far from expiry: no more warnings')
})

t.test('[OBS-5] a real daemon whose LPF expires in 10 days: warns at start; status, health and `flr status` say 10 days', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  const expiration = new Date(Date.now() + 10 * DAY_MS + HOUR_MS).toISOString().replace(/\.\d+Z$/, 'Z')
  dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 1 }], expiration })
  const captured = captureLog('info')
  const daemon = await startDaemon(t, dirs, { httpPort: 0, log: captured.log })
  t.match(captured.matching(/^the LPF expires/), [{ level: 40, expiresInDays: 10, expiration, msg: /expires in 10 days .*ask the vendor for a new LPF/ }], 'one warning at start')
  const peer = await RawPeer.hello(t, port, 'status-client')
  const status = await peer.call('status')
  t.match(status, { ok: true, lpf: { expiration, expiresInDays: 10 } }, 'status over TCP')
  const health = await fetch(`http://127.0.0.1:${daemon.httpPort}/api/1.0/health`).then((r) => r.json())
  t.match(health, { serving: true, expiresInDays: 10 }, 'health')
  t.match(render(daemon.status()), new RegExp(`expires ${expiration} \\(in 10 days\\)`), 'flr status shows the days left')
})

t.test('[OBS-5] an LPF that never expires: no warning, and no expiresInDays', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 1 }], expiration: 'never' })
  const captured = captureLog('info')
  const daemon = await startDaemon(t, dirs, { httpPort: 0, log: captured.log })
  t.equal(captured.matching(/^the LPF expires/).length, 0)
  t.equal(daemon.status().lpf?.expiresInDays, undefined)
  const health = (await fetch(`http://127.0.0.1:${daemon.httpPort}/api/1.0/health`).then((r) => r.json())) as Record<string, unknown>
  t.notOk('expiresInDays' in health)
})
