// [SRV-2] Every hostile fixture (fixtures/lpf/hostile/manifest.json), plus an oversized file,
// dropped over the live LPF while clients hold leases: nothing changes, status shows the
// rejection's code as pendingError, and the next good file clears it.
import t, { type Test } from 'tap'
import { mkdirSync, readFileSync, rmdirSync, unlinkSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { lpfText, connectClient, VENDOR_KEY } from '../helpers/server.js'
import { RawPeer } from '../helpers/wire.js'
import { cpOver, hostileFixtures, packOf, renameOver, serveLpf, statusOf, until, writeInPlace, type Writer } from '../helpers/reload.js'
import { writeOversizedLpf } from '../../fixtures/oversize.js'

// each fixture gets its own daemon; a rejection waits for the file to be quiet (WRITE_QUIET_MS),
// so they run side by side
t.jobs = 8

const PACKS = [
  { name: 'station', limit: 2 },
  { name: 'wb', limit: 1 },
]

interface Case {
  name: string
  code: string
  why: string
  /** the file's bytes; scratch is a directory the case may write in */
  bytes: (scratch: string) => Buffer
}

const CASES: Case[] = [
  ...hostileFixtures().map((f) => ({ name: f.file, code: f.code, why: f.why, bytes: () => readFileSync(f.path) })),
  {
    name: 'oversized.lp',
    code: 'LPF_TOO_LARGE',
    why: 'a vendor-signed LPF padded to one byte over 4 MiB',
    bytes: (scratch) => readFileSync(writeOversizedLpf(scratch, readFileSync(VENDOR_KEY, 'utf8'))),
  },
]

// the ways a file lands, in turn: `cp` over it, written in place, renamed over it
const DROPS: Writer[] = [cpOver, writeInPlace, renameOver]

async function hostileDrop(t: Test, c: Case, drop: Writer): Promise<void> {
  const { port, daemon, path, captured, dirs } = await serveLpf(t, { packs: PACKS })
  const app = await connectClient(t, port, { client: 'app' })
  const lease = await app.lease('station')
  const revokedByLib: string[] = []
  lease.on('revoked', (r: string) => revokedByLib.push(r))
  lease.on('lost', (e: unknown) => revokedByLib.push(`lost: ${String(e)}`))
  const raw = await RawPeer.hello(t, port, 'raw')
  const rawLease = await raw.call('lease', { pack: 'wb' })
  const before = statusOf(daemon)

  await drop(path, c.bytes(dirs.root))
  const pending = await until(() => statusOf(daemon).pendingError, `the rejection of ${c.name}`)

  t.equal(pending.code, c.code, `pendingError carries ${c.code}: ${c.why}`)
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
  t.match(captured.matching(/^LPF rejected/)[0], { code: c.code })

  // the next good file clears the pending error and is applied
  await renameOver(path, lpfText({ port, packs: [...PACKS, { name: 'extra', limit: 1 }] }))
  await until(() => packOf(daemon, 'extra'), 'the good file to be applied')
  t.notOk(statusOf(daemon).pendingError, 'the good file cleared pendingError')
  t.match(await app.request('renew', { lease: lease.id }), { lease: lease.id }, 'and the lease lived through it all')
}

CASES.forEach((c, i) => {
  t.test(`[SRV-2] [LPF-8] ${c.name} dropped in place: nothing changes, ${c.code} pending`, (t) => hostileDrop(t, c, DROPS[i % DROPS.length]!))
})

t.test('[SRV-2] a directory where the LPF should be: rejected as unreadable, the LPF in force stays, no crash', async (t) => {
  const { port, daemon, path } = await serveLpf(t, { packs: PACKS }, { removalGraceMs: 300 })
  const app = await connectClient(t, port, { client: 'app' })
  const lease = await app.lease('station')
  const ends: string[] = []
  lease.on('revoked', (r: string) => ends.push(r))
  unlinkSync(path)
  mkdirSync(path)
  const pending = await until(() => statusOf(daemon).pendingError, 'the directory to be rejected')
  t.match(pending, { code: 'LPF_MISSING', message: /cannot be read \(EISDIR\)/ })
  await sleep(600) // past the removal grace the unlink started: the directory called it off
  t.equal(statusOf(daemon).serving, true, 'still serving the LPF in force')
  t.match(await app.request('renew', { lease: lease.id }), { lease: lease.id })
  rmdirSync(path)
  await renameOver(path, lpfText({ port, packs: [...PACKS, { name: 'extra', limit: 1 }] }))
  await until(() => packOf(daemon, 'extra'), 'a good file to be applied')
  t.notOk(statusOf(daemon).pendingError)
  t.same(ends, [], 'nothing revoked')
})
