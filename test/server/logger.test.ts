// [LEASE-10] A log file that cannot be written (here flr.log is /dev/full, which fails every
// write with ENOSPC, as a full disk under the default <state-dir>/logs would) never takes the
// daemon down: it says so once on stderr and goes on serving, logging to stdout.
import t from 'tap'
import { symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { dropLpf, freePort, makeDirs, spawnServe } from '../helpers/server.js'
import { rawClient } from '../helpers/crash.js'

t.test('[LEASE-10] flr serve whose log file cannot be written keeps serving and says so once', async (t) => {
  const dirs = makeDirs(t)
  symlinkSync('/dev/full', join(dirs.logDir, 'flr.log'))
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: [{ name: 'cad', limit: 100 }] })
  const serve = spawnServe(t, dirs, ['--log-level', 'debug'])
  let stderr = ''
  serve.child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s))
  await serve.waitForLog(/^LPF loaded: serving/, 30_000)

  const client = await rawClient(t, port, 'log-test')
  // each grant and release logs at debug level: many writes to the failing file
  for (let i = 0; i < 200; i++) {
    const lease = await client.call('lease', { pack: 'cad', holder: `h${i}` })
    await client.call('release', { lease: lease.lease })
  }
  t.equal((await client.request('ping')).ok, true, 'the server is still up after 400 failed log writes')
  t.equal(serve.child.exitCode, null, 'and has not exited')
  t.match(serve.logs.length, Number, 'stdout logging goes on')
  const said = stderr.match(/cannot be written/g) ?? []
  t.equal(said.length, 1, `stderr says once that flr.log cannot be written: ${JSON.stringify(stderr)}`)
  t.match(stderr, /flr\.log cannot be written \(ENOSPC\)/, 'naming the file and the cause')
})
