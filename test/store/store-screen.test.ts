// [LEASE-9] `flr serve` screens the store file (empty? readable by LMDB without crashing?)
// while it loads its modules, before it holds the state lock. That early screen may only
// stand for the very file it read: one written, replaced or created since is screened again.
import t, { type Test } from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { isFlrError } from '../../lib/errors.js'
import { openLeaseStore, STORE_FILE } from '../../lib/store/lease-store.js'
import { screenStore } from '../../lib/store/store-screen.js'
import { leaseRecord } from './fixtures.js'

const HOST = 'Lnx-7Q2M-K4DA-ZP9W-3HXE'

async function storeWithLeases(t: Test, count = 200): Promise<{ stateDir: string; file: string }> {
  const stateDir = t.testdir()
  const store = await openLeaseStore({ stateDir, hostId: HOST })
  await Promise.all(Array.from({ length: count }, (_, i) => store.put(leaseRecord(i))))
  await store.close()
  return { stateDir, file: path.join(stateDir, STORE_FILE) }
}

function refusal(opening: Promise<unknown>): Promise<unknown> {
  return opening.then(
    () => undefined,
    (e: unknown) => e,
  )
}

t.test('[LEASE-8] a screen made ahead of an unchanged store stands: the store opens with every lease', async (t) => {
  const { stateDir } = await storeWithLeases(t)
  const screened = screenStore(stateDir)
  t.equal((await screened).error, undefined, 'the screen passed')
  const store = await openLeaseStore({ stateDir, hostId: HOST, screened })
  t.equal(store.load().length, 200, 'every lease is back')
  await store.close()
})

t.test('[LEASE-9] a damaged store: the early screen resolves with STORE_DAMAGED (never rejects), and the open throws it, file untouched', async (t) => {
  const { stateDir, file } = await storeWithLeases(t)
  fs.truncateSync(file, 8192)
  const bytes = fs.readFileSync(file)
  const screened = screenStore(stateDir)
  const early = await screened
  t.ok(isFlrError(early.error, 'STORE_DAMAGED'), 'the screen holds the refusal', { found: early.error })
  const error = await refusal(openLeaseStore({ stateDir, hostId: HOST, screened }))
  t.equal(error, early.error, 'the open refuses with that same error')
  t.match((error as Error).message, /crashed LMDB|cannot read/, 'which says what is wrong')
  t.ok(fs.readFileSync(file).equals(bytes), 'the data file is byte-identical')
})

t.test('[LEASE-9] a screen made before the store was damaged does not stand: it is screened again and refused', async (t) => {
  const { stateDir, file } = await storeWithLeases(t)
  const screened = screenStore(stateDir)
  t.equal((await screened).error, undefined, 'the early screen passed')
  fs.truncateSync(file, 8192)
  const error = await refusal(openLeaseStore({ stateDir, hostId: HOST, screened }))
  t.ok(isFlrError(error, 'STORE_DAMAGED'), 'STORE_DAMAGED', { found: error })
  t.match((error as Error).message, /crashed LMDB|cannot read/, 'from reading the file as it is now')
})

t.test('[LEASE-9] a screen made before the store file appeared does not stand: an empty file is refused, not made a store', async (t) => {
  const stateDir = t.testdir()
  const screened = screenStore(stateDir)
  t.same(await screened, { file: path.join(stateDir, STORE_FILE), identity: null }, 'the early screen found no file')
  fs.writeFileSync(path.join(stateDir, STORE_FILE), '')
  const error = await refusal(openLeaseStore({ stateDir, hostId: HOST, screened }))
  t.ok(isFlrError(error, 'STORE_DAMAGED'), 'STORE_DAMAGED', { found: error })
  t.match((error as Error).message, /the file is empty/, 'because the file is empty')
  t.equal(fs.statSync(path.join(stateDir, STORE_FILE)).size, 0, 'and it is still empty')
})

t.test('[LEASE-9] a screen of another state directory does not stand for this one', async (t) => {
  const { stateDir } = await storeWithLeases(t)
  const other = path.join(stateDir, 'elsewhere')
  const screened = screenStore(other)
  t.equal((await screened).identity, null, 'the other directory has no store')
  const store = await openLeaseStore({ stateDir, hostId: HOST, screened })
  t.equal(store.load().length, 200, 'this store is screened and opened on its own')
  await store.close()
})
