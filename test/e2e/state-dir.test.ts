// [SRV-7] one daemon per state directory and per port; [LEASE-9] a store from another host
// or a damaged one stops `flr serve` at the door, with a message, and is left as it was.
import t, { type Test } from 'tap'
import { closeSync, cpSync, existsSync, openSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { STORE_FILE } from '../../lib/store/lease-store.js'
import { LOCK_FILE } from '../../lib/store/state-lock.js'
import { dropLpf, freePort, HOST_ID, lpfText, makeDirs, type Dirs } from '../helpers/server.js'
import { fileDigests, killHard, rawClient, runFlr, serveArgs, siblingDirs, signalServe, startServing, type FlrRun } from '../helpers/crash.js'
import { startChild, waitForLine } from '../store/fixtures.js'

const PACKS = [{ name: 'cad', limit: 500 }]
const OTHER_HOST = 'Lnx-OTHR-HOST-2222-BBBB'

/** A state directory whose store holds `count` leases (granted by a real server, stopped cleanly). */
async function stoppedStore(t: Test, count: number): Promise<{ dirs: Dirs; port: number; leases: string[] }> {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: PACKS })
  const serve = await startServing(t, dirs)
  const client = await rawClient(t, port, 'store-filler')
  const replies = await Promise.all(Array.from({ length: count }, (_, i) => client.call('lease', { pack: 'cad', holder: `holder-${i}` })))
  await client.close()
  signalServe(serve, 'SIGTERM')
  await serve.exited
  return { dirs, port, leases: replies.map((r) => r.lease as string) }
}

/** What [LEASE-9] and [SRV-7] want from a refusal: exit 1, the code and a message on stderr, nothing served. */
function assertRefusal(t: Test, run: FlrRun, code: string): void {
  t.equal(run.code, 1, `exits 1 (${code})`, { stderr: run.stderr })
  t.match(run.stderr, `flr: ${code}: `, `stderr names ${code}`)
  t.notMatch(run.stdout, /listening for leases|LPF loaded/, 'it served nothing')
  const logged = logLines(run.stdout).find((l) => /^not starting: /.test(String(l.msg)))
  t.equal(logged?.code, code, `the log (stdout, flr.log) has the refusal with its code too`)
}

function logLines(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>]
    } catch {
      return []
    }
  })
}

/** The store files are untouched by a refused start; LMDB's own lock file is not data. */
function storeDigests(stateDir: string): Record<string, string> {
  const digests = fileDigests(stateDir)
  delete digests[`${STORE_FILE}-lock`]
  return digests
}

// ---- [SRV-7] ----

t.test('[SRV-7] a second flr serve on the same state directory exits 1 with STATE_LOCKED; the first keeps serving', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: PACKS })
  const first = await startServing(t, dirs)
  const client = await rawClient(t, port, 'first-client')
  const lease = (await client.call('lease', { pack: 'cad' })).lease as string
  const lockBefore = readFileSync(join(dirs.stateDir, LOCK_FILE), 'utf8')

  const second = await runFlr(serveArgs(dirs))
  assertRefusal(t, second, 'STATE_LOCKED')
  t.match(second.stderr, `pid ${first.child.pid}`, 'the message names the running server by pid')
  t.match(second.stderr, dirs.stateDir, 'and the state directory')
  t.match(second.stderr, /stop it first, or give this one its own --state-dir/, 'and says what to do')

  t.equal(readFileSync(join(dirs.stateDir, LOCK_FILE), 'utf8'), lockBefore, "the first server's lock is untouched")
  t.equal(first.child.exitCode, null, 'the first server still runs')
  t.ok((await client.request('renew', { lease })).ok, 'and still renews its lease')
  t.ok((await client.request('lease', { pack: 'cad', holder: 'another' })).ok, 'and still grants new ones')
  await killHard(first)
})

t.test('[SRV-7] a stale lock left by a kill -9 does not block a restart', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: PACKS })
  const first = await startServing(t, dirs)
  const client = await rawClient(t, port, 'stale-client')
  const lease = (await client.call('lease', { pack: 'cad' })).lease as string
  const killedPid = first.child.pid
  await killHard(first)
  t.match(readFileSync(join(dirs.stateDir, LOCK_FILE), 'utf8'), `${killedPid}\n`, 'the killed server left its lock behind')

  const again = await startServing(t, dirs)
  const stale = again.logs.find((l) => /stale state-directory lock/.test(String(l.msg)))
  t.equal(stale?.stalePid, killedPid, 'the restart logs that it took over the dead pid lock (stalePid: pid is its own)')
  t.match(readFileSync(join(dirs.stateDir, LOCK_FILE), 'utf8'), `${again.child.pid}\n`, 'the lock is now the new server')
  const fresh = await rawClient(t, port, 'stale-client-again')
  t.ok((await fresh.request('renew', { lease })).ok, '[LEASE-8] and the lease granted before the kill renews')
  await killHard(again)
})

t.test('[SRV-7] a second server whose LPF port is held by the first exits 1 with PORT_IN_USE', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: PACKS })
  const first = await startServing(t, dirs)
  const client = await rawClient(t, port, 'port-client')

  const other = siblingDirs(dirs, 'second')
  dropLpf(other.licenseDir, { port, packs: PACKS })
  const second = await runFlr(serveArgs(other))
  assertRefusal(t, second, 'PORT_IN_USE')
  t.match(second.stderr, String(port), 'the message names the port')
  t.notOk(existsSync(join(other.stateDir, LOCK_FILE)), 'the refused server released its state-directory lock')
  t.ok((await client.request('lease', { pack: 'cad' })).ok, 'the first server still grants leases on that port')
  await killHard(first)
})

// ---- [LEASE-9] ----

t.test('[LEASE-9] a store copied to another host id: flr serve refuses with STORE_WRONG_HOST, the files untouched', async (t) => {
  const { dirs: original, leases } = await stoppedStore(t, 20)
  const copy = siblingDirs(original, 'copy')
  cpSync(original.stateDir, copy.stateDir, { recursive: true })
  const port = await freePort()
  // a valid LPF for the other host: [SRV-1] would start without one, so the store must be what refuses
  dropLpf(copy.licenseDir, { port, packs: PACKS, hostId: OTHER_HOST })
  const before = storeDigests(copy.stateDir)

  const run = await runFlr(serveArgs(copy, [], OTHER_HOST))
  assertRefusal(t, run, 'STORE_WRONG_HOST')
  t.match(run.stderr, `belongs to host ${HOST_ID}`, 'the message names the host the store belongs to')
  t.match(run.stderr, `this server is host ${OTHER_HOST}`, 'and this host')
  t.match(run.stderr, `--host-id ${HOST_ID}`, 'and says how to start as the stored host')
  t.match(run.stderr, /fresh --state-dir/, 'or to use a fresh state directory')
  t.same(storeDigests(copy.stateDir), before, 'every file in the state directory is byte-identical, none added or removed')

  // an LPF of the original host dropped under the new name is LPF_WRONG_HOST: [SRV-1] would
  // serve on without it, so again only the store can be what refuses
  writeFileSync(join(copy.licenseDir, `${OTHER_HOST}.lp`), lpfText({ port, packs: PACKS }))
  const again = await runFlr(serveArgs(copy, [], OTHER_HOST))
  assertRefusal(t, again, 'STORE_WRONG_HOST')
  t.same(storeDigests(copy.stateDir), before, 'still byte-identical')

  // the copy still belongs to its host: started as that host, every lease is there
  dropLpf(copy.licenseDir, { port, packs: PACKS })
  const owner = await startServing(t, copy)
  const client = await rawClient(t, port, 'owner-client')
  const renewed = await Promise.all(leases.map((lease) => client.request('renew', { lease })))
  t.ok(renewed.every((r) => r.ok), `started with --host-id ${HOST_ID}, all ${leases.length} leases renew`)
  await killHard(owner)
})

t.test('[LEASE-9] a store file overwritten in the middle: STORE_DAMAGED, the files untouched', async (t) => {
  const { dirs, leases } = await stoppedStore(t, 300)
  const file = join(dirs.stateDir, STORE_FILE)
  const pages = pagesHolding(file, leases[150]!)
  t.ok(pages.length > 0 && pages.every((p) => p >= 2), `lease ${leases[150]} is in ${pages.length} data page(s) of the store, past LMDB's two header pages`)
  // LMDB has no checksums: garbage in a free page is never read (and harms nothing), so the
  // damage goes where it matters, every page holding a copy of one lease, in the middle of the file
  for (const page of pages) overwrite(file, page * PAGE, Buffer.alloc(PAGE, 0xab))
  const before = storeDigests(dirs.stateDir)

  const run = await runFlr(serveArgs(dirs))
  assertRefusal(t, run, 'STORE_DAMAGED')
  assertDamageAdvice(t, run, file)
  t.same(storeDigests(dirs.stateDir), before, 'every file in the state directory is byte-identical, none added or removed')
  t.notOk(existsSync(join(dirs.stateDir, LOCK_FILE)), 'the refused server released its state-directory lock')
})

t.test('[LEASE-9] a truncated store file: STORE_DAMAGED, the file untouched', async (t) => {
  const { dirs } = await stoppedStore(t, 300)
  const file = join(dirs.stateDir, STORE_FILE)
  const size = statSync(file).size
  truncateSync(file, Math.floor(size / PAGE / 2) * PAGE)
  const before = storeDigests(dirs.stateDir)

  const run = await runFlr(serveArgs(dirs))
  assertRefusal(t, run, 'STORE_DAMAGED')
  assertDamageAdvice(t, run, file)
  t.same(storeDigests(dirs.stateDir), before, 'the truncated file is byte-identical: nothing repaired, nothing wiped')
  t.ok(statSync(file).size < size, 'and still truncated')
})

t.test('[SRV-7] [LEASE-9] a damaged store in a directory another process has locked: STATE_LOCKED, the lock is checked first', async (t) => {
  // flr serve screens the store while it starts up, before it takes the lock: what the
  // screen finds must wait for the lock, and must not end the process some other way
  const { dirs } = await stoppedStore(t, 300)
  const file = join(dirs.stateDir, STORE_FILE)
  truncateSync(file, 8192)
  const holder = startChild('hold-lock.mjs', [dirs.stateDir])
  t.teardown(() => holder.kill('SIGKILL'))
  await waitForLine(holder, 'locked')
  const before = storeDigests(dirs.stateDir)

  const run = await runFlr(serveArgs(dirs))
  assertRefusal(t, run, 'STATE_LOCKED')
  t.match(run.stderr, `pid ${holder.pid}`, 'the message names the process holding the lock')
  t.notMatch(run.stderr, /STORE_DAMAGED|is damaged/, 'and not the damage it has no right to act on yet')
  t.same(storeDigests(dirs.stateDir), before, 'every file in the state directory is byte-identical')
})

const PAGE = 4096

// The store's own tests pin the wording; here: the file, the problem, the way out, no wipe.
function assertDamageAdvice(t: Test, run: FlrRun, file: string): void {
  t.match(run.stderr, `the lease store ${file} is damaged`, 'the message names the file and says it is damaged')
  t.match(run.stderr, /move .* aside/, 'says to move it aside')
  t.match(run.stderr, /backup/, 'or to restore a backup')
  t.match(run.stderr, /never wipes it/, 'and that flr does not wipe it')
}

/** Page numbers (LMDB's 4 KiB pages) whose bytes contain the lease id. */
function pagesHolding(file: string, lease: string): number[] {
  const bytes = readFileSync(file)
  const needle = Buffer.from(lease)
  const pages = new Set<number>()
  for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1)) pages.add(Math.floor(at / PAGE))
  return [...pages]
}

function overwrite(file: string, position: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+')
  try {
    writeSync(fd, bytes, 0, bytes.length, position)
  } finally {
    closeSync(fd)
  }
}
