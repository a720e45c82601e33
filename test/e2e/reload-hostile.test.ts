// [SRV-2] A hostile LPF copied over the live one on a real directory, while clients hold leases
// through the client library and raw requests: nothing changes for them, status shows the
// rejection's code as pendingError, and the next good file clears it. Every fixture of the
// hostile set (and the oversized file, and a directory in the file's place) is run against the
// license keeper on the fake clock: test/server/license-keeper-hostile.test.ts and -stop.test.ts.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { lpfText, connectClient, ROOT } from '../helpers/server.js'
import { RawPeer } from '../helpers/wire.js'
import { cpOver, packOf, renameOver, serveLpf, statusOf, until } from '../helpers/reload.js'

const PACKS = [
  { name: 'station', limit: 2 },
  { name: 'wb', limit: 1 },
]

t.test('[SRV-2] [LPF-8] a tampered LPF copied over the live one: nothing changes, LPF_SIGNATURE_INVALID pending, cleared by the next good file', async (t) => {
  const { port, daemon, path, captured } = await serveLpf(t, { packs: PACKS })
  const app = await connectClient(t, port, { client: 'app' })
  const lease = await app.lease('station')
  const revokedByLib: string[] = []
  lease.on('revoked', (r: string) => revokedByLib.push(r))
  lease.on('lost', (e: unknown) => revokedByLib.push(`lost: ${String(e)}`))
  const raw = await RawPeer.hello(t, port, 'raw')
  const rawLease = await raw.call('lease', { pack: 'wb' })
  const before = statusOf(daemon)

  await cpOver(path, readFileSync(join(ROOT, 'fixtures/lpf/hostile/tampered-limit.lp')))
  const pending = await until(() => statusOf(daemon).pendingError, 'the rejection of the tampered file')

  t.equal(pending.code, 'LPF_SIGNATURE_INVALID', 'pendingError carries the code')
  t.match(pending, { message: String, at: String })
  const during = statusOf(daemon)
  t.same(during.lpf, before.lpf, 'the LPF in force (and its load time) is unchanged')
  t.same(during.packs, before.packs, 'the packs, limits and seats in use are unchanged')
  t.equal(during.serving, true, 'still serving')
  t.equal(during.listeningPort, port, 'still on its port')
  t.match(await app.request('renew', { lease: lease.id }), { lease: lease.id }, 'the library lease still renews')
  t.match(await raw.call('renew', { lease: rawLease.lease }), { ok: true, lease: rawLease.lease }, 'the raw lease still renews')
  t.match(await raw.call('lease', { pack: 'station', holder: 'another' }), { ok: true, limit: 2, inUse: 2 }, 'the packs in force still grant')
  t.equal(raw.frames.filter((f) => f.push !== undefined).length, 0, 'no push reached the raw holder')
  t.same(revokedByLib, [], 'no library lease revoked or lost')
  t.equal(captured.matching(/^LPF rejected/).length, 1, 'the rejection is logged once')
  t.match(captured.matching(/^LPF rejected/)[0], { code: 'LPF_SIGNATURE_INVALID' })

  await renameOver(path, lpfText({ port, packs: [...PACKS, { name: 'extra', limit: 1 }] }))
  await until(() => packOf(daemon, 'extra'), 'the good file to be applied')
  t.notOk(statusOf(daemon).pendingError, 'the good file cleared pendingError')
  t.match(await app.request('renew', { lease: lease.id }), { lease: lease.id }, 'and the lease lived through it all')
})
