// [SRV-2] "It also re-checks the file every 60 s in case an event was missed."
//
// A change the watcher misses, made for real: new content of the same size written over the
// file, with its modification time put back (what `cp -p`/`rsync -t` onto an existing file of
// the same size amounts to). chokidar decides "changed" from the mtime, so no event comes; only
// the re-check (recheckMs, 60 s by default, small here) reads the file again.
import t, { type Test } from 'tap'
import { statSync, utimesSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { dropLpf, freePort, lpfText, makeDirs, startDaemon } from '../helpers/server.js'
import { packOf, renameOver, serveLpf, statusOf, until } from '../helpers/reload.js'
import type { DaemonConfig } from '../../lib/server/daemon.js'

/** A daemon whose LPF has a whole-second mtime an hour ago, so that it can be put back exactly. */
async function serveOldFile(t: Test, extra: Partial<DaemonConfig> = {}) {
  const dirs = makeDirs(t)
  const port = await freePort()
  const path = dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 2 }] })
  const anHourAgo = Math.floor(Date.now() / 1000) - 3600
  utimesSync(path, anHourAgo, anHourAgo)
  const daemon = await startDaemon(t, dirs, extra)
  // the start reads the file once more when the watcher is ready: let that read be done first
  await daemon.reload()
  return { daemon, path, port }
}

/** Writes `text` over `path` keeping size and mtime, so a watcher that trusts them sees nothing. */
function writeUnnoticed(t: Test, path: string, text: string): void {
  const before = statSync(path)
  t.equal(Buffer.byteLength(text), before.size, 'the new file has the same size as the old one')
  writeFileSync(path, text)
  // mtime as it was (whole seconds: exact), atime after it: chokidar reads this as "not modified"
  utimesSync(path, Math.floor(Date.now() / 1000) + 60, before.mtimeMs / 1000)
  t.equal(statSync(path).mtimeMs, before.mtimeMs, 'the mtime is back to what it was')
}

const limitThree = (port: number) => lpfText({ port, packs: [{ name: 'station', limit: 3 }] })

t.test('[SRV-2] control: the watcher does not see a same-size, same-mtime rewrite; reload() does', async (t) => {
  // the default 60 s re-check does not run during this test
  const { daemon, path, port } = await serveOldFile(t)
  writeUnnoticed(t, path, limitThree(port))
  await sleep(2_000)
  t.equal(packOf(daemon, 'station')?.limit, 2, 'no watcher event: the old plan is still in force 2 s later')
  t.same(await daemon.reload(), { applied: true }, 'reload() reads the file and applies it')
  t.equal(packOf(daemon, 'station')?.limit, 3)
})

t.test('[SRV-2] the periodic re-check applies a change the watcher missed', async (t) => {
  const { daemon, path, port } = await serveOldFile(t, { recheckMs: 500 })
  writeUnnoticed(t, path, limitThree(port))
  await until(() => packOf(daemon, 'station')?.limit === 3, 'the re-check to apply the new limit')
  t.notOk(statusOf(daemon).pendingError)
})

t.test('[SRV-2] the re-check is harmless: the same file read again applies nothing and logs nothing', async (t) => {
  const { daemon, captured } = await serveLpf(t, { packs: [{ name: 'station', limit: 2 }] }, { recheckMs: 100 })
  const before = statusOf(daemon)
  const applied = captured.matching(/LPF loaded|applied/).length
  await sleep(1_000) // ~10 re-checks
  t.same(await daemon.reload(), { applied: false }, 'an unchanged file: nothing applied')
  t.same(statusOf(daemon), before, 'status unchanged, load time included')
  t.equal(captured.matching(/LPF loaded|applied|rejected/).length, applied, 'no log line about the LPF since it was loaded')
})

t.test('[SRV-2] a rejected file is logged once, not at every re-check', async (t) => {
  const { daemon, path, captured } = await serveLpf(t, { packs: [{ name: 'station', limit: 2 }] }, { recheckMs: 100 })
  await renameOver(path, Buffer.from('<lpf>not signed</lpf>'))
  const pending = await until(() => statusOf(daemon).pendingError, 'the rejection')
  await sleep(1_000)
  t.equal(captured.matching(/^LPF rejected/).length, 1, 'one warning for one bad file')
  t.same(statusOf(daemon).pendingError, pending, 'the pending error keeps the time it was first seen')
})

t.test('[SRV-2] reload() called many times at once while the file changes: the new plan applied once, every caller sees it', async (t) => {
  const { daemon, path, port, captured } = await serveLpf(t, { packs: [{ name: 'station', limit: 2 }] })
  const first = daemon.reload()
  writeFileSync(path, limitThree(port))
  const results = await Promise.all([first, ...Array.from({ length: 10 }, () => daemon.reload())])
  t.equal(packOf(daemon, 'station')?.limit, 3)
  t.same(results.slice(1), Array.from({ length: 10 }, () => results[1]), 'the calls made during a run share the run after it')
  t.equal(captured.matching(/^new LPF applied$/).length, 1, 'applied once')
})
