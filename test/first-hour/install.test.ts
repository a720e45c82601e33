// As a new admin meets flr: the demo from a checkout, then the package a site deploys. `npm
// pack` → a tarball that installs globally into a fresh prefix (dependencies from the npm cache
// where it has them) and runs `flr --help`, `flr serve --demo` and `flr status` from a clean
// directory, with no checkout. The demo serves Agent-Session, so the shim's bare
// `POST /request {"client": …}` leases a seat of it ([HTTP-2]); its start-up text shows that curl.
import t, { type Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { FLR_BIN, ROOT } from '../helpers/server.js'
import { httpCall } from '../helpers/admin.js'

const LONG = 240_000

interface Demo {
  httpPort: number
  curl: string
  stop(): Promise<number | null>
}

/** `flr serve --demo --http-port 0` in `cwd`; resolves once its start-up text is out. */
function startDemo(t: Test, command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Demo> {
  const child = spawn(command, [...args, 'serve', '--demo', '--http-port', '0'], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    return exited
  })
  let stderr = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no demo start-up text within ${LONG} ms: ${stderr}`)), LONG)
    child.stderr!.on('data', (d) => {
      stderr += d
      const curl = /^\s*(curl -s -X POST http:\/\/127\.0\.0\.1:(\d+)\/request .*)$/m.exec(stderr)
      if (!/flr demo: serving the sample packs on port \d+/.test(stderr) || !curl) return
      clearTimeout(timer)
      resolve({ httpPort: Number(curl[2]), curl: curl[1]!, stop: () => (child.kill('SIGTERM'), exited) })
    })
    void exited.then((code) => reject(new Error(`flr serve --demo exited (${code}) before serving: ${stderr}`)))
  })
}

async function agentSession(t: Test, demo: Demo): Promise<void> {
  t.match(demo.curl, /-d '\{"client": "agent-1"\}'$/, 'the start-up text shows the bare request an agent sends')
  const reply = await httpCall(demo.httpPort, 'POST', '/request', { client: 'agent-1' })
  t.equal(reply.status, 200, 'bare POST /request is authorized')
  t.match(reply.json, { authorized: true, lease: String, licenses: /agent-session/ })
  const packs = await httpCall(demo.httpPort, 'GET', '/api/1.0/packs')
  t.match(packs.json.packs.find((p: { name: string }) => p.name === 'Agent-Session'), { limit: 5, inUse: 1 }, 'an Agent-Session seat is leased')
}

t.test('[HTTP-2] the demo serves Agent-Session: a bare POST /request {"client"} leases a seat of it', async (t) => {
  const cwd = t.testdir()
  const demo = await startDemo(t, process.execPath, [FLR_BIN], cwd)
  await agentSession(t, demo)
  t.equal(await demo.stop(), 0, 'SIGTERM: a clean stop')
})

t.test('npm pack → npm install -g into a fresh prefix → flr --help, flr serve --demo, flr status from a clean directory', async (t) => {
  t.ok(existsSync(join(ROOT, 'dist', 'lib', 'cli', 'process.js')), 'built (npm run build) before packing')
  const dir = t.testdir({ clean: {} })
  // --ignore-scripts: prepack would build again; the tree is built already
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--silent'], { cwd: ROOT, encoding: 'utf8', timeout: LONG })
  t.equal(pack.status, 0, `npm pack: ${pack.stderr}`)
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!
  t.ok(tarball, 'a tarball')
  const prefix = join(dir, 'prefix')
  mkdirSync(prefix)
  const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, join(dir, tarball), '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: join(dir, 'clean'),
    encoding: 'utf8',
    timeout: 600_000,
  })
  t.equal(install.status, 0, `npm install -g: ${install.stderr.slice(-2000)}`)
  const flr = join(prefix, 'bin', 'flr')
  t.ok(existsSync(flr), 'flr is in the prefix bin directory')
  const clean = join(dir, 'clean')
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` }
  delete env.FLR_SERVER
  delete env.FLR_STATE_DIR

  const help = spawnSync('flr', ['--help'], { cwd: clean, env, encoding: 'utf8', timeout: LONG })
  t.equal(help.status, 0, 'flr --help')
  t.match(help.stdout, /serve[\s\S]*status[\s\S]*reload/)

  const demo = await startDemo(t, 'flr', [], clean, env)
  await agentSession(t, demo)
  const status = spawnSync('flr', ['status'], { cwd: clean, env, encoding: 'utf8', timeout: LONG })
  t.equal(status.status, 0, `flr status from the same directory finds the demo: ${status.stderr}`)
  t.match(status.stdout, /Serving\.[\s\S]*Agent-Session\s+5\s+1\s+4/)
  t.equal(await demo.stop(), 0, 'SIGTERM: a clean stop')
  t.notOk(existsSync(join(clean, 'node_modules')), 'nothing of a checkout in the clean directory')
})
