// Benchmark: the PostgreSQL lease store (issue 14 (c) and (d)).
//  (c) lease→release at 32 connections × 8 in flight over TCP, against a real `flr serve` on
//      the LMDB store (state dir on disk) and one on PostgreSQL (`--store postgres://…`, an
//      embedded PostgreSQL on this machine, fsync on), in the same run, rounds interleaved.
//      The PostgreSQL node is a cluster of one: it leads, and every commit is fenced ([HA-3]).
//  (d) a new leader restoring 100,000 leases: the store's load() alone, and a node that starts
//      on a database holding them, as its log says (`leading (term N): restored … (ms)`).
// Prints markdown on stdout, progress on stderr.
// Run: npm run build && node dist/bench/pg-store.js
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import { openPgLeaseStore } from '../lib/store/pg-lease-store.js'
import { SeatEngine } from '../lib/engine/engine.js'
import { memoryStore, type LeaseRecord } from '../lib/engine/types.js'
import { systemClock } from '../lib/util/clock.js'
import { launchPostgres, type EmbeddedServer } from './embedded-pg.js'
import {
  expectOk, fmt, freePort, log, mergeLoads, percentile, processCpuUs, removeTempDir, runLoad, serveDirs, startServe, tempDir, writeLpf,
  type LoadResult,
} from './common.js'

const CONNS = 32
const IN_FLIGHT = 8
const WARMUP_MS = 1_000
const DURATION_MS = 2_000
const ROUNDS = 3
const CYCLE_PACK = { name: 'station', limit: 1_000 }
const RESTORE = 100_000
const TARGET_RPS = 30_000
const TARGET_RESTORE_MS = 2_000

interface Node {
  label: string
  pid: number
  port: number
  /** CPU of the database's processes, when the node has one (µs so far) */
  dbCpuUs?: () => number
  stop(): Promise<void>
}

export async function benchPgStore(): Promise<string> {
  log('starting an embedded PostgreSQL')
  const db = await launchPostgres()
  const dirs: string[] = []
  try {
    const cycle = await benchCycle(db, dirs)
    const restore = await benchRestore(db, dirs)
    return [cycle, restore].join('\n\n')
  } finally {
    await db.destroy()
    for (const dir of dirs) removeTempDir(dir)
  }
}

// ---- (c) lease → release ----

async function benchCycle(db: EmbeddedServer, dirs: string[]): Promise<string> {
  const url = await db.database('flr_cycle')
  const nodes: Node[] = [
    await startNode('flr serve, LMDB store, state dir on disk', [], dirs),
    { ...(await startNode('flr serve, PostgreSQL store (embedded, same machine, fsync on)', ['--store', url, '--advertise', '127.0.0.1'], dirs)), dbCpuUs: () => postgresCpuUs(db) },
  ]
  const results: LoadResult[][] = nodes.map(() => [])
  const dbCpu: number[] = nodes.map(() => 0)
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, node] of nodes.entries()) {
      log(`lease→release, round ${round}/${ROUNDS}: ${node.label}`)
      const before = node.dbCpuUs?.() ?? 0
      results[i]!.push(await leaseRelease(node))
      dbCpu[i]! += (node.dbCpuUs?.() ?? 0) - before
    }
  }
  for (const node of nodes) await node.stop()
  const rows = nodes.map((node, i) => ({ node, r: mergeLoads(results[i]!), dbCpuUs: dbCpu[i]! }))
  const pgRow = rows[1]!
  const rate = (r: LoadResult) => r.requests / r.seconds
  return [
    `### Lease → release, ${CONNS} connections × ${IN_FLIGHT} in flight, LMDB against PostgreSQL`,
    '',
    `Each slot leases (its own holder) then releases; one request is a lease or a release, each acknowledged only once committed ([LEASE-7]). ` +
      `${ROUNDS} rounds alternate between the two nodes, each window ${DURATION_MS / 1000} s after ${WARMUP_MS / 1000} s of warm-up, pooled. ` +
      'The database CPU is that of every PostgreSQL process (it runs on the same 2 cores as the node and the generator); the window\'s CPU includes the rounds\' warm-ups for it.',
    '',
    '| server | requests/s | lease+release/s | p50 | p99 | max | flr CPU / request | PostgreSQL CPU / request | generator CPU busy |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(({ node, r, dbCpuUs }) =>
      `| ${[
        node.label,
        fmt.int(rate(r)),
        fmt.int(rate(r) / 2),
        fmt.ms(percentile(r.latenciesMs, 50)),
        fmt.ms(percentile(r.latenciesMs, 99)),
        fmt.ms(percentile(r.latenciesMs, 100)),
        fmt.us(r.serverCpuUs / r.requests),
        node.dbCpuUs ? fmt.us(dbCpuUs / r.requests) : '–',
        fmt.pct(r.clientCpuUs / 1e6 / r.seconds),
      ].join(' | ')} |`,
    ),
    '',
    `Target (issue 14 (c)): at least ${fmt.int(TARGET_RPS)} requests/s on PostgreSQL: ${fmt.verdict(rate(pgRow.r) >= TARGET_RPS)} (${fmt.int(rate(pgRow.r))}, ` +
      `${fmt.pct(rate(pgRow.r) / rate(rows[0]!.r))} of LMDB's)`,
  ].join('\n')
}

async function startNode(label: string, args: string[], dirs: string[]): Promise<Node> {
  const root = tempDir('pg-store')
  dirs.push(root)
  const serve = serveDirs(root)
  const port = await freePort()
  writeLpf(serve.licenseDir, port, [CYCLE_PACK, { name: 'restored', limit: RESTORE }])
  const pgNode = args.includes('--store')
  const server = await startServe(serve, port, { args: ['--lease-ttl', '10m', ...args], ...(pgNode ? { readyPattern: /^leading \(term/ } : {}) })
  return {
    label,
    pid: server.pid,
    port,
    stop: async () => {
      const { code } = await server.stop()
      if (code !== 0) throw new Error(`flr serve exited with ${code} on SIGTERM`)
    },
  }
}

async function leaseRelease(node: Node): Promise<LoadResult> {
  const leaseFrames: Buffer[] = []
  const leasing: boolean[] = []
  return runLoad({
    port: node.port,
    conns: CONNS,
    inFlight: IN_FLIGHT,
    warmupMs: WARMUP_MS,
    durationMs: DURATION_MS,
    serverPid: node.pid,
    next: (slot, reply, frame) => {
      if (reply !== undefined) expectOk(reply, leasing[slot] ? 'lease' : 'release')
      if (leasing[slot]) {
        leasing[slot] = false
        return frame({ op: 'release', lease: reply!.lease })
      }
      leasing[slot] = true
      return (leaseFrames[slot] ??= frame({ op: 'lease', pack: CYCLE_PACK.name, holder: `slot-${slot}` }))
    },
  })
}

/** User + system CPU of the postmaster and every process it started, µs so far. */
function postgresCpuUs(db: EmbeddedServer): number {
  const postmaster = Number(readFileSync(join(db.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0])
  let total = processCpuUs(postmaster)
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === postmaster) total += processCpuUs(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return total
}

// ---- (d) restoring 100,000 leases ----

async function benchRestore(db: EmbeddedServer, dirs: string[]): Promise<string> {
  const url = await db.database('flr_restore')
  // the schema, then 100,000 leases as a leader would have left them
  const store = await openPgLeaseStore({ url, hostId: 'Lnx-BNCH-BNCH-BNCH-BNCH' })
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  await client.query(
    `INSERT INTO flr_leases (lease, pack, holder, client, address, granted_at)
       SELECT 'lease-' || lpad(i::text, 16, '0'), 'restored', 'holder-' || i, 'ws-' || i || '.example.com', '10.0.' || (i % 250) || '.' || (i % 200), 1700000000000 + i
       FROM generate_series(1, ${RESTORE}) AS i`,
  )
  await client.query('VACUUM ANALYZE flr_leases')
  await client.end()
  log(`restore: load() of ${fmt.int(RESTORE)} leases, 3 times`)
  const loads: number[] = []
  const loadCpu: number[] = []
  const restores: number[] = []
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    const records = await store.load()
    loads.push(performance.now() - t0)
    const cpu = process.cpuUsage(cpu0)
    loadCpu.push((cpu.user + cpu.system) / 1000)
    if (records.length !== RESTORE) throw new Error(`load() gave ${records.length} leases, not ${RESTORE}`)
    restores.push(engineRestoreMs(records))
  }
  await store.close()

  log('restore: a node starting on that database, taking the lead')
  const root = tempDir('pg-restore')
  dirs.push(root)
  const serve = serveDirs(root)
  const port = await freePort()
  writeLpf(serve.licenseDir, port, [CYCLE_PACK, { name: 'restored', limit: RESTORE }])
  const server = await startServe(serve, port, { args: ['--store', url, '--advertise', '127.0.0.1', '--lease-ttl', '10m'], readyPattern: /^leading \(term/ })
  const leading = await server.waitForLog(/^leading \(term/)
  const fromSpawn = leading.seenAt - server.spawnedAt
  await server.stop()
  const restoredMs = Number(leading.ms)
  const best = Math.min(...loads)
  return [
    `### A new leader restoring ${fmt.int(RESTORE)} leases`,
    '',
    '| what | time |',
    '|---|---:|',
    `| the store's load(): every lease read from PostgreSQL (best of 3; all: ${loads.map((ms) => fmt.ms(ms)).join(', ')}; this process's CPU in them: ${loadCpu.map((ms) => fmt.ms(ms)).join(', ')}) | ${fmt.ms(best)} |`,
    `| the engine's restore of those records alone, in this process, CPU time (best of 3; all: ${restores.map((ms) => fmt.ms(ms)).join(', ')}) | ${fmt.ms(Math.min(...restores))} |`,
    `| a node taking the lead: load() and the engine's restore, as its log says (restored ${fmt.int(Number(leading.restored))}) | ${fmt.ms(restoredMs)} |`,
    `| the same node, from spawn to leading (Node start, LPF judged, leadership taken, restore) | ${fmt.ms(fromSpawn)} |`,
    '',
    `Target (issue 14 (d)): a new leader restores ${fmt.int(RESTORE)} leases in under ${TARGET_RESTORE_MS / 1000} s: ${fmt.verdict(restoredMs < TARGET_RESTORE_MS)} (${fmt.ms(restoredMs)})`,
  ].join('\n')
}

/** A fresh engine restoring `records` and serving their pack: the part of a takeover after load(). */
function engineRestoreMs(records: readonly LeaseRecord[]): number {
  const engine = new SeatEngine({ clock: systemClock(), store: memoryStore, ttlMs: 600_000 })
  // CPU time, not wall time: the engine is synchronous, and wall time on a loaded machine
  // measures the other processes
  const cpu0 = process.cpuUsage()
  engine.restore(records)
  engine.applyPlan([{ name: 'restored', limit: RESTORE, licenses: '<licenses/>' }])
  const cpu = process.cpuUsage(cpu0)
  engine.close()
  return (cpu.user + cpu.system) / 1000
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const watchdog = setTimeout(() => {
    process.stderr.write('bench/pg-store: over its time budget (180 s); giving up\n')
    process.exit(1)
  }, 180_000)
  watchdog.unref()
  benchPgStore().then(
    (markdown) => {
      process.stdout.write(markdown + '\n')
      process.exit(0)
    },
    (err) => {
      process.stderr.write(`bench/pg-store failed: ${(err as Error).stack ?? err}\n`)
      process.exit(1)
    },
  )
}
