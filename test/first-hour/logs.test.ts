// flr.log and logrotate: SIGHUP reopens the file (docs/operating.md), so that new lines go to a
// new flr.log once the old one was moved away; and the stale-lock line has one `pid` key.
import t from 'tap'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { dropLpf, freePort, makeDirs, spawnServe } from '../helpers/server.js'
import { eventually } from '../helpers/admin.js'

/** the machine may be loaded: generous, never a timed assertion */
const LONG = 120_000

t.test('[SRV-8] SIGHUP: flr.log is reopened; a renamed log keeps its lines, new lines go to a new flr.log, and serving goes on', async (t) => {
  const dirs = makeDirs(t)
  dropLpf(dirs.licenseDir, { port: await freePort(), packs: [{ name: 'station', limit: 1 }] })
  const serve = spawnServe(t, dirs)
  await serve.waitForLog(/^LPF loaded: serving/, LONG)
  const log = join(dirs.logDir, 'flr.log')
  await eventually(() => existsSync(log) && readFileSync(log, 'utf8').includes('LPF loaded: serving'), 'flr.log', LONG)
  renameSync(log, `${log}.1`) // what logrotate does
  serve.child.kill('SIGHUP')
  await serve.waitForLog(/^SIGHUP: flr\.log reopened/, LONG)
  await eventually(() => existsSync(log) && readFileSync(log, 'utf8').includes('SIGHUP: flr.log reopened'), 'a new flr.log', LONG)
  t.match(readFileSync(`${log}.1`, 'utf8'), /LPF loaded: serving/, 'the rotated file keeps the old lines')
  t.notMatch(readFileSync(log, 'utf8'), /LPF loaded: serving/, 'the new file starts after the reopen')
  t.equal(serve.child.exitCode, null, 'SIGHUP does not stop the server (Node would exit on it without a handler)')
  serve.child.kill('SIGTERM')
  t.match(await serve.exited, { code: 0 })
  t.match(readFileSync(log, 'utf8'), /stopped; leases are stored/, 'later lines land in the new file')
})

t.test('[SRV-7] the stale-lock line names the dead pid once, as stalePid, beside the logger\'s own pid', async (t) => {
  const dirs = makeDirs(t)
  // a pid that is surely gone: the lock file of a process from before a reboot
  writeFileSync(join(dirs.stateDir, 'serve.pid'), '999999\n')
  const serve = spawnServe(t, dirs)
  const line = await serve.waitForLog(/stale state-directory lock/, LONG)
  t.equal(line.stalePid, 999999)
  t.equal(line.pid, serve.child.pid)
  await eventually(() => readFileSync(join(dirs.logDir, 'flr.log'), 'utf8').includes('stale state-directory lock'), 'the line in flr.log', LONG)
  const raw = readFileSync(join(dirs.logDir, 'flr.log'), 'utf8').split('\n').find((l) => l.includes('stale state-directory lock'))!
  t.equal(raw.match(/"pid":/g)?.length, 1, 'one "pid" key in the JSON line (a duplicate key is lost by most JSON readers)')
})
