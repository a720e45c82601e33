// [SRV-2] [LPF-8] Every hostile fixture (fixtures/lpf/hostile/manifest.json), plus an oversized
// file, put over the live LPF while leases are held: rejected once the file is quiet, with its
// code as the pending error, the plan in force and its leases untouched, logged once; the next
// good file clears it. On the fake clock through the real loader; the end-to-end proof over a
// real directory and real clients is test/e2e/reload-hostile.test.ts.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { writeOversizedLpf } from '../../fixtures/oversize.js'
import { hostileFixtures } from '../helpers/reload.js'
import { VENDOR_KEY } from '../helpers/server.js'
import { PACKS, QUIET_MS, RECHECK_MS, holdLeases, serving } from './keeper-harness.js'

const cases = [
  ...hostileFixtures().map((f) => ({ name: f.file, code: f.code, why: f.why, bytes: () => readFileSync(f.path) })),
  {
    name: 'oversized.lp',
    code: 'LPF_TOO_LARGE',
    why: 'a vendor-signed LPF padded to one byte over 4 MiB',
    bytes: () => readFileSync(writeOversizedLpf(t.testdir(), readFileSync(VENDOR_KEY, 'utf8'))),
  },
]

for (const c of cases) {
  t.test(`[SRV-2] [LPF-8] ${c.name} over the live LPF: nothing changes, ${c.code} pending`, async (t) => {
    const r = await serving(t)
    r.keeper.startRechecks()
    const leases = await holdLeases(r)
    const before = { state: r.keeper.state, packs: r.engine.packs() }
    r.disk.write(c.bytes())
    await r.keeper.reload()
    await r.advance(QUIET_MS + 20)
    t.match(r.keeper.pendingError, { code: c.code, message: String, at: String }, `pending: ${c.why}`)
    await r.advance(2 * RECHECK_MS)
    t.equal(r.keeper.state, before.state, 'the LPF in force (and its load time) is unchanged')
    t.same(r.engine.packs(), before.packs, 'the packs, limits and seats in use are unchanged')
    t.equal(r.front.port, r.port, 'still on its port')
    for (const lease of leases) t.match(r.engine.renew(lease), { lease }, 'the lease still renews')
    t.same(r.revoked, [], 'nothing revoked')
    t.equal(r.captured.matching(/^LPF rejected/).length, 1, 'the rejection is logged once')

    r.disk.write(r.lpf({ packs: [...PACKS, { name: 'extra', limit: 1 }] }))
    t.same(await r.keeper.reload(), { applied: true }, 'the next good file is applied')
    t.notOk(r.keeper.pendingError, 'and clears the pending error')
  })
}
