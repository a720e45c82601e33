// [HA-1] The database password in `--store postgres://user:PASSWORD@…` never reaches a log,
// a status answer, a health answer or a support bundle, also when the database goes away and
// every refusal names it. A real `flr serve` child on a real PostgreSQL, really stopped.
import t from 'tap'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { run } from '../../lib/cli/main.js'
import { dropLpf, freePort, makeDirs } from '../helpers/server.js'
import { eventually, httpCall, spawnServeWithHttp } from '../helpers/admin.js'
import { terminal } from '../helpers/terminal.js'
import { startPostgres } from '../helpers/postgres.js'

t.test('[HA-1] [LEASE-10] no password in the log, status, health or support bundle, through an outage of the database', async (t) => {
  const db = await startPostgres(t)
  const url = await db.database('flr')
  const where = `127.0.0.1:${db.port}/flr`
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 2 }] })
  const serve = spawnServeWithHttp(t, dirs, ['--store', url, '--advertise', '127.0.0.1'])
  // generous: a loaded machine starts node slowly (the helper's httpPort() waits 15 s)
  const httpPort = Number((await serve.waitForLog(/^HTTP shim listening/, 60_000)).port)
  await serve.waitForLog(/^leading \(term/, 60_000)
  await eventually(() => existsSync(join(dirs.stateDir, 'serve-config.json')), 'serve-config.json')
  const status = async (): Promise<string> => {
    const c = terminal()
    await run(['status', '--server', `127.0.0.1:${port}`, '--json'], c.io)
    return c.stdout() + c.stderr()
  }
  const seen: [string, string][] = [['status while serving', await status()]]

  await db.stop()
  const fault = await serve.waitForLog(/^lease store cannot write/, 60_000)
  t.match(fault.msg, `the database ${where} cannot be reached`, 'the log names where, and why')
  const down = await status()
  t.match(down, where, 'status names the database')
  const health = await httpCall(httpPort, 'GET', '/api/1.0/health')
  t.equal(health.status, 503)
  seen.push(['status while the database is down', down], ['health while the database is down', JSON.stringify(health.json)])

  await db.start()
  await serve.waitForLog(/^lease store writes again/, 60_000)
  const out = join(dirs.root, 'bundle.tar.gz')
  const c = terminal()
  t.equal(await run(['support-bundle', '--state-dir', dirs.stateDir, '--out', out, '--server', `127.0.0.1:${port}`], c.io), 0, c.stderr())
  const bundle = gunzipSync(readFileSync(out)).toString('utf8')
  t.match(bundle, `"store": "postgres://flr:***@${where}"`, 'the bundle says which store, masked')
  seen.push(
    ['the support bundle', bundle],
    ['the support-bundle command output', c.stdout() + c.stderr()],
    ['flr.log', readFileSync(join(dirs.logDir, 'flr.log'), 'utf8')],
    ['serve-config.json', readFileSync(join(dirs.stateDir, 'serve-config.json'), 'utf8')],
    ['the daemon stdout log', JSON.stringify(serve.logs)],
  )
  for (const [what, text] of seen) t.notOk(text.includes(db.password), `no password in ${what}`)
})
