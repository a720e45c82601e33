// Benchmark: restart with 100,000 stored leases (issue 4, [LEASE-8], [SRV-8]).
// The store is filled through the store's own API (lib/store, what the daemon writes on each
// grant), then a real `flr serve` is started on it, stopped with SIGTERM and started again,
// three times. Ready is measured three ways: the spawn until the "serving" log line, the
// log's own timestamps (from the first line, so without Node's start-up), and the spawn until
// a client has renewed one of the stored leases. An empty store gives the fixed cost.
// Run: npm run build && node dist/bench/restart.js
import { randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { openLeaseStore } from '../lib/store/lease-store.js'
import { screenStore } from '../lib/store/store-screen.js'
import { SeatEngine } from '../lib/engine/engine.js'
import { memoryStore } from '../lib/engine/types.js'
import { systemClock } from '../lib/util/clock.js'
import {
  HOST_ID, RawConnection, fmt, freePort, log, percentile, serveDirs, sleep, startServe, tempDir, writeLpf,
  type ServeDirs, type ServerChild,
} from './common.js'

const STORED = 100_000
const PACK = { name: 'station', limit: STORED }
const RESTARTS = 3
const READY = /^LPF loaded: serving/
const RESTORED = /^restored \d+ lease/

interface Run {
  label: string
  restored: number
  /** spawn → "LPF loaded: serving" read by the bench */
  readyMs: number
  /** first log line → "restored N lease(s)", by the log's timestamps */
  logRestoreMs: number
  /** first log line → "LPF loaded: serving", by the log's timestamps */
  logReadyMs: number
  /** spawn → a stored lease renewed over TCP */
  renewMs: number
  /** SIGTERM → exit, and the exit code */
  stopMs: number
  stopCode: number | null
}

export async function benchRestart(): Promise<string> {
  log('restart: empty store')
  const empty = await setUp(0)
  const baseline = await startStop(empty.dirs, empty.port, 'empty store, first start', undefined, 0)

  log(`restart: filling the store with ${fmt.int(STORED)} leases`)
  const full = await setUp(STORED)
  const runs: Run[] = [await startStop(full.dirs, full.port, `${fmt.int(STORED)} stored leases, first start`, full.sample, STORED)]
  for (let i = 1; i <= RESTARTS; i++) {
    log(`restart: SIGTERM and restart ${i}/${RESTARTS}`)
    runs.push(await startStop(full.dirs, full.port, `after SIGTERM, restart ${i}`, full.sample, STORED))
  }
  log('restart: where the time goes (in this process)')
  const parts = await breakdown(full.dirs.stateDir)
  return render(baseline, runs, full.fillSeconds) + '\n\n' + parts
}

/**
 * The start-up steps on the request path of a restart, timed one by one in this process:
 * the store's screen ([LEASE-9], a child process reading the whole file; flr serve runs it
 * while its modules load), opening the store with that screen (reading and checking every
 * record), and the engine taking the leases back ([LEASE-8]) and applying the plan.
 */
async function breakdown(stateDir: string): Promise<string> {
  const time = async <T>(fn: () => T | Promise<T>): Promise<[T, number]> => {
    const start = performance.now()
    const value = await fn()
    return [value, performance.now() - start]
  }
  const [screen, probeMs] = await time(() => screenStore(stateDir))
  if (screen.error !== undefined) throw new Error(`the screen refuses the store: ${String(screen.error)}`)
  const [store, openMs] = await time(() => openLeaseStore({ stateDir, hostId: HOST_ID, screened: Promise.resolve(screen) }))
  const [records, loadMs] = await time(() => store.load())
  await store.close()
  const engine = new SeatEngine({ clock: systemClock(), store: memoryStore, ttlMs: 30_000 })
  const [restored, restoreMs] = await time(() => engine.restore(records))
  const [, applyMs] = await time(() => engine.applyPlan([{ ...PACK, licenses: '<licenses/>' }]))
  const inUse = engine.packs()[0]?.inUse
  engine.close()
  if (restored !== STORED || inUse !== STORED) throw new Error(`the engine took ${restored} leases back, ${inUse} in use; expected ${STORED}`)
  return [
    `Where a restart's time goes, each step timed alone in the bench process on the same ${fmt.int(STORED)}-lease store:`,
    '',
    '| step | time |',
    '|---|---:|',
    `| screenStore: the crash probe (lib/store/crash-probe.ts: a child \`node\` reads the whole file); flr serve runs it while its modules load | ${fmt.int(probeMs)} ms |`,
    `| openLeaseStore given that screen (open, read and check every record) | ${fmt.int(openMs)} ms |`,
    `| store.load() (hands back the records read at open) | ${fmt.int(loadMs)} ms |`,
    `| engine.restore (${fmt.int(STORED)} leases set aside with a fresh TTL) | ${fmt.int(restoreMs)} ms |`,
    `| engine.applyPlan (the leases join their pack) | ${fmt.int(applyMs)} ms |`,
  ].join('\n')
}

async function setUp(leases: number): Promise<{ dirs: ServeDirs; port: number; sample?: string; fillSeconds: number }> {
  const dirs = serveDirs(tempDir(`restart-${leases}`))
  const port = await freePort()
  writeLpf(dirs.licenseDir, port, [PACK])
  const started = performance.now()
  const sample = leases > 0 ? await fill(dirs.stateDir, leases) : undefined
  return { dirs, port, sample, fillSeconds: (performance.now() - started) / 1000 }
}

/** Writes `count` leases the way grants do (LmdbLeaseStore.put); returns one of their ids. */
async function fill(stateDir: string, count: number): Promise<string> {
  const store = await openLeaseStore({ stateDir, hostId: HOST_ID })
  const grantedAt = Date.now()
  let sample = ''
  try {
    const CHUNK = 10_000
    for (let from = 0; from < count; from += CHUNK) {
      const writes: Promise<void>[] = []
      for (let i = from; i < Math.min(count, from + CHUNK); i++) {
        const lease = randomBytes(16).toString('base64url')
        sample ||= lease
        writes.push(store.put({ lease, pack: PACK.name, holder: `holder-${i}`, client: `client-${i % 10_000}`, address: '127.0.0.1:40000', grantedAt }))
      }
      await Promise.all(writes)
    }
    if (store.count() !== count) throw new Error(`the store holds ${store.count()} leases, expected ${count}`)
  } finally {
    await store.close()
  }
  return sample
}

async function startStop(dirs: ServeDirs, port: number, label: string, sample: string | undefined, expected: number): Promise<Run> {
  // the client starts knocking as soon as the process is spawned, as a real one would
  const renewed = { at: NaN }
  let server: ServerChild | undefined
  const spawning = startServe(dirs, port, { readyPattern: READY }).then((s) => (server = s))
  const knocking = sample ? knockUntilRenewed(port, sample, () => (renewed.at = performance.now())) : Promise.resolve()
  try {
    await spawning
    await knocking
  } catch (e) {
    await server?.stop()
    throw e
  }
  const s = server!
  const first = s.logs[0]!
  const ready = await s.waitForLog(READY)
  const restoredLine = await s.waitForLog(RESTORED)
  const restored = Number(restoredLine.restored)
  if (restored !== expected) throw new Error(`${label}: the server restored ${restored} leases, expected ${expected}`)
  await sleep(200)
  const termAt = performance.now()
  const exit = await s.stop()
  return {
    label,
    restored,
    readyMs: ready.seenAt - s.spawnedAt,
    logRestoreMs: restoredLine.time - first.time,
    logReadyMs: ready.time - first.time,
    renewMs: sample ? renewed.at - s.spawnedAt : NaN,
    stopMs: exit.at - termAt,
    stopCode: exit.code,
  }
}

/** Connects every 10 ms until the port answers, then renews `lease`; it must be known. */
async function knockUntilRenewed(port: number, lease: string, done: () => void): Promise<void> {
  const deadline = performance.now() + 30_000
  for (;;) {
    let conn: RawConnection | undefined
    try {
      conn = await RawConnection.open(port, 'bench-restart')
    } catch {
      if (performance.now() > deadline) throw new Error(`port ${port} did not answer within 30 s`)
      await sleep(10)
      continue
    }
    try {
      const reply = await conn.request('renew', { lease })
      if (reply.ok) return done()
      // NOT_SERVING cannot happen once the port answers (the plan is applied in the same turn),
      // but a renew refused for any reason is retried until the deadline, then reported
      if (performance.now() > deadline) throw new Error(`renew of a stored lease refused: ${JSON.stringify(reply.error)}`)
    } finally {
      void conn.destroy()
    }
    await sleep(10)
  }
}

function render(baseline: Run, runs: Run[], fillSeconds: number): string {
  const restarts = runs.slice(1)
  const median = (pick: (r: Run) => number) => percentile(restarts.map(pick).sort((a, b) => a - b), 50)
  const worstRenew = Math.max(...restarts.map((r) => r.renewMs))
  const row = (r: Run) =>
    `| ${r.label} | ${fmt.int(r.restored)} | ${fmt.int(r.readyMs)} ms | ${fmt.int(r.logRestoreMs)} ms | ${fmt.int(r.logReadyMs)} ms | ${Number.isNaN(r.renewMs) ? '—' : `${fmt.int(r.renewMs)} ms`} | ${fmt.int(r.stopMs)} ms (exit ${r.stopCode}) |`
  return [
    `### Restart with ${fmt.int(STORED)} stored leases`,
    '',
    `The store was filled through LmdbLeaseStore.put (what each grant writes) in ${fillSeconds.toFixed(1)} s. ` +
      'Each run spawns `node bin/flr.js serve` on it; "ready" is the `LPF loaded: serving` log line; "log" columns use the log\'s own timestamps from its first line ' +
      '(so they leave out Node\'s start-up and module loading); "renewed" is when a client, knocking every 10 ms from the spawn, has renewed one of the stored leases.',
    '',
    '| run | restored | spawn → ready | log: start → restored | log: start → ready | spawn → stored lease renewed | SIGTERM → exit |',
    '|---|---:|---:|---:|---:|---:|---:|',
    row(baseline),
    ...runs.map(row),
    '',
    `Target: restart with ${fmt.int(STORED)} leases ready in under 1 s: ${fmt.verdict(worstRenew < 1_000)} ` +
      `(median of ${RESTARTS} restarts: ready ${fmt.int(median((r) => r.readyMs))} ms after the spawn, a stored lease renewed at ${fmt.int(median((r) => r.renewMs))} ms; worst ${fmt.int(worstRenew)} ms). ` +
      `[SRV-8] exit within 5 s of SIGTERM: ${fmt.verdict(runs.every((r) => r.stopMs < 5_000 && r.stopCode === 0))}.`,
  ].join('\n')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const watchdog = setTimeout(() => {
    process.stderr.write('bench/restart: over its time budget (120 s); giving up\n')
    process.exit(1)
  }, 120_000)
  watchdog.unref()
  benchRestart().then(
    (markdown) => {
      process.stdout.write(markdown + '\n')
      process.exit(0)
    },
    (err) => {
      process.stderr.write(`bench/restart failed: ${(err as Error).stack ?? err}\n`)
      process.exit(1)
    },
  )
}
