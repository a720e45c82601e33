// [SRV-3] removal of the LPF against the real daemon, a real directory and real clients: the
// revoked pushes on the wire and in the client library. The grace with the file coming back
// before and after it, a new file within it, and [SRV-6] expiry (also past setTimeout's 24.8
// days) run on the fake clock: test/server/license-keeper-stop.test.ts.
import t, { type Test } from 'tap'
import { unlinkSync } from 'node:fs'
import { connectClient, lpfText } from '../helpers/server.js'
import { RawPeer, type Frame } from '../helpers/wire.js'
import { renameOver, serveLpf, statusOf, until, type ReloadServer } from '../helpers/reload.js'
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
