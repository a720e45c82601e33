// [SRV-1] [HTTP-1] the admin's first hour on a fresh install: an empty license directory, then
// the vendor's file saved as customer.lp, then the right file. A real `flr serve` child; the CLI
// finds it through its state directory (no --server), the log and health say why, and `flr
// status` exits 3 while nothing is served.
import t from 'tap'
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run } from '../../lib/cli/main.js'
import { readServeRecord } from '../../lib/server/serve-record.js'
import { EXIT_NOT_SERVING } from '../../lib/cli/io.js'
import { HOST_ID, freePort, lpfText, makeDirs } from '../helpers/server.js'
import { eventually, httpCall, spawnServeWithHttp, terminal } from '../helpers/admin.js'

/** the machine may be loaded: generous, never a timed assertion */
const LONG = 120_000

const EXPECTED = `${HOST_ID}.lp`

t.test('[SRV-1] [HTTP-1] empty license dir, a misnamed customer.lp, then the right name: log, flr status (exit 3) and health 503 say why', async (t) => {
  const dirs = makeDirs(t)
  const serve = spawnServeWithHttp(t, dirs)
  const httpPort = Number((await serve.waitForLog(/^HTTP shim listening/, LONG)).port)

  // at start: the log names the expected file and the directory
  const first = await serve.waitForLog(/^not serving: no /, LONG)
  t.equal(first.code, 'LPF_MISSING')
  t.equal(first.expected, EXPECTED, 'the log names the file it expects')
  t.equal(first.licenseDir, dirs.licenseDir, 'and the directory')
  t.match(String(first.msg), `no ${EXPECTED} in ${dirs.licenseDir}`)

  // flr status: no lease port is bound, yet it answers, from the server's state directory
  await eventually(() => readServeRecord(dirs.stateDir)?.httpPort === httpPort, 'the serve record', LONG)
  let term = terminal()
  t.equal(await run(['status', '--state-dir', dirs.stateDir], term.io), EXIT_NOT_SERVING, 'exit 3 while nothing is served')
  t.match(term.stdout(), `NOT serving: LPF_MISSING: no ${EXPECTED} in ${dirs.licenseDir}`)
  term = terminal({ FLR_STATE_DIR: dirs.stateDir })
  t.equal(await run(['status', '--json'], term.io), EXIT_NOT_SERVING, 'FLR_STATE_DIR finds it too')
  t.match(JSON.parse(term.stdout()), { serving: false, reason: { code: 'LPF_MISSING' } })

  let health = await httpCall(httpPort, 'GET', '/api/1.0/health')
  t.equal(health.status, 503, 'health: 503 while not serving')
  t.match(health.json, { serving: false, reason: { code: 'LPF_MISSING', message: new RegExp(`no ${EXPECTED} in `) } })

  // the vendor's file saved under another name: the log (at once: the watcher sees any *.lp), status and health name it
  const port = await freePort()
  writeFileSync(join(dirs.licenseDir, 'customer.lp'), lpfText({ port, packs: [{ name: 'station', limit: 2 }] }))
  const misnamed = await serve.waitForLog(/^not serving: .*customer\.lp is there/, LONG)
  t.same(misnamed.misnamed, ['customer.lp'], 'the log lists the misnamed *.lp')
  t.match(String(misnamed.msg), new RegExp(`no ${EXPECTED} in .*customer\\.lp is there.*${EXPECTED}`))
  await eventually(() => /customer\.lp is there/.test(readServeRecord(dirs.stateDir)?.reason?.message ?? ''), 'the record to name customer.lp', LONG)
  term = terminal()
  t.equal(await run(['status', '--state-dir', dirs.stateDir], term.io), EXIT_NOT_SERVING)
  t.match(term.stdout(), /customer\.lp is there/, 'flr status names the misnamed file')
  health = await httpCall(httpPort, 'GET', '/api/1.0/health')
  t.equal(health.status, 503)
  t.match(health.json.reason.message, /customer\.lp is there/)

  // renamed as the log said: served; flr status finds the port the LPF names, exit 0; health 200
  renameSync(join(dirs.licenseDir, 'customer.lp'), join(dirs.licenseDir, EXPECTED))
  await serve.waitForLog(/^LPF loaded: serving/, LONG)
  await eventually(() => readServeRecord(dirs.stateDir)?.leasePort === port, 'the record to name the lease port', LONG)
  term = terminal()
  t.equal(await run(['status', '--state-dir', dirs.stateDir], term.io), 0, 'exit 0 once serving')
  t.match(term.stdout(), /Serving\.[\s\S]*station\s+2\s+0\s+2/)
  health = await httpCall(httpPort, 'GET', '/api/1.0/health')
  t.equal(health.status, 200)
  t.equal(health.json.serving, true)
  t.notOk(readFileSync(join(dirs.logDir, 'flr.log'), 'utf8').includes('"level":50'), 'no error logged on the way')
})

t.test('[SRV-1] [SRV-3] flr status --server on a server whose LPF was removed: the port answers, exit 3; unreachable: exit 1', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  writeFileSync(join(dirs.licenseDir, EXPECTED), lpfText({ port, packs: [{ name: 'station', limit: 1 }] }))
  const serve = spawnServeWithHttp(t, dirs)
  await serve.waitForLog(/^LPF loaded: serving/, LONG)
  let term = terminal()
  t.equal(await run(['status', '--server', `127.0.0.1:${port}`], term.io), 0)
  unlinkSync(join(dirs.licenseDir, EXPECTED))
  await serve.waitForLog(/^stopped serving/, LONG)
  term = terminal()
  t.equal(await run(['status', '--server', `127.0.0.1:${port}`], term.io), EXIT_NOT_SERVING)
  t.match(term.stdout(), /NOT serving: LPF_MISSING/)
  term = terminal()
  t.equal(await run(['status', '--server', '127.0.0.1:1'], term.io), 1, 'an unreachable server is a failure (1), not "not serving" (3)')
})
