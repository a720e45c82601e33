// [LEASE-10] The LMDB store on a file system that fills up, goes read-only or fails with I/O
// errors: every failed write is refused with STORE_UNAVAILABLE naming the cause and the
// place, no rejection is left unhandled, and the store writes again by itself once it can,
// with nothing acknowledged lost.
import t from 'tap'
import { isFlrError } from '../../lib/errors.js'
import { openLeaseStore, type LmdbLeaseStore, type StoreFault } from '../../lib/store/lease-store.js'
import { fillUp, mountExt4, mountTmpfs, removeFiller } from '../helpers/small-fs.js'
import { eventually } from '../helpers/crash.js'
import { leaseRecord } from './fixtures.js'

const HOST = 'Lnx-7Q2M-K4DA-ZP9W-3HXE'

// Any unhandled rejection fails the file: lmdb-js leaves some behind on a failed commit
// unless the store handles them (kriszyp/lmdb-js#368).
const unhandled: unknown[] = []
process.on('unhandledRejection', (e) => void unhandled.push(e))

function watch(store: LmdbLeaseStore): { faults: StoreFault[]; recoveries: StoreFault[] } {
  const seen = { faults: [] as StoreFault[], recoveries: [] as StoreFault[] }
  store.observe({ fault: (f) => seen.faults.push(f), recovered: (f) => seen.recoveries.push(f) })
  return seen
}

/** Puts leases 50 at a time until one is refused; returns the acknowledged ones and the refusal. */
async function putUntilRefused(store: LmdbLeaseStore, from: number): Promise<{ acked: string[]; refusal: unknown }> {
  const acked: string[] = []
  for (let i = from; i < from + 200_000; i += 50) {
    const batch = Array.from({ length: 50 }, (_, k) => leaseRecord(i + k, { holder: `holder-${i + k}-${'h'.repeat(60)}` }))
    const results = await Promise.allSettled(batch.map((r) => store.put(r)))
    results.forEach((r, k) => r.status === 'fulfilled' && acked.push(batch[k]!.lease))
    const refused = results.find((r) => r.status === 'rejected')
    if (refused) return { acked, refusal: (refused as PromiseRejectedResult).reason }
  }
  throw new Error('the file system never filled up')
}

t.test('[LEASE-10] a full file system: STORE_UNAVAILABLE naming it, no unhandled rejection, writes again once space is freed', async (t) => {
  const fsys = mountTmpfs(t, 4 * 1024 * 1024)
  if (!fsys) return
  const store = await openLeaseStore({ stateDir: fsys.dir, hostId: HOST })
  t.teardown(() => store.close())
  const seen = watch(store)
  await Promise.all([1, 2, 3].map((i) => store.put(leaseRecord(i))))
  const filler = fillUp(fsys.dir)

  const { acked, refusal } = await putUntilRefused(store, 100)
  t.ok(isFlrError(refusal, 'STORE_UNAVAILABLE'), `refused with STORE_UNAVAILABLE (${String(refusal)})`)
  t.match((refusal as Error).message, `the file system of ${fsys.dir} is full: free space there; flr resumes by itself`)
  t.equal(store.unavailable()?.message, (refusal as Error).message, 'the engine is told before it decides a seat')
  t.equal(store.healthy(), false, 'health sees it')
  t.equal(seen.faults.length, 1, 'the fault is told once')
  t.equal(seen.faults[0]!.kind, 'full')

  // while it cannot write: refused at once, and a removal nobody waits for is owed, not lost
  await t.rejects(store.put(leaseRecord(99_999)), { code: 'STORE_UNAVAILABLE' })
  await t.rejects(store.remove(leaseRecord(1).lease), { code: 'STORE_UNAVAILABLE' })
  t.equal(seen.faults.length, 1, 'still told once')

  removeFiller(filler)
  t.ok(await eventually(() => store.healthy(), 30_000), 'writes again by itself once space is freed')
  t.equal(seen.recoveries.length, 1, 'the recovery is told once')
  await store.put(leaseRecord(5))
  t.equal(seen.faults.length, 1, 'no second fault')

  await store.close()
  const again = await openLeaseStore({ stateDir: fsys.dir, hostId: HOST })
  const stored = new Set(again.load().map((r) => r.lease))
  await again.close()
  const missing = [leaseRecord(2).lease, leaseRecord(3).lease, leaseRecord(5).lease, ...acked].filter((l) => !stored.has(l))
  t.same(missing, [], `[LEASE-8] every acknowledged lease (${acked.length + 3}) is in the file`)
  t.notOk(stored.has(leaseRecord(1).lease), 'the removal owed while it could not write was made on recovery')
  t.same(unhandled, [], 'no unhandled rejection')
})

t.test('[LEASE-10] a file system the kernel makes read-only, then repaired: refused as read-only, writes again after the repair', async (t) => {
  const disk = mountExt4(t, 16 * 1024 * 1024)
  if (!disk) return
  const store = await openLeaseStore({ stateDir: disk.dir, hostId: HOST })
  t.teardown(() => store.close())
  const seen = watch(store)
  await store.put(leaseRecord(1))
  disk.breakIt('read-only')
  const refusal = await store.put(leaseRecord(2)).then(() => undefined, (e: unknown) => e)
  t.ok(isFlrError(refusal, 'STORE_UNAVAILABLE'), `refused with STORE_UNAVAILABLE (${String(refusal)})`)
  t.match((refusal as Error).message, `the file system of ${disk.dir} is read-only`)
  t.equal(seen.faults[0]?.kind, 'read-only')
  // the store lets go of the file, so that the admin can unmount and repair the file system
  t.ok(await eventually(() => tryRepair(disk), 30_000, 500), 'the file system can be unmounted and repaired while flr runs')
  t.ok(await eventually(() => store.healthy(), 30_000), 'writes again by itself after the repair')
  await store.put(leaseRecord(3))
  t.equal(seen.faults.length, 1)
  t.equal(seen.recoveries.length, 1)
  await store.close()
  const again = await openLeaseStore({ stateDir: disk.dir, hostId: HOST })
  t.same(again.load().map((r) => r.lease).sort(), [leaseRecord(1).lease, leaseRecord(3).lease], '[LEASE-8] acknowledged leases kept, refused one absent')
  await again.close()
  t.same(unhandled, [], 'no unhandled rejection')
})

t.test('[LEASE-10] I/O errors (a file system shut down), then repaired: refused as an I/O error, writes again after the repair', async (t) => {
  const disk = mountExt4(t, 16 * 1024 * 1024)
  if (!disk) return
  const store = await openLeaseStore({ stateDir: disk.dir, hostId: HOST })
  t.teardown(() => store.close())
  const seen = watch(store)
  await store.put(leaseRecord(1))
  disk.breakIt('io')
  const refusal = await store.put(leaseRecord(2)).then(() => undefined, (e: unknown) => e)
  t.ok(isFlrError(refusal, 'STORE_UNAVAILABLE'), `refused with STORE_UNAVAILABLE (${String(refusal)})`)
  t.match((refusal as Error).message, `the file system of ${disk.dir} reports an I/O error`)
  t.equal(seen.faults[0]?.kind, 'io')
  t.ok(await eventually(() => tryRepair(disk), 30_000, 500), 'the file system can be unmounted and repaired while flr runs')
  t.ok(await eventually(() => store.healthy(), 30_000), 'writes again by itself after the repair')
  await store.put(leaseRecord(3))
  await store.close()
  const again = await openLeaseStore({ stateDir: disk.dir, hostId: HOST })
  const stored = again.load().map((r) => r.lease)
  await again.close()
  t.ok(stored.includes(leaseRecord(3).lease), 'the grant after the repair is durable')
  t.ok(stored.includes(leaseRecord(1).lease), '[LEASE-8] the lease acknowledged before the failure is kept')
  t.same(unhandled, [], 'no unhandled rejection')
})

/** The admin's repair: true once the file system was unmounted, checked and mounted again. */
function tryRepair(disk: { repair(): void }): boolean {
  try {
    disk.repair()
    return true
  } catch {
    return false
  }
}
