// [SRV-2] + [SRV-4] end to end: a running daemon, clients holding leases (through the client
// library and raw requests), and a new LPF written slowly (half, a pause, the rest): every
// [SRV-4] case, the plan applied once, whole, never reported as a half-written file rejected.
// Then the other ways admins put a file in place, one after the other on the same daemon, each
// applied once. Settling and the re-check's timing are shown on the fake clock
// (test/server/license-keeper-reload.test.ts).
import t, { type Test } from 'tap'
import { lpfText, connectClient, type PackSpec } from '../helpers/server.js'
import { RawPeer, type Frame } from '../helpers/wire.js'
import { WRITERS, packOf, serveLpf, statusOf, until, type Writer } from '../helpers/reload.js'
import type { Lease } from '../../lib/client/client.js'

// written in canonical form (sorted attributes, no empty-element tags): the server hands out the
// signed, canonicalized text ([LPF-6]), so these compare byte for byte
const KEEP_V1 = '<licenses><license edition="v1" product="keep"></license></licenses>'
const KEEP_V2 = '<licenses><license edition="v2" product="keep" seats="many"></license></licenses>'

const BEFORE: PackSpec[] = [
  { name: 'keep', limit: 2, licenses: KEEP_V1 },
  { name: 'grow', limit: 1 },
  { name: 'shrink', limit: 3 },
  { name: 'gone', limit: 2 },
]
const AFTER: PackSpec[] = [
  { name: 'keep', limit: 2, licenses: KEEP_V2 },
  { name: 'grow', limit: 2 },
  { name: 'shrink', limit: 1 },
  { name: 'fresh', limit: 1 },
]

function events(lease: Lease): { licenses: string[]; revoked: string[]; lost: unknown[] } {
  const seen = { licenses: [] as string[], revoked: [] as string[], lost: [] as unknown[] }
  lease.on('licenses', (l: string) => seen.licenses.push(l))
  lease.on('revoked', (r: string) => seen.revoked.push(r))
  lease.on('lost', (e: unknown) => seen.lost.push(e))
  return seen
}

function errorCode(reply: Frame): unknown {
  return reply.ok === false ? (reply.error as { code: string }).code : `granted ${String(reply.lease)}`
}

async function everySrv4Case(t: Test, write: Writer): Promise<void> {
  // TTL 9 s: the library renews every 3 s, so a changed <licenses> arrives on a natural renew
  const server = await serveLpf(t, { packs: BEFORE }, { leaseTtlMs: 9_000 })
  const { port, daemon, captured } = server

  // leases through the client library
  const app = await connectClient(t, port, { client: 'app' })
  const keep = await app.lease('keep')
  const keepSeen = events(keep)
  const goneByLib = await app.lease('gone')
  const goneByLibSeen = events(goneByLib)
  const shrinkHolders = await Promise.all(['s1', 's2', 's3'].map((holder) => app.lease('shrink', { holder })))
  const shrinkSeen = shrinkHolders.map(events)

  // leases and a waiter through raw requests
  const raw = await RawPeer.hello(t, port, 'raw')
  const goneRaw = await raw.call('lease', { pack: 'gone' })
  const growHeld = await raw.call('lease', { pack: 'grow' })
  t.equal(goneRaw.ok, true, 'raw peer holds a seat of the pack about to go')
  t.equal(growHeld.ok, true, 'raw peer holds the one seat of grow')
  const waiter = await RawPeer.hello(t, port, 'waiter')
  const growWait = waiter.reply(waiter.send('lease', { pack: 'grow', wait: 60_000 }), 60_000)
  await until(() => packOf(daemon, 'grow')?.waiting === 1, 'the grow waiter to queue')
  t.equal(errorCode(await raw.call('lease', { pack: 'fresh' })), 'PACK_UNKNOWN', 'fresh is not served before the new file')
  const loadedBefore = statusOf(daemon).lpf?.loadedAt

  await write(server.path, lpfText({ port, packs: AFTER }))
  await until(() => packOf(daemon, 'fresh'), 'the new plan to be in force')

  t.test('[SRV-4] a pack that is new is served at once', async (t) => {
    const reply = await raw.call('lease', { pack: 'fresh', holder: 'newcomer' })
    t.match(reply, { ok: true, pack: 'fresh', limit: 1, inUse: 1 })
  })

  t.test('[SRV-4] a pack whose limit rose serves its waiter at once', async (t) => {
    const reply = await growWait
    t.match(reply, { ok: true, pack: 'grow', holder: 'waiter', limit: 2, inUse: 2 }, 'the waiter got the new seat (its 60 s wait did not run out)')
    t.match(packOf(daemon, 'grow'), { limit: 2, inUse: 2, waiting: 0 })
  })

  t.test('[SRV-4] a pack whose limit fell keeps its leases and grants none until in use is below the limit', async (t) => {
    t.match(packOf(daemon, 'shrink'), { limit: 1, inUse: 3 }, 'no seat taken away')
    for (const lease of shrinkHolders) {
      t.match(await app.request('renew', { lease: lease.id }), { lease: lease.id }, `holder ${lease.holder} still renews`)
    }
    const refusals: unknown[] = []
    for (const held of shrinkHolders) {
      refusals.push(errorCode(await raw.call('lease', { pack: 'shrink', holder: 'latecomer' })))
      await held.release()
    }
    t.same(refusals, ['PACK_EXHAUSTED', 'PACK_EXHAUSTED', 'PACK_EXHAUSTED'], 'refused at 3, 2 and 1 in use (limit 1)')
    t.match(await raw.call('lease', { pack: 'shrink', holder: 'latecomer' }), { ok: true, limit: 1, inUse: 1 }, 'granted once in use fell below the limit')
    for (const seen of shrinkSeen) t.same(seen.revoked, [], 'no holder of the shrunk pack was revoked')
  })

  t.test('[SRV-4] [WIRE-9] a pack that is gone has its leases revoked with a revoked push', async (t) => {
    const push = await raw.waitFor((f) => f.push === 'revoked' && f.lease === goneRaw.lease, 'revoked push for the raw lease')
    t.match(push, { push: 'revoked', lease: goneRaw.lease, pack: 'gone', reason: 'pack-removed' })
    await until(() => goneByLibSeen.revoked.length > 0, 'the library lease of gone to be revoked')
    t.same(goneByLibSeen.revoked, ['pack-removed'], 'the client library lease emits revoked (pack-removed)')
    t.equal(errorCode(await raw.call('renew', { lease: goneRaw.lease })), 'LEASE_UNKNOWN', 'a revoked lease is unknown')
    t.equal(errorCode(await raw.call('lease', { pack: 'gone' })), 'PACK_UNKNOWN', 'the pack is no longer served')
  })

  t.test('[SRV-4] a changed <licenses> block reaches holders on their next renew', async (t) => {
    await until(() => keepSeen.licenses.length > 0, "the keep lease's next renew", 20_000)
    t.same(keepSeen.licenses, [KEEP_V2], 'the library lease emits licenses with the new block, once')
    t.equal(keep.licenses, KEEP_V2)
    t.same(keepSeen.revoked, [], 'the lease itself is untouched')
    t.match(await raw.call('renew', { lease: keep.id }), { ok: true, lease: keep.id, licenses: KEEP_V2 }, 'a raw renew carries it too')
  })

  t.test('[SRV-2] applied once, whole: never rejected as a half-written file', async (t) => {
    t.equal(captured.matching(/^LPF rejected/).length, 0, 'no rejection logged')
    t.equal(captured.matching(/^new LPF applied$/).length, 1, 'the new plan applied exactly once')
    const status = statusOf(daemon)
    t.notOk(status.pendingError, 'no pending error')
    t.ok(status.serving, 'serving throughout')
    t.not(status.lpf?.loadedAt, loadedBefore, 'status shows the new load time')
    for (const seen of [keepSeen, ...shrinkSeen]) t.same(seen.lost, [], 'no lease lost')
  })

  t.test('[SRV-2] each other way of putting a file in place: applied once, never rejected', async (t) => {
    const others = WRITERS.filter((w) => w.write !== write)
    for (const [i, { name, write: other }] of others.entries()) {
      const applied = captured.matching(/^new LPF applied$/).length
      await other(server.path, lpfText({ port, packs: [...AFTER, { name: 'round', limit: i + 1 }] }))
      await until(() => packOf(daemon, 'round')?.limit === i + 1, `the file ${name} to be applied`)
      await until(() => captured.matching(/^new LPF applied$/).length === applied + 1, `one apply for the file ${name}`)
      t.equal(captured.matching(/^LPF rejected/).length, 0, `${name}: no rejection`)
      t.ok(statusOf(daemon).serving, `${name}: serving throughout`)
    }
    t.equal(captured.matching(/^new LPF applied$/).length, 1 + others.length, 'one apply per file')
    t.same(keepSeen.revoked, [], 'the keep lease lived through every file')
  })
}

// the hardest way first: a half-written file must never be rejected ([SRV-2] "once the write has finished")
const slowest = WRITERS.find((w) => w.name.startsWith('written slowly'))!
t.test(`[SRV-2] [SRV-4] a new LPF ${slowest.name}, then in every other way`, (t) => everySrv4Case(t, slowest.write))
