// issue 13: what no code handles ends `flr serve` visibly: the error and its cause in flr.log
// and on stderr, then exit code 70, so that the service manager restarts it. And a log that
// cannot be written (a full disk) is no such error: the daemon serves on and still stops cleanly.
// Real `flr serve` children; the failure is injected from outside lib/ by a --import preload.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FLR_BIN, HOST_ID, VENDOR_PUB, dropLpf, freePort, makeDirs, type Dirs } from '../helpers/server.js'
import { RawClient, eventually } from '../helpers/admin.js'

const TRIGGER = fileURLToPath(new URL('../helpers/fatal-trigger.mjs', import.meta.url))

interface Serve {
  stdout(): string
  stderr(): string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  kill(signal: NodeJS.Signals): void
}

function serve(t: Test, dirs: Dirs, env: NodeJS.ProcessEnv = {}): Serve {
  const child = spawn(
    process.execPath,
    ['--import', TRIGGER, FLR_BIN, 'serve', '--license-dir', dirs.licenseDir, '--state-dir', dirs.stateDir, '--log-dir', dirs.logDir, '--vendor-key', VENDOR_PUB, '--host-id', HOST_ID, '--bind', '127.0.0.1', '--no-http'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  )
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => (stdout += d))
  child.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    return exited
  })
  return { stdout: () => stdout, stderr: () => stderr, exited, kill: (s) => child.kill(s) }
}

async function serving(t: Test, env: NodeJS.ProcessEnv = {}, prepare?: (dirs: Dirs) => void) {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 2 }] })
  prepare?.(dirs)
  const s = serve(t, dirs, env)
  await eventually(() => s.stdout().includes('LPF loaded: serving'), 'flr serve serving', 60_000)
  return { dirs, port, s }
}

for (const [kind, what] of [
  ['reject', 'a promise rejection nobody handled'],
  ['throw', 'an exception nobody caught'],
] as const) {
  t.test(`issue 13: ${what} in flr serve is logged with its cause to flr.log and stderr, then exit 70`, async (t) => {
    const { dirs, s } = await serving(t, { FLR_TEST_FATAL: kind })
    s.kill('SIGUSR2')
    const end = await s.exited
    t.same(end, { code: 70, signal: null }, 'exit code 70: the service manager restarts it')
    t.match(s.stderr(), `exiting with code 70 after ${what}`)
    t.match(s.stderr(), /a failure nobody expected/)
    t.match(s.stderr(), /\[cause\]: Error: EIO: i\/o error, write/, 'stderr shows the cause')
    const lines = readFileSync(join(dirs.logDir, 'flr.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>)
    const last = lines.at(-1)!
    t.match(last, {
      level: 60,
      origin: kind === 'reject' ? 'unhandledRejection' : 'uncaughtException',
      msg: `unexpected error: ${what}; exiting with code 70 so that the service manager restarts flr`,
      err: { message: /a failure nobody expected: EIO: i\/o error, write/, stack: /caused by: Error: EIO/ },
      causes: ['Error: EIO: i/o error, write'],
    }, 'the last line of flr.log says why, with the cause')
    t.ok(lines.some((l) => l.msg === 'LPF loaded: serving'), 'the lines before it are there too')
  })
}

t.test('issue 13: flr.log on a full disk (a link to /dev/full) does not end flr serve; it serves, says so once, and stops cleanly', async (t) => {
  const { port, s } = await serving(t, {}, (dirs) => symlinkSync('/dev/full', join(dirs.logDir, 'flr.log')))
  const client = await RawClient.open(t, port, 'bystander')
  const lease = await client.request('lease', { pack: 'station' })
  t.equal(lease.ok, true, 'a lease is granted while the log cannot be written')
  t.equal((await client.request('status')).ok, true)
  t.equal(s.stderr().match(/cannot write the log to flr\.log \(ENOSPC/g)?.length, 1, 'said once on stderr, not once per line')
  s.kill('SIGTERM')
  t.same(await s.exited, { code: 0, signal: null }, '[SRV-8] SIGTERM still ends it with 0: no exit-time flush retrying forever')
  t.match(s.stdout(), /stopped; leases are stored/, 'stdout has the log meanwhile')
})
