import t from 'tap'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AccessLog, accessLogName } from '../../lib/server/access-log.js'

function fakeClock(iso: string) {
  let now = Date.parse(iso)
  return { now: () => now, set: (at: string) => void (now = Date.parse(at)) }
}

async function lines(path: string): Promise<Record<string, unknown>[]> {
  return (await readFile(path, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l))
}

t.test('[HTTP-5] one JSON line per entry, stamped with the clock time, in access_<yyyy-mm-dd>.request.log', async (t) => {
  const dir = t.testdir()
  const clock = fakeClock('2026-03-01T10:00:00.000Z')
  const log = new AccessLog({ dir, clock })
  log.write({ method: 'POST', path: '/request', client: 'agent-1', status: 200 })
  clock.set('2026-03-01T10:00:01.250Z')
  log.write({ method: 'DELETE', path: '/request/abc', status: 404, code: 'LEASE_UNKNOWN' })
  await log.close()
  t.same(await readdir(dir), ['access_2026-03-01.request.log'])
  t.same(await lines(join(dir, 'access_2026-03-01.request.log')), [
    { time: '2026-03-01T10:00:00.000Z', method: 'POST', path: '/request', client: 'agent-1', status: 200 },
    { time: '2026-03-01T10:00:01.250Z', method: 'DELETE', path: '/request/abc', status: 404, code: 'LEASE_UNKNOWN' },
  ])
})

t.test('[HTTP-5] the file rolls over at the UTC day boundary', async (t) => {
  const dir = t.testdir()
  const clock = fakeClock('2026-12-31T23:59:59.999Z')
  const log = new AccessLog({ dir, clock })
  log.write({ n: 1 })
  clock.set('2027-01-01T00:00:00.000Z')
  log.write({ n: 2 })
  log.write({ n: 3 })
  clock.set('2027-01-02T00:00:00.001Z')
  log.write({ n: 4 })
  await log.close()
  t.same((await readdir(dir)).sort(), [accessLogName('2026-12-31'), accessLogName('2027-01-01'), accessLogName('2027-01-02')])
  t.same((await lines(join(dir, accessLogName('2026-12-31')))).map((l) => l.n), [1])
  t.same((await lines(join(dir, accessLogName('2027-01-01')))).map((l) => l.n), [2, 3])
  t.same((await lines(join(dir, accessLogName('2027-01-02')))).map((l) => l.n), [4])
})

t.test('[HTTP-5] the day is the UTC day whatever the local time zone', async (t) => {
  // 23:30 in New York on March 1 is already March 2 in UTC
  const dir = t.testdir()
  const log = new AccessLog({ dir, clock: fakeClock('2026-03-01T23:30:00-05:00') })
  log.write({ n: 1 })
  await log.close()
  t.same(await readdir(dir), [accessLogName('2026-03-02')])
})

t.test('[HTTP-5] a restarted server appends to the day file instead of truncating it', async (t) => {
  const dir = t.testdir()
  const clock = fakeClock('2026-03-01T10:00:00Z')
  await writeFile(join(dir, accessLogName('2026-03-01')), JSON.stringify({ n: 0 }) + '\n')
  const log = new AccessLog({ dir, clock })
  log.write({ n: 1 })
  await log.close()
  t.same((await lines(join(dir, accessLogName('2026-03-01')))).map((l) => l.n), [0, 1])
})

t.test('[HTTP-5] the log directory is created; writes after close are dropped, not thrown', async (t) => {
  const dir = join(t.testdir(), 'logs', 'http')
  const log = new AccessLog({ dir, clock: fakeClock('2026-03-01T10:00:00Z') })
  log.write({ n: 1 })
  await log.close()
  t.doesNotThrow(() => log.write({ n: 2 }))
  await log.close()
  t.same((await lines(join(dir, accessLogName('2026-03-01')))).map((l) => l.n), [1])
})

t.test('[HTTP-5] a log that cannot be written is reported once and never throws into the shim', async (t) => {
  const dir = t.testdir()
  const clock = fakeClock('2026-03-01T10:00:00Z')
  const errors: object[] = []
  const log = new AccessLog({ dir, clock, log: { error: (obj) => void errors.push(obj) } })
  // a directory where the day file should be: every open fails with EISDIR
  const { mkdir } = await import('node:fs/promises')
  await mkdir(join(dir, accessLogName('2026-03-01')))
  for (let i = 0; i < 5; i++) {
    t.doesNotThrow(() => log.write({ n: i }))
    await new Promise((r) => setTimeout(r, 10))
  }
  await log.close()
  t.equal(errors.length, 1)
})
