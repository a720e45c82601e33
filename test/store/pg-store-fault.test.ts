// [LEASE-10] The PostgreSQL store when its database goes away and comes back: writes
// refused STORE_UNAVAILABLE (where and why, never the password), found out by the store
// itself, and resumed by itself with nothing acknowledged lost. A real server, really stopped.
import t from 'tap'
import { openPgLeaseStore, type PgLeaseStore } from '../../lib/store/pg-lease-store.js'
import type { StoreFault } from '../../lib/store/store-fault.js'
import { startPostgres } from '../helpers/postgres.js'
import { leaseRecord } from './fixtures.js'
import { leaseIdsIn } from './pg-fixtures.js'

const HOST = 'Lnx-7Q2M-K4DA-ZP9W-3HXE'

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function observed(store: PgLeaseStore): { faults: StoreFault[]; recoveries: StoreFault[] } {
  const seen = { faults: [] as StoreFault[], recoveries: [] as StoreFault[] }
  store.observe({ fault: (f) => seen.faults.push(f), recovered: (f) => seen.recoveries.push(f) })
  return seen
}

t.test('[LEASE-10] [HA-1] database stopped: STORE_UNAVAILABLE naming host:port/db and the cause; started again: writes resume, nothing lost', async (t) => {
  const server = await startPostgres(t)
  const url = await server.database('flr')
  const store = await openPgLeaseStore({ url, hostId: HOST, probeIntervalMs: 200 })
  t.teardown(() => store.close())
  const seen = observed(store)
  await Promise.all([1, 2, 3].map((i) => store.put(leaseRecord(i))))

  await server.stop()
  const where = `127.0.0.1:${server.port}/flr`
  const refusal = await store.put(leaseRecord(4)).then(
    () => undefined,
    (e: unknown) => e as Error & { code?: string },
  )
  t.match(refusal, { code: 'STORE_UNAVAILABLE', message: new RegExp(`the database ${where.replace(/\./g, '\\.')} cannot be reached \\(.+\\)`) })
  t.notMatch(refusal!.message, server.password, 'no password in the refusal')
  await until('the store to know it cannot write', () => store.unavailable() !== undefined)
  t.match(store.unavailable(), { code: 'STORE_UNAVAILABLE' }, 'the engine is told before it takes or frees a seat')
  t.equal(store.healthy(), false)
  t.equal(seen.faults.length, 1, 'told once')
  t.equal(seen.faults[0]!.kind, 'unreachable')
  // a release (or an expiry) refused now is owed: committed first once the database is back,
  // with the end it records in the history ([OBS-2])
  await t.rejects(store.remove(leaseRecord(1).lease, { how: 'expired', at: 1_800_000_000_000, record: leaseRecord(1) }), { code: 'STORE_UNAVAILABLE' })
  await t.rejects(store.put(leaseRecord(5)), { code: 'STORE_UNAVAILABLE' })

  await server.start()
  await until('the store to write again', () => seen.recoveries.length > 0)
  t.equal(store.unavailable(), undefined)
  t.equal(store.healthy(), true)
  await store.put(leaseRecord(6))
  t.same(await leaseIdsIn(url), [2, 3, 6].map((i) => leaseRecord(i).lease), 'the acknowledged leases are there, the owed removal done, nothing refused was written')
  t.same((await store.load()).map((r) => r.lease).sort(), [2, 3, 6].map((i) => leaseRecord(i).lease))
  t.match(
    (await store.history.events(0, Number.MAX_SAFE_INTEGER)).filter((e) => e.kind === 'end'),
    [{ kind: 'end', at: 1_800_000_000_000, lease: leaseRecord(1).lease, how: 'expired' }],
    'the owed end is in the history',
  )
})

t.test('[LEASE-10] the store finds out by itself that the database went away, without a write', async (t) => {
  const server = await startPostgres(t)
  const url = await server.database('flr')
  const store = await openPgLeaseStore({ url, hostId: HOST, probeIntervalMs: 200 })
  t.teardown(() => store.close())
  const seen = observed(store)
  await store.put(leaseRecord(1)) // the writing connection is open
  await server.stop()
  await until('a fault without any write', () => seen.faults.length > 0)
  t.match(store.unavailable(), { code: 'STORE_UNAVAILABLE' })
  await server.start()
  await until('recovery without any write', () => seen.recoveries.length > 0)
  await store.remove(leaseRecord(1).lease)
  t.same(await leaseIdsIn(url), [])
})

t.test('[HA-1] [LEASE-10] open against a database that is not there: STORE_UNAVAILABLE, where and why, no password', async (t) => {
  const server = await startPostgres(t)
  const url = await server.database('flr')
  await server.stop()
  const error = await openPgLeaseStore({ url, hostId: HOST, timeoutMs: 2_000 }).then(
    () => undefined,
    (e: unknown) => e as Error & { code?: string },
  )
  t.match(error, { code: 'STORE_UNAVAILABLE', message: new RegExp(`127\\.0\\.0\\.1:${server.port}/flr`) })
  t.notMatch(error!.message, server.password)
  t.notMatch(JSON.stringify(error), server.password, 'nor in any field of the error')
  await server.start()
  const wrong = new URL(url)
  wrong.password = 'not-the-password-' + server.password.slice(3)
  const refused = await openPgLeaseStore({ url: wrong.toString(), hostId: HOST }).then(
    () => undefined,
    (e: unknown) => e as Error,
  )
  t.match(refused, { code: 'STORE_UNAVAILABLE', message: /password authentication failed/ })
  t.notMatch(refused!.message, wrong.password, 'the wrong password is not echoed either')
})
