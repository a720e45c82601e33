// The contract every lease store keeps, as one suite each implementation runs (aedes's
// abstract-persistence tests, mqemitter's abstract tests): the engine's interface
// (lib/engine/types.ts LeaseStore: put, remove) plus what a start needs of it (load, and
// for a store on disk: restart and host binding, [LEASE-7] [LEASE-8] [LEASE-9]).
//
// An implementation describes itself with a StoreImplementation: where it keeps leases (a
// place: a state directory; for a PostgreSQL store, a fresh schema), how it opens there for
// a host, and what it claims (keeps, restarts, hostBound, manualDurability, readElsewhere).
// The suite runs every test whose claims hold. contract.test.ts runs it against the LMDB store,
// the stores that keep nothing or acknowledge on command, and the PostgreSQL store (a fresh
// database per test, `readElsewhere` reading through a connection of its own). Write failures
// (a full disk, a database that went away) are store-specific: test/store/store-fault.test.ts
// and test/store/pg-store-fault.test.ts.
import type { Test } from 'tap'
import type { LeaseRecord, LeaseStore } from '../../lib/engine/types.js'
import { leaseRecord } from './fixtures.js'

/** A store opened by an implementation, with what the suite needs to look at it. */
export interface OpenedStore {
  readonly store: LeaseStore
  /** [LEASE-8] what a start would restore now; [] for a store that keeps nothing */
  load(): LeaseRecord[] | Promise<LeaseRecord[]>
  /** makes every write issued so far durable; nothing for a store that says so itself */
  settle(): void
  close(): Promise<void>
}

export interface StoreImplementation<Place = unknown> {
  readonly name: string
  /** false: a store that keeps nothing (tools and engine tests), which must still answer every write */
  readonly keeps: boolean
  /** a reopen of the same place finds what was acknowledged ([LEASE-8]) */
  readonly restarts: boolean
  /** a place is bound to the host that created it, and refused to any other ([LEASE-9]) */
  readonly hostBound: boolean
  /** writes are acknowledged only once settle() has made them durable (the engine's test store) */
  readonly manualDurability: boolean
  /** a fresh, empty place to keep leases in */
  place(t: Test): Place | Promise<Place>
  open(place: Place, hostId: string): Promise<OpenedStore>
  /** [LEASE-7] the lease ids an independent reader (another process, another connection) finds there */
  readElsewhere?(place: Place): Promise<string[]>
}

const HOST = 'Lnx-7Q2M-K4DA-ZP9W-3HXE'
const OTHER_HOST = 'Lnx-AAAA-BBBB-CCCC-DDDD'

const byLease = (a: LeaseRecord, b: LeaseRecord): number => (a.lease < b.lease ? -1 : a.lease > b.lease ? 1 : 0)

async function loaded(opened: OpenedStore): Promise<LeaseRecord[]> {
  return [...(await opened.load())].sort(byLease)
}

/** Writes issued, made durable, then awaited: how the suite waits on any store. */
function acknowledged<T>(opened: OpenedStore, writes: Promise<T>[]): Promise<T[]> {
  opened.settle()
  return Promise.all(writes)
}

/** Runs every test of the contract that `impl` claims, as subtests of `t`. */
export function storeContract<Place>(t: Test, impl: StoreImplementation<Place>): void {
  const open = async (t: Test, place?: Place, hostId = HOST): Promise<{ opened: OpenedStore; place: Place }> => {
    const where = place ?? (await impl.place(t))
    const opened = await impl.open(where, hostId)
    t.teardown(() => opened.close())
    return { opened, place: where }
  }
  const test = (name: string, fn: (t: Test) => Promise<void>): void => void t.test(`${impl.name}: ${name}`, fn)

  test('[LEASE-7] put and remove answer with a promise of nothing; removing an unknown lease is no fault', async (t) => {
    const { opened } = await open(t)
    const answers = await acknowledged(opened, [opened.store.put(leaseRecord(1)), opened.store.remove(leaseRecord(1).lease), opened.store.remove('never-granted')])
    t.same(answers, [undefined, undefined, undefined])
  })

  if (!impl.keeps) {
    test('[LEASE-8] a store that keeps nothing restores nothing', async (t) => {
      const { opened } = await open(t)
      await acknowledged(opened, [opened.store.put(leaseRecord(1))])
      t.same(await loaded(opened), [])
    })
    return
  }

  test('[LEASE-8] load gives back exactly the acknowledged records, every field, any text', async (t) => {
    const { opened } = await open(t)
    t.same(await loaded(opened), [], 'a new store holds no lease')
    const records = [
      leaseRecord(1),
      leaseRecord(2, { holder: 'ünïcødé holder ✓', client: '😀'.repeat(128), address: '::1' }),
      leaseRecord(3, { pack: 'p'.repeat(64), holder: '\u{10ffff}', grantedAt: 2 ** 53 - 1 }),
    ]
    await acknowledged(opened, records.map((r) => opened.store.put(r)))
    t.same(await loaded(opened), records)
  })

  test('[LEASE-7] a record is stored as it was at the call, its own fields only', async (t) => {
    const { opened } = await open(t)
    const record = leaseRecord(4)
    // what the engine passes is a live lease: more fields, and some change later
    const live = { ...record, expiresAt: 1, owner: { connection: 1 } }
    const writing = opened.store.put(live)
    live.holder = 'changed after the call'
    await acknowledged(opened, [writing])
    t.same(await loaded(opened), [record])
    t.same(Object.keys((await loaded(opened))[0]!).sort(), ['address', 'client', 'grantedAt', 'holder', 'lease', 'pack'])
  })

  test('[LEASE-8] writes apply in call order, within one turn and across turns', async (t) => {
    const { opened } = await open(t)
    const { store } = opened
    await acknowledged(opened, [store.put(leaseRecord(1))])
    // one turn: a put then a remove of one lease; a release then a grant that reuses the seat
    await acknowledged(opened, [store.put(leaseRecord(2)), store.remove(leaseRecord(2).lease), store.remove(leaseRecord(1).lease), store.put(leaseRecord(3))])
    await acknowledged(opened, [store.put(leaseRecord(4))])
    await acknowledged(opened, [store.remove(leaseRecord(4).lease)])
    await acknowledged(opened, [store.put(leaseRecord(4, { holder: 'second grant' }))])
    t.same((await loaded(opened)).map((r) => [r.lease, r.holder]), [[leaseRecord(3).lease, leaseRecord(3).holder], [leaseRecord(4).lease, 'second grant']])
  })

  test('[LEASE-7] 500 concurrent puts are all acknowledged and all kept; removing them all empties the store', async (t) => {
    const { opened } = await open(t)
    const records = Array.from({ length: 500 }, (_, i) => leaseRecord(i))
    await acknowledged(opened, records.map((r) => opened.store.put(r)))
    t.same(await loaded(opened), records.sort(byLease))
    await acknowledged(opened, records.map((r) => opened.store.remove(r.lease)))
    t.same(await loaded(opened), [])
  })

  if (impl.manualDurability) {
    test('[LEASE-7] a write is acknowledged only once it is durable', async (t) => {
      const { opened } = await open(t)
      let answered = false
      const writing = opened.store.put(leaseRecord(5)).then(() => (answered = true))
      await new Promise((resolve) => setImmediate(resolve))
      t.equal(answered, false, 'not before settle')
      opened.settle()
      await writing
      t.equal(answered, true, 'once settled')
    })
  }

  const readElsewhere = impl.readElsewhere?.bind(impl)
  if (readElsewhere) {
    test('[LEASE-7] what is acknowledged is what an independent reader finds', async (t) => {
      const { opened, place } = await open(t)
      const [a, b] = [leaseRecord(6), leaseRecord(7)]
      await acknowledged(opened, [opened.store.put(a), opened.store.put(b)])
      t.same((await readElsewhere(place)).sort(), [a.lease, b.lease], 'acknowledged puts are there for another reader')
      await acknowledged(opened, [opened.store.remove(a.lease)])
      t.same(await readElsewhere(place), [b.lease], 'an acknowledged remove is gone for it')
    })
  }

  if (impl.restarts) {
    test('[LEASE-8] a reopen of the same place restores what was acknowledged, and takes writes again', async (t) => {
      const first = await open(t)
      const records = [leaseRecord(8), leaseRecord(9, { holder: 'ünïcødé' })]
      await acknowledged(first.opened, [...records.map((r) => first.opened.store.put(r)), first.opened.store.remove('never-granted')])
      await first.opened.close()
      const again = await open(t, first.place)
      t.same(await loaded(again.opened), records)
      await acknowledged(again.opened, [again.opened.store.remove(records[0]!.lease), again.opened.store.put(leaseRecord(10))])
      await again.opened.close()
      const third = await open(t, first.place)
      t.same(await loaded(third.opened), [records[1]!, leaseRecord(10)])
    })
  }

  if (impl.hostBound) {
    test('[LEASE-9] a place is bound to its host: another host is refused STORE_WRONG_HOST, and nothing is lost', async (t) => {
      const first = await open(t)
      await acknowledged(first.opened, [first.opened.store.put(leaseRecord(11))])
      await first.opened.close()
      await t.rejects(impl.open(first.place, OTHER_HOST), { code: 'STORE_WRONG_HOST' })
      const again = await open(t, first.place)
      t.same(await loaded(again.opened), [leaseRecord(11)], 'the right host still finds its leases')
    })
  }
}
