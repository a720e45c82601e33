import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { openLeaseStore, STORE_FILE } from '../../lib/store/lease-store.js'
import { leaseRecord, readFromOtherProcess } from './fixtures.js'

const HOST = 'Lnx-7Q2M-K4DA-ZP9W-3HXE'

t.test('[LEASE-8] put, remove and load round trip, across a reopen', async (t) => {
  const stateDir = t.testdir()
  const store = await openLeaseStore({ stateDir, hostId: HOST })
  t.same(store.load(), [], 'a new store holds no lease')
  const [a, b, c] = [leaseRecord(1), leaseRecord(2), leaseRecord(3, { holder: 'ünïcødé holder ✓', address: '::1' })]
  await Promise.all([store.put(a), store.put(b), store.put(c)])
  await store.remove(b.lease)
  await store.remove('never-granted')
  const byLease = (x: { lease: string }, y: { lease: string }) => x.lease.localeCompare(y.lease)
  t.same(store.load().sort(byLease), [a, c], 'load gives back exactly what is stored')
  t.equal(store.count(), 2)
  await store.close()

  const again = await openLeaseStore({ stateDir, hostId: HOST })
  t.same(again.load().sort(byLease), [a, c], 'the same records after a reopen')
  await again.close()
  t.ok(fs.existsSync(path.join(stateDir, STORE_FILE)), `the store lives in <state-dir>/${STORE_FILE}`)
})

t.test('[LEASE-8] load reflects writes made after open', async (t) => {
  const stateDir = t.testdir()
  await (await openLeaseStore({ stateDir, hostId: HOST })).close()
  const store = await openLeaseStore({ stateDir, hostId: HOST })
  await store.put(leaseRecord(7))
  t.same(store.load(), [leaseRecord(7)])
  t.same(store.load(), [leaseRecord(7)], 'a second load reads the file again')
  await store.close()
})

t.test('[LEASE-8] writes land in call order: a remove issued before a put is never lost while the put survives', async (t) => {
  const stateDir = t.testdir()
  const store = await openLeaseStore({ stateDir, hostId: HOST })
  await store.put(leaseRecord(1))
  // same turn: put then remove of one lease, and a release then a grant reusing the seat
  const writes = [store.put(leaseRecord(2)), store.remove(leaseRecord(2).lease), store.remove(leaseRecord(1).lease), store.put(leaseRecord(3))]
  // across turns: each awaited before the next is issued
  await Promise.all(writes)
  await store.put(leaseRecord(4))
  await store.remove(leaseRecord(4).lease)
  await store.put(leaseRecord(4, { holder: 'second grant' }))
  await store.close()

  const again = await openLeaseStore({ stateDir, hostId: HOST })
  t.same(
    again.load().map((r) => [r.lease, r.holder]),
    [[leaseRecord(3).lease, leaseRecord(3).holder], [leaseRecord(4).lease, 'second grant']],
  )
  await again.close()
})

t.test('[LEASE-7] an acknowledged put is in the file for another process; concurrent puts share one commit', async (t) => {
  const stateDir = t.testdir()
  const store = await openLeaseStore({ stateDir, hostId: HOST })
  const file = path.join(stateDir, STORE_FILE)
  const before = await readFromOtherProcess(file)

  const records = Array.from({ length: 256 }, (_, i) => leaseRecord(i))
  const resolvedAt: number[] = []
  let turn = 0
  const ticker = setInterval(() => turn++, 0)
  await Promise.all(records.map((r) => store.put(r).then(() => resolvedAt.push(turn))))
  clearInterval(ticker)
  const after = await readFromOtherProcess(file)

  t.same(after.leases.sort(), records.map((r) => r.lease).sort(), 'every acknowledged lease is in the file')
  t.equal(after.lastTxnId - before.lastTxnId, 1, '256 concurrent puts were one transaction, so one fsync (group commit)')
  t.equal(new Set(resolvedAt).size, 1, 'and they were all acknowledged together')
  await store.close()
})

t.test('[SRV-8] close waits for writes still in flight', async (t) => {
  const stateDir = t.testdir()
  const store = await openLeaseStore({ stateDir, hostId: HOST })
  const pending = [store.put(leaseRecord(1)), store.put(leaseRecord(2)), store.remove(leaseRecord(1).lease)]
  await store.close()
  await Promise.all(pending)
  t.same((await readFromOtherProcess(path.join(stateDir, STORE_FILE))).leases, [leaseRecord(2).lease])
  await t.rejects(store.put(leaseRecord(3)), /closed/, 'a write after close is refused, not lost silently')
  await t.resolves(store.close(), 'closing twice is harmless')
})

t.test('[LEASE-8] a record that would not load again is refused, so it cannot make the next start fail', async (t) => {
  const stateDir = t.testdir()
  const store = await openLeaseStore({ stateDir, hostId: HOST })
  await t.rejects(store.put(leaseRecord(1, { grantedAt: NaN })), /not storing lease .* wrong type/)
  await t.rejects(store.put(leaseRecord(1, { lease: '' })), /no lease id/)
  t.equal(store.count(), 0)
  t.equal(store.healthy(), true, 'a refused record says nothing about the store')
  await store.close()
})

t.test('[HTTP-1] healthy() is true while the store answers, false once closed', async (t) => {
  const stateDir = t.testdir()
  const store = await openLeaseStore({ stateDir, hostId: HOST })
  t.equal(store.healthy(), true)
  await store.put(leaseRecord(1))
  t.equal(store.healthy(), true)
  await store.close()
  t.equal(store.healthy(), false)
})

t.test('[LEASE-9] the store records format, host id and creation time', async (t) => {
  const stateDir = t.testdir()
  const { open } = await import('lmdb')
  await (await openLeaseStore({ stateDir, hostId: HOST })).close()
  const env = open({ path: path.join(stateDir, STORE_FILE), noSubdir: true, readOnly: true, maxDbs: 4 })
  const meta = JSON.parse(env.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' }).getBinary('store')!.toString())
  await env.close()
  t.match(meta, { format: 1, hostId: HOST, createdAt: /^\d{4}-\d\d-\d\dT/ })
})

// lmdb-js starts with a 128 KiB map and grows it by mapping the file again at twice the
// size, leaving the smaller maps resident: 100,000 leases (a 25 MB file) used to cost
// 66 MB of RSS in 9 maps. The store opens with a map large enough for any real store.
t.test('[LEASE-8] a growing store stays in one memory map', { skip: process.platform !== 'linux' && 'reads /proc/self/maps' }, async (t) => {
  const stateDir = t.testdir()
  const store = await openLeaseStore({ stateDir, hostId: HOST })
  for (let batch = 0; batch < 10; batch++) {
    await Promise.all(Array.from({ length: 2_000 }, (_, i) => store.put(leaseRecord(batch * 2_000 + i, { holder: `holder ${'x'.repeat(80)} ${i}` }))))
  }
  const file = path.join(stateDir, STORE_FILE)
  t.ok(fs.statSync(file).size > 2 * 2 ** 20, 'the file grew past several doublings of a 128 KiB map')
  const maps = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((line) => line.endsWith(file))
  t.equal(maps.length, 1, 'one map of the store file')
  await store.close()
})
