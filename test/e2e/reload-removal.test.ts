// [SRV-3] removal of the LPF and [SRV-6] its expiry, against the real daemon and real files.
import t, { type Test } from 'tap'
import { readFileSync, unlinkSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { connectClient, lpfText } from '../helpers/server.js'
import { RawPeer, type Frame } from '../helpers/wire.js'
import { cpOver, isoIn, packOf, renameOver, serveLpf, statusOf, until, type ReloadServer } from '../helpers/reload.js'
import type { Lease } from '../../lib/client/client.js'

const PACKS = [
  { name: 'station', limit: 3 },
  { name: 'wb', limit: 2 },
]

interface Holders {
  raw: RawPeer
  rawLeases: Frame[]
  libLeases: Lease[]
  libRevoked: string[]
}

/** Leases held two ways: raw requests on one connection, the client library on another. */
async function holdLeases(t: Test, server: ReloadServer): Promise<Holders> {
  const raw = await RawPeer.hello(t, server.port, 'raw')
  const rawLeases = [await raw.call('lease', { pack: 'station' }), await raw.call('lease', { pack: 'wb' })]
  for (const l of rawLeases) if (l.ok !== true) throw new Error(`lease refused: ${JSON.stringify(l)}`)
  const app = await connectClient(t, server.port, { client: 'app' })
  const libLeases = [await app.lease('station'), await app.lease('wb')]
  const libRevoked: string[] = []
  for (const l of libLeases) l.on('revoked', (reason: string) => libRevoked.push(reason))
  return { raw, rawLeases, libLeases, libRevoked }
}

function pushes(raw: RawPeer): Frame[] {
  return raw.frames.filter((f) => f.push !== undefined)
}

function revokedPushesFor(h: Holders, reason: string): Promise<Frame[]> {
  return Promise.all(
    h.rawLeases.map((l) => h.raw.waitFor((f) => f.push === 'revoked' && f.lease === l.lease, `revoked push for ${String(l.lease)}`)),
  ).then((frames) => {
    for (const f of frames) if (f.reason !== reason) throw new Error(`revoked with ${String(f.reason)}, not ${reason}`)
    return frames
  })
}

t.test('[SRV-3] a removed LPF that stays removed: every lease revoked (lpf-removed), listener bound, NOT_SERVING; a valid file later resumes', async (t) => {
  const server = await serveLpf(t, { packs: PACKS }, { removalGraceMs: 1_000 })
  const { daemon, port, path } = server
  const h = await holdLeases(t, server)

  unlinkSync(path)
  const frames = await revokedPushesFor(h, 'lpf-removed')
  t.equal(frames.length, 2, '[WIRE-9] both raw leases got revoked {reason: lpf-removed} on the connection that holds them')
  t.match(frames, [{ pack: 'station' }, { pack: 'wb' }])
  await until(() => h.libRevoked.length === 2, 'the library leases to be revoked')
  t.same(h.libRevoked, ['lpf-removed', 'lpf-removed'], 'the client library leases emit revoked (lpf-removed)')

  const status = statusOf(daemon)
  t.equal(status.serving, false, 'not serving')
  t.match(status.reason, { code: 'LPF_MISSING' }, 'status says why')
  t.equal(status.listeningPort, port, 'the listener stays bound')
  const late = await RawPeer.hello(t, port, 'late')
  t.match(await late.call('lease', { pack: 'station' }), { ok: false, error: { code: 'NOT_SERVING' } }, 'a new connection is answered NOT_SERVING')
  t.match(await h.raw.call('renew', { lease: h.rawLeases[0]!.lease }), { ok: false, error: { code: 'LEASE_UNKNOWN' } }, 'a revoked lease is gone')

  await renameOver(path, lpfText({ port, packs: PACKS }))
  await until(() => statusOf(daemon).serving, 'serving again once a valid file is back')
  t.match(await late.call('lease', { pack: 'station' }), { ok: true, pack: 'station', inUse: 1 }, 'leases are granted again (the revoked ones are not back)')
})

t.test('[SRV-3] a new file arriving within the grace of a removal: applied, and the removal revokes nothing', async (t) => {
  const server = await serveLpf(t, { packs: PACKS }, { removalGraceMs: 3_000 })
  const { daemon, path, port, captured } = server
  const h = await holdLeases(t, server)

  unlinkSync(path)
  await until(() => captured.matching(/^LPF removed/).length === 1, 'the removal to be noticed')
  await cpOver(path, lpfText({ port, packs: [...PACKS, { name: 'extra', limit: 1 }] }))
  await until(() => packOf(daemon, 'extra'), 'the new file to be applied')
  await sleep(3_500) // past the grace: had the removal not been called off, it would have acted by now
  const after = statusOf(daemon)
  t.equal(after.serving, true, 'still serving')
  t.match(packOf(daemon, 'station'), { inUse: 2 }, 'the seats held are still held')
  t.same(pushes(h.raw), [], 'no push reached the raw holder')
  t.same(h.libRevoked, [], 'no library lease revoked')
  for (const l of h.rawLeases) t.match(await h.raw.call('renew', { lease: l.lease }), { ok: true }, 'raw leases renew')
  for (const l of h.libLeases) t.match(await h.raw.call('renew', { lease: l.id }), { ok: true }, 'library leases renew')
})

t.test('[SRV-3] the file returning within the grace changes nothing', async (t) => {
  const server = await serveLpf(t, { packs: PACKS }, { removalGraceMs: 3_000 })
  const { daemon, path, captured } = server
  const h = await holdLeases(t, server)
  const before = statusOf(daemon)
  const bytes = readFileSync(path)

  unlinkSync(path)
  await until(() => captured.matching(/^LPF removed/).length === 1, 'the removal to be noticed')
  await renameOver(path, bytes)
  await sleep(3_500)
  t.same(statusOf(daemon), before, 'status is exactly as before, load time included')
  t.equal(captured.matching(/applied|stopped serving/).length, 0, 'nothing applied, nothing stopped')
  t.same(pushes(h.raw), [], 'no push')
})

t.test('[SRV-6] at the expiration instant: every lease revoked (lpf-expired), then NOT_SERVING; a renewed LPF resumes', async (t) => {
  const server = await serveLpf(t, { packs: PACKS, expiration: isoIn(4_000) })
  const { daemon, port, path } = server
  const h = await holdLeases(t, server)
  t.equal(statusOf(daemon).serving, true, 'serving before the instant')

  const frames = await revokedPushesFor(h, 'lpf-expired')
  t.equal(frames.length, 2, '[WIRE-9] both raw leases got revoked {reason: lpf-expired}')
  await until(() => h.libRevoked.length === 2, 'the library leases to be revoked')
  t.same(h.libRevoked, ['lpf-expired', 'lpf-expired'])
  const status = statusOf(daemon)
  t.equal(status.serving, false)
  t.match(status.reason, { code: 'LPF_EXPIRED' })
  t.equal(status.listeningPort, port, 'the listener stays bound')
  t.match(await h.raw.call('lease', { pack: 'station' }), { ok: false, error: { code: 'NOT_SERVING' } })

  // the expired file is still there: reading it again keeps the server stopped
  t.match(await daemon.reload(), { applied: false, error: { code: 'LPF_EXPIRED' } })
  t.equal(statusOf(daemon).serving, false)

  await renameOver(path, lpfText({ port, packs: PACKS, expiration: '2099-12-31' }))
  await until(() => statusOf(daemon).serving, 'serving again with the renewed LPF')
  t.match(await h.raw.call('lease', { pack: 'wb' }), { ok: true, inUse: 1 })
  t.notOk(statusOf(daemon).pendingError, 'the renewed file cleared the pending error')
})

t.test('[SRV-6] an LPF replaced before its instant does not expire at the old instant', async (t) => {
  const server = await serveLpf(t, { packs: PACKS, expiration: isoIn(3_000) })
  const { daemon, port, path } = server
  const h = await holdLeases(t, server)
  await renameOver(path, lpfText({ port, packs: PACKS, expiration: '2099-12-31' }))
  await until(() => statusOf(daemon).lpf?.expiration === '2099-12-31', 'the renewed LPF to be applied')
  await sleep(4_000)
  t.equal(statusOf(daemon).serving, true, 'still serving past the old instant')
  t.same(pushes(h.raw), [], 'no lease revoked')
  t.match(packOf(daemon, 'station'), { inUse: 2 })
})
