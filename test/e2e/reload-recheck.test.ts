// [SRV-2] "It also re-checks the file every 60 s in case an event was missed."
//
// A change the watcher misses, made for real: new content of the same size written over the
// file, with its modification time put back (what `cp -p`/`rsync -t` onto an existing file of
// the same size amounts to). chokidar decides "changed" from the mtime, so no event comes; only
// the re-check (recheckMs, 60 s by default, small here) reads the file again. That the re-check
// is harmless, logs a bad file once, and that calls during a run share one queued run is shown
// on the fake clock: test/server/license-keeper-reload.test.ts.
import t from 'tap'
import { statSync, utimesSync, writeFileSync } from 'node:fs'
import { dropLpf, freePort, lpfText, makeDirs, startDaemon } from '../helpers/server.js'
import { packOf, statusOf, until } from '../helpers/reload.js'

t.test('[SRV-2] the periodic re-check applies a change the watcher missed (same size, same mtime)', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  const path = dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 2 }] })
  // a whole-second mtime an hour ago, so that it can be put back exactly
  const anHourAgo = Math.floor(Date.now() / 1000) - 3600
  utimesSync(path, anHourAgo, anHourAgo)
  const daemon = await startDaemon(t, dirs, { recheckMs: 500 })

  const text = lpfText({ port, packs: [{ name: 'station', limit: 3 }] })
  const before = statSync(path)
  t.equal(Buffer.byteLength(text), before.size, 'the new file has the same size as the old one')
  writeFileSync(path, text)
  // mtime as it was (whole seconds: exact), atime after it: chokidar reads this as "not modified"
  utimesSync(path, Math.floor(Date.now() / 1000) + 60, before.mtimeMs / 1000)
  t.equal(statSync(path).mtimeMs, before.mtimeMs, 'the mtime is back to what it was')

  await until(() => packOf(daemon, 'station')?.limit === 3, 'the re-check to apply the new limit')
  t.notOk(statusOf(daemon).pendingError)
})
