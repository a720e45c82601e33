import t, { type Test } from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { open } from 'lmdb'
import { Packr } from 'msgpackr'
import { isFlrError } from '../../lib/errors.js'
import { openLeaseStore, STORE_FILE } from '../../lib/store/lease-store.js'
import { leaseRecord } from './fixtures.js'

const HOST = 'Lnx-7Q2M-K4DA-ZP9W-3HXE'

/** A real store with some leases, closed: what a stopped daemon leaves behind. */
async function storeWithLeases(t: Test, hostId = HOST, count = 300): Promise<{ stateDir: string; file: string }> {
  const stateDir = t.testdir()
  const store = await openLeaseStore({ stateDir, hostId })
  await Promise.all(Array.from({ length: count }, (_, i) => store.put(leaseRecord(i))))
  await store.close()
  return { stateDir, file: path.join(stateDir, STORE_FILE) }
}

// [LEASE-9] refused, with a message naming the problem and what to do, and never wiped:
// the data file is byte-identical afterwards and nothing was deleted.
async function assertRefused(
  t: Test,
  stateDir: string,
  hostId: string,
  code: 'STORE_DAMAGED' | 'STORE_WRONG_HOST',
  reason: RegExp,
): Promise<void> {
  const file = path.join(stateDir, STORE_FILE)
  const bytes = fs.readFileSync(file)
  const names = fs.readdirSync(stateDir).filter((n) => n !== `${STORE_FILE}-lock`)
  const error = await openLeaseStore({ stateDir, hostId }).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(isFlrError(error, code), `refused with ${code}`, { found: error })
  if (!isFlrError(error)) return
  t.match(error.message, reason, 'the message says what is wrong')
  if (code === 'STORE_DAMAGED') {
    t.match(error.message, file, 'the message names the file')
    t.match(error.message, `mv ${file} ${file}.damaged`, 'and says to move it aside')
    t.match(error.message, /from a backup/, 'or to restore a backup')
  }
  if (code === 'STORE_WRONG_HOST') t.match(error.message, stateDir, 'the message names the state directory')
  t.match(error.message, /never wipes/, 'and that flr does not wipe it')
  t.ok(fs.readFileSync(file).equals(bytes), 'the data file is byte-identical')
  t.same(fs.readdirSync(stateDir).filter((n) => n !== `${STORE_FILE}-lock`), names, 'no file was added or removed')
}

t.test('[LEASE-9] a store from another host is refused with STORE_WRONG_HOST naming both ids', async (t) => {
  const { stateDir } = await storeWithLeases(t, 'Lnx-OLD1-HOST-0000-AAAA')
  await assertRefused(t, stateDir, HOST, 'STORE_WRONG_HOST', /Lnx-OLD1-HOST-0000-AAAA/)
  const message = await openLeaseStore({ stateDir, hostId: HOST }).then(
    () => '',
    (e: Error) => e.message,
  )
  t.match(message, HOST, 'names this host too')
  t.match(message, '--host-id Lnx-OLD1-HOST-0000-AAAA', 'says how to start as the stored host')
  t.match(message, /fresh --state-dir/, 'or to use a fresh state directory')
  const back = await openLeaseStore({ stateDir, hostId: 'Lnx-OLD1-HOST-0000-AAAA' })
  t.equal(back.load().length, 300, 'the right host still finds every lease')
  await back.close()
})

t.test('[LEASE-9] a truncated store file is STORE_DAMAGED (LMDB would crash reading it)', async (t) => {
  const { stateDir, file } = await storeWithLeases(t)
  fs.truncateSync(file, 8192)
  await assertRefused(t, stateDir, HOST, 'STORE_DAMAGED', /crashed LMDB|cannot read/)
})

t.test('[LEASE-9] a store file missing its last page is STORE_DAMAGED', async (t) => {
  const { stateDir, file } = await storeWithLeases(t)
  fs.truncateSync(file, fs.statSync(file).size - 4096)
  await assertRefused(t, stateDir, HOST, 'STORE_DAMAGED', /bytes long, its own index needs/)
})

t.test('[LEASE-9] an empty store file is STORE_DAMAGED, not a new store', async (t) => {
  const { stateDir, file } = await storeWithLeases(t)
  fs.truncateSync(file, 0)
  await assertRefused(t, stateDir, HOST, 'STORE_DAMAGED', /the file is empty/)
})

t.test('[LEASE-9] overwritten header pages are STORE_DAMAGED', async (t) => {
  const { stateDir, file } = await storeWithLeases(t)
  overwrite(file, 0, Buffer.alloc(8192, 0xab))
  await assertRefused(t, stateDir, HOST, 'STORE_DAMAGED', /crashed LMDB|cannot/)
})

t.test('[LEASE-9] a lease record that does not decode is STORE_DAMAGED naming the lease', async (t) => {
  const { stateDir, file } = await storeWithLeases(t)
  const victim = leaseRecord(123)
  const tuple = new Packr({ useRecords: false }).pack([victim.pack, victim.holder, victim.client, victim.address, victim.grantedAt])
  const bytes = fs.readFileSync(file)
  let hits = 0
  // every copy (LMDB keeps older page versions around): 0x95 (array of 5) becomes 0x93
  for (let at = bytes.indexOf(tuple); at >= 0; at = bytes.indexOf(tuple, at + 1)) {
    overwrite(file, at, Buffer.from([0x93]))
    hits++
  }
  t.ok(hits > 0, 'found the record in the file')
  await assertRefused(t, stateDir, HOST, 'STORE_DAMAGED', new RegExp(`lease ${victim.lease} is not`))
})

t.test('[LEASE-9] a garbage meta entry is STORE_DAMAGED', async (t) => {
  const { stateDir, file } = await storeWithLeases(t)
  await rewriteMeta(file, Buffer.from('{"format": 1, "hostId'))
  await assertRefused(t, stateDir, HOST, 'STORE_DAMAGED', /meta entry is not JSON/)
})

t.test('[LEASE-9] an unknown format version is STORE_DAMAGED', async (t) => {
  const { stateDir, file } = await storeWithLeases(t)
  await rewriteMeta(file, Buffer.from(JSON.stringify({ format: 2, hostId: HOST, createdAt: new Date().toISOString() })))
  await assertRefused(t, stateDir, HOST, 'STORE_DAMAGED', /format version 2.*newer flr/)
})

t.test('[LEASE-9] a missing meta entry while leases exist is STORE_DAMAGED', async (t) => {
  const { stateDir, file } = await storeWithLeases(t)
  await rewriteMeta(file, undefined)
  await assertRefused(t, stateDir, HOST, 'STORE_DAMAGED', /meta entry is missing but it holds leases/)
})

t.test('[LEASE-9] a first start that stopped before writing the meta entry is completed, not refused', async (t) => {
  const stateDir = t.testdir()
  const file = path.join(stateDir, STORE_FILE)
  const env = open({ path: file, noSubdir: true, maxDbs: 4 })
  env.openDB({ name: 'leases', encoding: 'binary' })
  await env.close()
  const store = await openLeaseStore({ stateDir, hostId: HOST })
  t.same(store.load(), [])
  await store.put(leaseRecord(1))
  await store.close()
  const again = await openLeaseStore({ stateDir, hostId: HOST })
  t.equal(again.load().length, 1, 'and it works as a store from then on')
  await again.close()
})

function overwrite(file: string, position: number, bytes: Buffer): void {
  const fd = fs.openSync(file, 'r+')
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, position)
  } finally {
    fs.closeSync(fd)
  }
}

/** Replaces (or with undefined, removes) the meta entry with LMDB directly. */
async function rewriteMeta(file: string, value: Buffer | undefined): Promise<void> {
  const env = open({ path: file, noSubdir: true, maxDbs: 4, overlappingSync: false })
  const meta = env.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' })
  await (value === undefined ? meta.remove('store') : meta.put('store', value))
  await env.close()
}
