// Benchmark: the usage history ([OBS-2], [OBS-3], issue 15).
//  1. lease→release throughput of the real `flr serve` with the history recorded and without
//     it (--history-days 0), the same build, in one run, rounds alternating (target: the
//     history costs ≤ 10%).
//  2. one year of history, 100 packs, 20,000 leases a day (7.3 M leases, 14.6 M events, and
//     1,000 denials a day): its size on disk, the one-time roll-up of its days, and
//     `flr report` for the whole year against a running server (target: under 2 s).
// FLR_BENCH_HISTORY_DAYS shortens part 2 (default 365). Prints markdown on stdout.
// Run: npm run build && node dist/bench/history.js
import { spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import {
  FLR_BIN, HOST_ID, expectOk, fmt, freePort, log, mergeLoads, removeTempDir, runLoad, serveDirs, startServe, tempDir, writeLpf, type LoadResult,
} from './common.js'
import { openLeaseStore } from '../lib/store/lease-store.js'
import type { HistoryEvent, HistoryNote } from '../lib/engine/types.js'
import { Roller } from '../lib/report/rollup.js'
import { usageReport } from '../lib/report/report.js'

const CONNS = 32
const IN_FLIGHT = 8
const ROUNDS = 4
const CYCLE_PACK = { name: 'station', limit: 1_000 }
const DAYS = Number(process.env.FLR_BENCH_HISTORY_DAYS ?? 365)
const PACKS = 100
const LEASES_PER_DAY = 20_000
const DENIALS_PER_DAY = 1_000
const DAY_MS = 86_400_000

export async function benchHistory(): Promise<string> {
  return [await throughput(), await yearOfHistory()].join('\n\n')
}

// ---- 1. the cost of recording ----

async function throughput(): Promise<string> {
  const servers = [
    { label: 'history recorded (default)', ...(await startFlr([])) },
    { label: 'history off (--history-days 0)', ...(await startFlr(['--history-days', '0'])) },
  ]
  const results: LoadResult[][] = servers.map(() => [])
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, server] of servers.entries()) {
      log(`lease→release, round ${round}/${ROUNDS}: ${server.label}`)
      results[i]!.push(await leaseRelease(server.pid, server.port))
    }
  }
  for (const server of servers) await server.stop()
  const merged = results.map(mergeLoads)
  const rate = (r: LoadResult) => r.requests / r.seconds
  const cost = 1 - rate(merged[0]!) / rate(merged[1]!)
  return [
    `lease→release over TCP, ${CONNS} connections × ${IN_FLIGHT} in flight, durable acks, state directory on the disk, ${ROUNDS} interleaved rounds of 2 s each:`,
    '',
    '| server | requests/s | server CPU per request |',
    '|---|---:|---:|',
    ...servers.map((s, i) => `| ${s.label} | ${fmt.int(rate(merged[i]!))} | ${fmt.us(merged[i]!.serverCpuUs / merged[i]!.requests)} |`),
    '',
    `History costs ${fmt.pct(Math.max(0, cost))} of throughput (target ≤ 10%: ${fmt.verdict(cost <= 0.1)}).`,
  ].join('\n')
}

async function startFlr(args: string[]) {
  const root = tempDir('history-bench')
  const dirs = serveDirs(root)
  const port = await freePort()
  writeLpf(dirs.licenseDir, port, [CYCLE_PACK])
  const server = await startServe(dirs, port, { args: ['--no-http', ...args] })
  return {
    pid: server.pid,
    port,
    stop: async () => {
      await server.stop()
      removeTempDir(root)
    },
  }
}

function leaseRelease(pid: number, port: number): Promise<LoadResult> {
  const leasing: boolean[] = []
  return runLoad({
    port, conns: CONNS, inFlight: IN_FLIGHT, warmupMs: 1_000, durationMs: 2_000, serverPid: pid,
    next: (slot, reply, frame) => {
      if (reply !== undefined) expectOk(reply, leasing[slot] ? 'lease' : 'release')
      if (leasing[slot]) {
        leasing[slot] = false
        return frame({ op: 'release', lease: reply!.lease })
      }
      leasing[slot] = true
      return frame({ op: 'lease', pack: CYCLE_PACK.name, holder: `slot-${slot}` })
    },
  })
}

// ---- 2. a year of history ----

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32)
}

/** One day's events in time order: leases of 1 min to ~4 h that end the same day, denials. */
function day(start: number, r: () => number, n: { lease: number }): HistoryEvent[] {
  const events: HistoryEvent[] = []
  for (let i = 0; i < LEASES_PER_DAY; i++) {
    const pack = `pack-${String(Math.floor(r() * PACKS)).padStart(3, '0')}`
    const holder = `user-${Math.floor(r() * 2_000)}`
    const at = start + Math.floor(r() * (DAY_MS - 60_000))
    const end = Math.min(start + DAY_MS - 1, at + 60_000 + Math.floor(-Math.log(1 - r()) * 3_600_000))
    const lease = `L${(n.lease++).toString(36).padStart(21, '0')}`
    events.push({ kind: 'grant', at, lease, pack, holder, client: `${holder}-ws.example.com`, address: `10.1.${Math.floor(r() * 250)}.${Math.floor(r() * 250)}`, waitedMs: r() < 0.9 ? 0 : Math.floor(r() * 120_000) })
    events.push({ kind: 'end', at: end, lease, pack, holder, how: r() < 0.8 ? 'released' : 'expired' })
  }
  for (let i = 0; i < DENIALS_PER_DAY; i++) {
    const pack = `pack-${String(Math.floor(r() * PACKS)).padStart(3, '0')}`
    events.push({ kind: 'denial', at: start + Math.floor(r() * DAY_MS), pack, holder: `user-${Math.floor(r() * 2_000)}`, code: r() < 0.5 ? 'PACK_EXHAUSTED' : 'WAIT_TIMEOUT', waitedMs: 0 })
  }
  return events.sort((a, b) => a.at - b.at)
}

async function yearOfHistory(): Promise<string> {
  const root = tempDir('history-year')
  const dirs = serveDirs(root)
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS
  const first = today - DAYS * DAY_MS
  const store = await openLeaseStore({ stateDir: dirs.stateDir, hostId: HOST_ID })
  const history = store.history!
  const r = rng(42)
  const n = { lease: 0 }
  log(`writing ${DAYS} days of history (${fmt.int(DAYS * LEASES_PER_DAY)} leases)`)
  const t0 = performance.now()
  await history.append(Array.from({ length: PACKS }, (_, p) => ({ kind: 'limit' as const, at: first, pack: `pack-${String(p).padStart(3, '0')}`, limit: 20 })))
  for (let d = 0; d < DAYS; d++) {
    const events = day(first + d * DAY_MS, r, n)
    // the same bytes as put/remove write (history-codec.ts), in batches: a generator, not the engine
    for (let i = 0; i < events.length; i += 10_000) await history.append(events.slice(i, i + 10_000) as unknown as HistoryNote[])
    if (d % 30 === 29) log(`  ${d + 1} days written`)
  }
  const writeS = (performance.now() - t0) / 1000
  const eventsBytes = statSync(join(dirs.stateDir, 'leases.mdb')).size
  log('rolling up the days')
  const t1 = performance.now()
  await new Roller(history).catchUp(Date.now())
  const rollS = (performance.now() - t1) / 1000
  const inProcess = async (by: 'day' | 'month') => {
    const t = performance.now()
    const report = await usageReport(history, new Roller(history), { from: first, to: today, by }, Date.now())
    return { ms: performance.now() - t, rows: report.rows.length }
  }
  const byDay = await inProcess('day')
  const byMonth = await inProcess('month')
  await store.close()
  const fileBytes = statSync(join(dirs.stateDir, 'leases.mdb')).size

  log('flr report against a running server')
  const port = await freePort()
  writeLpf(dirs.licenseDir, port, [{ name: 'pack-000', limit: 20 }])
  const server = await startServe(dirs, port, { args: ['--no-http'] })
  const from = new Date(first).toISOString().slice(0, 10)
  const to = new Date(today - DAY_MS).toISOString().slice(0, 10)
  const cli = (by: string) => {
    const t = performance.now()
    const run = spawnSync(process.execPath, [FLR_BIN, 'report', '--server', `127.0.0.1:${port}`, '--from', from, '--to', to, '--by', by, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 })
    const ms = performance.now() - t
    if (run.status !== 0) throw new Error(`flr report failed: ${run.stderr}`)
    return { ms, rows: (JSON.parse(run.stdout) as { rows: unknown[] }).rows.length }
  }
  const cliDay = cli('day')
  const cliMonth = cli('month')
  await server.stop()
  removeTempDir(root)
  const leases = DAYS * LEASES_PER_DAY
  return [
    `${DAYS} days of history: ${PACKS} packs, ${fmt.int(LEASES_PER_DAY)} leases and ${fmt.int(DENIALS_PER_DAY)} denials a day (${fmt.int(leases)} leases, ${fmt.int(leases * 2 + DAYS * DENIALS_PER_DAY)} events):`,
    '',
    '| what | figure |',
    '|---|---:|',
    `| writing it (generator, batches of 10,000 events) | ${writeS.toFixed(1)} s |`,
    `| size on disk, events only | ${fmt.mb(eventsBytes)} (${(eventsBytes / leases).toFixed(0)} bytes per lease) |`,
    `| rolling up every day, once (then one day a day, in the background) | ${rollS.toFixed(1)} s |`,
    `| size on disk with the rollups | ${fmt.mb(fileBytes)} |`,
    `| report, in process, by day (${fmt.int(byDay.rows)} rows) | ${fmt.ms(byDay.ms)} |`,
    `| report, in process, by month (${fmt.int(byMonth.rows)} rows) | ${fmt.ms(byMonth.ms)} |`,
    `| \`flr report --by day --json\` end to end, against a running server (${fmt.int(cliDay.rows)} rows) | ${fmt.ms(cliDay.ms)} |`,
    `| \`flr report --by month --json\` end to end (${fmt.int(cliMonth.rows)} rows) | ${fmt.ms(cliMonth.ms)} |`,
    '',
    `\`flr report\` for the whole period under 2 s: ${fmt.verdict(Math.max(cliDay.ms, cliMonth.ms) < 2_000)}.`,
  ].join('\n')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchHistory().then(
    (markdown) => {
      process.stdout.write(markdown + '\n')
      process.exit(0)
    },
    (err) => {
      process.stderr.write(`bench/history failed: ${(err as Error).stack ?? err}\n`)
      process.exit(1)
    },
  )
}
