// [OBS-3] GET /api/1.0/report on a real daemon's HTTP shim: JSON by default, CSV on request,
// refusals that name what to fix, read-only.
import t from 'tap'
import { httpCall, RawClient, startAdminServer } from '../helpers/admin.js'

t.test('[OBS-3] /api/1.0/report answers the shared shape; bad queries are 400 naming the parameter', async (t) => {
  const s = await startAdminServer(t, { packs: [{ name: 'station', limit: 2 }] })
  const ws = await RawClient.open(t, s.port, 'ws-1')
  await ws.request('lease', { pack: 'station', holder: 'alice' })
  const today = new Date().toISOString().slice(0, 10)
  const ok = await httpCall(s.httpPort, 'GET', `/api/1.0/report?from=${today}&to=${today}&by=hour&pack=station`)
  t.equal(ok.status, 200)
  t.same(Object.keys(ok.json).sort(), ['by', 'from', 'rows', 'to'])
  t.equal(ok.json.by, 'hour')
  const row = ok.json.rows.at(-1)
  t.same(Object.keys(row).sort(), ['denials', 'grants', 'holders', 'leaseHours', 'limit', 'maxWaitMs', 'meanInUse', 'meanWaitMs', 'pack', 'peakInUse', 'period'])
  t.match(row, { pack: 'station', limit: 2, peakInUse: 1, grants: 1, holders: 1 })
  t.notMatch(JSON.stringify(ok.json), /alice/, 'no holder name in the public report')

  const badDate = await httpCall(s.httpPort, 'GET', '/api/1.0/report?from=yesterday')
  t.equal(badDate.status, 400)
  t.match(badDate.json.error, { code: 'BAD_REQUEST', message: /"from" must be a date/ })
  const badBy = await httpCall(s.httpPort, 'GET', '/api/1.0/report?by=week')
  t.match(badBy.json.error.message, /"by" must be one of hour, day, month, holder/)
  const tooLong = await httpCall(s.httpPort, 'GET', '/api/1.0/report?by=hour&from=2025-01-01&to=2025-12-31')
  t.equal(tooLong.status, 400, 'by hour is bounded')
  const post = await httpCall(s.httpPort, 'POST', '/api/1.0/report', {})
  t.equal(post.status, 405)
})
