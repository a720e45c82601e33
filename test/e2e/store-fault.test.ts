// [LEASE-10] The real `flr serve` with its state directory on a file system that fills up
// under load, or that the kernel makes read-only, or that fails with I/O errors: the server
// stays up, refuses grants and releases with STORE_UNAVAILABLE, renews, says so through
// health and once in the log, resumes by itself once the file system is fixed, and a kill -9
// afterwards restores every acknowledged lease ([LEASE-8]).
import t, { type Test } from 'tap'
import { dropLpf, freePort, makeDirs, type Dirs, type ServeProcess } from '../helpers/server.js'
import { errorCode, eventually, killHard, rawClient, startServing, type Message, type RawClient } from '../helpers/crash.js'
import { fillUp, mountExt4, mountTmpfs, removeFiller, type Mounted } from '../helpers/small-fs.js'

// a TTL far longer than the test: a lease that disappears was lost, not expired
const SERVE_ARGS = ['--lease-ttl', '10m', '--http-port', '0']
const FAULT_LOG = /^lease store cannot write/
const RECOVERY_LOG = /^lease store writes again/

interface Served {
  serve: ServeProcess
  client: RawClient
  http: number
}

async function serveOn(t: Test, dirs: Dirs, port: number): Promise<Served> {
  const serve = await startServing(t, dirs, SERVE_ARGS)
  const http = Number((await serve.waitForLog(/^HTTP shim listening/)).port)
  return { serve, client: await rawClient(t, port, 'fault-test'), http }
}

async function health(port: number): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}/api/1.0/health`)
  return { status: res.status, body: await res.json() }
}

/** Dirs whose state directory is the mounted file system; licenses and logs stay elsewhere. */
function dirsOn(dirs: Dirs, fsys: Mounted): Dirs {
  return { ...dirs, stateDir: fsys.dir }
}

/** Leases with `workers` concurrent requests until one is refused; returns the granted ids and the refusal. */
async function leaseUntilRefused(client: RawClient, workers: number): Promise<{ granted: string[]; refusal: Message }> {
  const granted: string[] = []
  let refusal: Message | undefined
  let n = 0
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!refusal && n < 100_000) {
        const reply = await client.request('lease', { pack: 'cad', holder: `load-${n++}-${'h'.repeat(100)}` })
        if (reply.ok) granted.push(reply.lease as string)
        else refusal ??= reply
      }
    }),
  )
  return { granted, refusal: refusal! }
}

/** What must hold while the store cannot write, `cause` being how the message names it. */
async function checkRefusing(t: Test, s: Served, held: string, cause: RegExp): Promise<void> {
  t.equal((await s.client.request('ping')).ok, true, 'the server is up')
  const lease = await s.client.request('lease', { pack: 'cad', holder: 'refused-while-down' })
  t.equal(errorCode(lease), 'STORE_UNAVAILABLE', 'a grant is refused with STORE_UNAVAILABLE')
  t.match((lease.error as Message).message, cause, 'whose message names the cause and the place')
  const release = await s.client.request('release', { lease: held })
  t.equal(errorCode(release), 'STORE_UNAVAILABLE', 'a release is refused with STORE_UNAVAILABLE')
  const renew = await s.client.request('renew', { lease: held })
  t.equal(renew.ok, true, 'renewals work, the refused release left the lease as it was')
  const status = await s.client.request('status')
  t.equal(status.ok, true, 'status works')
  t.match(status.storeError, { code: 'STORE_UNAVAILABLE', message: cause }, 'and shows the store error')
  const h = await health(s.http)
  t.equal(h.status, 503, 'health answers 503')
  t.match(h.body.GLS.database.connectionCheck, /^failure: /)
  t.match(h.body.GLS.database.connectionCheck, cause, 'connectionCheck names the problem')
  t.match(h.body, { serving: false, reason: { code: 'STORE_UNAVAILABLE' } })
  for (let i = 0; i < 20; i++) await s.client.request('lease', { pack: 'cad', holder: `again-${i}` })
  t.equal(s.serve.logs.filter((l) => FAULT_LOG.test(String(l.msg))).length, 1, 'the log says it once, not once per request')
}

/** After the fix: health 200, the next grant and release work, the log says so once. */
async function checkResumed(t: Test, s: Served): Promise<{ granted: string; released: string }> {
  t.ok(await eventually(async () => (await health(s.http)).status === 200, 60_000, 200), 'health is 200 again, with no restart')
  const grant = await s.client.request('lease', { pack: 'cad', holder: 'after-the-fix' })
  t.equal(grant.ok, true, 'the next grant succeeds')
  const spare = await s.client.call('lease', { pack: 'cad', holder: 'to-release' })
  t.equal((await s.client.request('release', { lease: spare.lease })).ok, true, 'and a release')
  t.equal(s.serve.logs.filter((l) => RECOVERY_LOG.test(String(l.msg))).length, 1, 'the log says once that it writes again')
  return { granted: grant.lease as string, released: spare.lease as string }
}

/** [LEASE-8] kill -9, restart: every acknowledged lease renews, the released one is unknown. */
async function checkRestart(t: Test, dirs: Dirs, port: number, s: Served, held: string[], released: string): Promise<void> {
  await killHard(s.serve)
  const again = await serveOn(t, dirs, port)
  const lost: string[] = []
  for (const lease of held) if (!(await again.client.request('renew', { lease })).ok) lost.push(lease)
  t.same(lost, [], `[LEASE-8] every acknowledged lease (${held.length}) came back after kill -9`)
  t.equal(errorCode(await again.client.request('renew', { lease: released })), 'LEASE_UNKNOWN', 'the acknowledged release stays released')
}

t.test('[LEASE-10] a state directory that fills up under load: refused, renewed, reported, resumed, nothing lost', async (t) => {
  const base = makeDirs(t)
  const fsys = mountTmpfs(t, 8 * 1024 * 1024, base.root)
  if (!fsys) return
  const dirs = dirsOn(base, fsys)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: [{ name: 'cad', limit: 1_000_000 }] })
  const s = await serveOn(t, dirs, port)
  const first = await s.client.call('lease', { pack: 'cad', holder: 'before' })
  const held = [first.lease as string]

  // most of the space goes to a filler; the grants under load take the rest. (LMDB's file is
  // not preallocated: it grows as pages are written, and a write the full tmpfs cuts short is
  // reported by LMDB as EIO, which flr names "full" by looking at the file system.)
  const filler = fillUp(fsys.dir, 512 * 1024)
  const { granted, refusal } = await leaseUntilRefused(s.client, 16)
  t.ok(granted.length > 0, 'grants were acknowledged under load until the file system was full')
  held.push(...granted)
  const cause = new RegExp(`the file system of ${fsys.dir} is full: free space there; flr resumes by itself`)
  t.equal(errorCode(refusal), 'STORE_UNAVAILABLE', `refused with STORE_UNAVAILABLE after ${granted.length} grants under load`)
  t.match((refusal.error as Message).message, cause)
  await checkRefusing(t, s, held[0]!, cause)

  removeFiller(filler)
  const { granted: after, released } = await checkResumed(t, s)
  held.push(after)
  await checkRestart(t, dirs, port, s, held, released)
})

for (const how of ['read-only', 'io'] as const) {
  const cause = how === 'read-only' ? 'is read-only' : 'reports an I/O error'
  t.test(`[LEASE-10] a state directory whose file system goes ${how === 'io' ? 'bad (I/O errors)' : 'read-only'}: refused, reported, resumed after the repair, nothing lost`, async (t) => {
    // plain `mount -o remount,ro` is refused (EBUSY) while flr holds the store open for
    // writing; a file system goes read-only under a running server when the kernel remounts it
    // so after an error (errors=remount-ro), which is what breakIt('read-only') makes happen
    const base = makeDirs(t)
    const disk = mountExt4(t, 32 * 1024 * 1024, base.root)
    if (!disk) return
    const dirs = dirsOn(base, disk)
    const port = await freePort()
    dropLpf(dirs.licenseDir, { port, packs: [{ name: 'cad', limit: 1_000 }] })
    const s = await serveOn(t, dirs, port)
    const held: string[] = []
    for (let i = 0; i < 20; i++) held.push((await s.client.call('lease', { pack: 'cad', holder: `before-${i}` })).lease as string)

    disk.breakIt(how)
    const refusal = await s.client.request('lease', { pack: 'cad', holder: 'first-refused' })
    t.equal(errorCode(refusal), 'STORE_UNAVAILABLE', 'the first grant that cannot be written is refused')
    await checkRefusing(t, s, held[0]!, new RegExp(`the file system of ${disk.dir} ${cause}`))

    // the admin repairs the file system while flr runs: flr lets go of the file for that
    t.ok(await eventually(() => repaired(disk), 60_000, 500), 'the file system can be unmounted, checked and mounted again')
    const { granted, released } = await checkResumed(t, s)
    held.push(granted)
    await checkRestart(t, dirs, port, s, held, released)
  })
}

function repaired(disk: { repair(): void }): boolean {
  try {
    disk.repair()
    return true
  } catch {
    return false
  }
}
