// [OBS-2] [OBS-3] A real `flr serve` under load, killed with SIGKILL: every grant and every
// release it acknowledged is in the history it left; restarted, its report (wire and HTTP)
// agrees with a brute-force recomputation from those raw events.
import t from 'tap'
import { request } from 'node:http'
import { openLeaseStore } from '../../lib/store/lease-store.js'
import type { HistoryEvent } from '../../lib/engine/types.js'
import { dropLpf, freePort, HOST_ID, makeDirs } from '../helpers/server.js'
import { killHard, RawClient, ReplyLost, startServing } from '../helpers/crash.js'
import { spawnServeWithHttp } from '../helpers/admin.js'
import { bruteReport } from '../report/brute.js'

const PACKS = [
  { name: 'cad', limit: 3 },
  { name: 'sim', limit: 2 },
]

function httpGet(port: number, path: string, accept = 'application/json'): Promise<{ status: number; text: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { accept } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode!, text, type: String(res.headers['content-type']) }))
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('[OBS-2] after kill -9, nothing acknowledged is missing from the history; [OBS-3] the restarted server reports it exactly', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: PACKS })
  const serve = await startServing(t, dirs, ['--lease-ttl', '10m'])
  const grantsAcked = new Set<string>()
  const releasesAcked = new Set<string>()
  let denials = 0
  const worker = async (n: number) => {
    const client = await RawClient.connect(port, `ws-${n}`)
    const mine: string[] = []
    try {
      for (let i = 0; client.isOpen; i++) {
        if (mine.length > 0 && (i % 3 === 2 || mine.length > 1)) {
          const lease = mine.shift()!
          const reply = await client.request('release', { lease })
          if (reply.ok) releasesAcked.add(lease)
        } else {
          const reply = await client.request('lease', { pack: PACKS[i % 2].name, holder: `user-${n}-${i % 4}` })
          if (reply.ok) {
            grantsAcked.add(reply.lease as string)
            mine.push(reply.lease as string)
          } else denials++
        }
      }
    } catch (e) {
      if (!(e instanceof ReplyLost)) throw e
    }
  }
  const workers = Array.from({ length: 6 }, (_, n) => worker(n))
  // kill once a good number of writes were acknowledged (at a moment the load chose, not a sleep)
  while (grantsAcked.size < 150 || releasesAcked.size < 60) await new Promise((r) => setImmediate(r))
  await killHard(serve)
  await Promise.all(workers)
  t.ok(denials > 0, `some requests were denied (${denials})`)

  // the state directory as the dead server left it
  const store = await openLeaseStore({ stateDir: dirs.stateDir, hostId: HOST_ID })
  const events = await store.history!.events(0, Number.MAX_SAFE_INTEGER)
  await store.close()
  const granted = new Set(events.flatMap((e) => (e.kind === 'grant' ? [e.lease] : [])))
  const released = new Set(events.flatMap((e) => (e.kind === 'end' && e.how === 'released' ? [e.lease] : [])))
  t.same([...grantsAcked].filter((l) => !granted.has(l)), [], `all ${grantsAcked.size} acknowledged grants are in the history`)
  t.same([...releasesAcked].filter((l) => !released.has(l)), [], `all ${releasesAcked.size} acknowledged releases are in the history`)
  t.ok(events.some((e) => e.kind === 'limit'), 'the limits in force are in the history')

  // restarted: the report over the wire and over HTTP agrees with the raw events
  const again = spawnServeWithHttp(t, dirs, ['--lease-ttl', '10m'])
  await again.waitForLog(/^LPF loaded: serving/, 30_000)
  const httpPort = await again.httpPort()
  const client = await RawClient.connect(port, 'reporter')
  t.teardown(() => client.close())
  const reply = await client.call('report', { by: 'hour' })
  const now = Date.now()
  // what the restarted server wrote since (its limits) is part of the history too
  const after = await readEventsWhileRunning(dirs.stateDir)
  const brute = bruteReport(after, { from: Date.parse(reply.from as string), to: Date.parse(reply.to as string), by: 'hour' }, now)
  const figures = (rows: any[]) => rows.map((r) => [r.pack, r.period, r.limit, r.peakInUse, r.grants, r.denials, r.holders, r.maxWaitMs])
  t.same(figures(reply.rows as any[]), figures(brute), 'by hour, the exact figures (peak, grants, denials, holders) agree')
  const wireDay = await client.call('report', { by: 'day' })
  const web = await httpGet(httpPort, '/api/1.0/report?by=day')
  t.equal(web.status, 200)
  const webReport = JSON.parse(web.text)
  t.same(figures(webReport.rows), figures(wireDay.rows as any[]), 'HTTP and the wire give the same report')
  t.same(webReport.rows.map((r: any) => r.grants).reduce((a: number, b: number) => a + b, 0), granted.size, 'every grant in the history is counted')
  const csv = await httpGet(httpPort, '/api/1.0/report?by=day', 'text/csv')
  t.match(csv.type, /^text\/csv/)
  t.equal(csv.text.split('\r\n')[0], 'pack,period,limit,peakInUse,meanInUse,leaseHours,grants,deniedExhausted,deniedTimeout,meanWaitMs,maxWaitMs,holders')
  t.equal(csv.text.trim().split('\r\n').length, 1 + webReport.rows.length, 'one CSV line per row')
  const holders = await client.request('report', { by: 'holder' })
  t.equal((holders.error as any)?.code, 'AUTH_REQUIRED', '--by holder names people: admin only')
  const publicHolders = await httpGet(httpPort, '/api/1.0/report?by=holder')
  t.equal(publicHolders.status, 400, 'and not on the public endpoint')
})

/** LMDB readers do not block the writer: the test reads the live server's history. */
async function readEventsWhileRunning(stateDir: string): Promise<HistoryEvent[]> {
  const { open } = await import('lmdb')
  const { HISTORY_TABLES, MAX_TABLES } = await import('../../lib/store/store-layout.js')
  const { atOf, eventOf, eventValueCodec } = await import('../../lib/store/history-codec.js')
  const env = open({ path: `${stateDir}/leases.mdb`, noSubdir: true, readOnly: true, maxDbs: MAX_TABLES })
  const db = env.openDB<unknown[] | undefined, number>({ name: HISTORY_TABLES.events, encoder: eventValueCodec } as never)
  const events: HistoryEvent[] = []
  for (const { key, value } of db.getRange()) {
    const e = eventOf(atOf(key), value)
    if (e) events.push(e)
  }
  await env.close()
  return events
}
