// Benchmark: leasing over TCP (issues 3 and 4).
//  1. lease→release at 32 connections × 8 in flight against, in the same run: the echo
//     ceiling, flr's request path with an in-memory store, and the real `flr serve` with
//     durable acks ([LEASE-7]) — its state directory on tmpfs and on the disk.
//  2. renew throughput with 10,000 held leases, renews spread over all of them.
//  3. memory: 10,000 connections holding 100,000 leases (10 holders per connection).
// Every server runs in its own process; its CPU comes from /proc, so the generator's is not
// counted. Prints markdown on stdout, progress on stderr.
// Run: npm run build && node dist/bench/lease.js
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import {
  closeAll, expectOk, fmt, freePort, log, openConnections, openFilesLimit, percentile, processMemory,
  mergeLoads, runLoad, serveDirs, sleep, startScriptServer, startServe, tempDir, writeLpf, type LoadResult, type ProcessMemory, type RawConnection,
} from './common.js'

const CONNS = 32
const IN_FLIGHT = 8
const WARMUP_MS = 1_000
const DURATION_MS = 2_000
/**
 * lease→release windows per server, alternating between the servers: this shared VM's speed
 * drifts by tens of percent within a minute, and short interleaved windows spread a drift
 * over every server instead of landing on one (the CPU ratio is one server's over another's).
 */
const ROUNDS = 4
const CYCLE_PACK = { name: 'station', limit: 1_000 }
const HELD = 10_000
const HELD_PACK = { name: 'held', limit: HELD }
const MANY_CONNS = 10_000
const LEASES_PER_CONN = 10
const MANY_PACK = { name: 'seats', limit: MANY_CONNS * LEASES_PER_CONN }
const LONG_TTL = '10m' // setting up 100,000 leases on a busy machine must not race their expiry

interface Row {
  server: string
  result: LoadResult
}

export async function benchLease(): Promise<string> {
  const packs = [CYCLE_PACK, HELD_PACK]
  log('starting the servers under test')
  const servers: { label: string; pid: number; port: number; stop(): Promise<void> }[] = []
  const echo = await startScriptServer('echo-server')
  servers.push({ label: 'echo ceiling (framing + msgpack, replies {id, ok})', ...echo })
  const memory = await startScriptServer('memory-server', [JSON.stringify(packs)])
  servers.push({ label: 'flr, in-memory store (no durability)', ...memory })
  if (existsSync('/dev/shm')) {
    const shm = await startFlr(tempDir('tmpfs', '/dev/shm'), packs)
    servers.push({ label: `flr serve, durable acks, state dir on ${fsOf(shm.stateDir)}`, ...shm })
  }
  const disk = await startFlr(tempDir('disk'), packs, ['--lease-ttl', LONG_TTL])
  servers.push({ label: `flr serve, durable acks, state dir on ${fsOf(disk.stateDir)}`, ...disk })

  // Rounds alternate the servers, so a change in the machine's background load spreads
  // over all of them instead of landing on one.
  const results: LoadResult[][] = servers.map(() => [])
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, server] of servers.entries()) {
      log(`lease→release, round ${round}/${ROUNDS}: ${server.label}`)
      results[i]!.push(await leaseRelease(server.pid, server.port))
    }
  }
  const rows = servers.map((server, i) => ({ server: server.label, result: mergeLoads(results[i]!) }))
  const out = [renderCycle(rows, rows[rows.length - 1]!.result)]
  for (const server of servers.slice(0, -1)) await server.stop()

  log(`renew: granting ${fmt.int(HELD)} leases`)
  out.push(await benchRenew(disk.pid, disk.port, rows[0]!.result))
  await disk.stop()

  log(`memory: ${fmt.int(MANY_CONNS)} connections × ${LEASES_PER_CONN} leases`)
  out.push(await benchMemory())
  return out.join('\n\n')
}

async function startFlr(root: string, packs: { name: string; limit: number }[], args: string[] = []) {
  const dirs = serveDirs(root)
  const port = await freePort()
  writeLpf(dirs.licenseDir, port, packs)
  const server = await startServe(dirs, port, { args })
  return {
    pid: server.pid,
    port,
    stateDir: dirs.stateDir,
    stop: async () => {
      const { code } = await server.stop()
      if (code !== 0) throw new Error(`flr serve exited with ${code} on SIGTERM`)
    },
  }
}

/** The file system and device the state directory is on, for the table. */
function fsOf(dir: string): string {
  try {
    const [type, source] = execFileSync('findmnt', ['-n', '-o', 'FSTYPE,SOURCE', '--target', dir], { encoding: 'utf8' }).trim().split(/\s+/)
    return source === type ? type! : `${type} (${source})`
  } catch {
    return dir
  }
}

// ---- 1. lease → release ----

/** What every load here shares: 32 connections × 8 in flight, warm-up, measured window. */
function loadShape(pid: number, port: number) {
  return { port, conns: CONNS, inFlight: IN_FLIGHT, warmupMs: WARMUP_MS, durationMs: DURATION_MS, serverPid: pid }
}

async function leaseRelease(pid: number, port: number): Promise<LoadResult> {
  const leaseFrames: Buffer[] = []
  const leasing: boolean[] = []
  return runLoad({
    ...loadShape(pid, port),
    // each slot leases (its own holder), releases what it got, and again
    next: (slot, reply, frame) => {
      if (reply !== undefined) expectOk(reply, leasing[slot] ? 'lease' : 'release')
      if (leasing[slot]) {
        leasing[slot] = false
        // the echo's reply carries no lease id; it answers any release the same way
        return frame({ op: 'release', lease: reply!.lease ?? 'echo' })
      }
      leasing[slot] = true
      return (leaseFrames[slot] ??= frame({ op: 'lease', pack: CYCLE_PACK.name, holder: `slot-${slot}` }))
    },
  })
}

function renderCycle(rows: Row[], durable: LoadResult): string {
  const echo = rows[0]!.result
  const memory = rows[1]!.result
  const cpuPer = (r: LoadResult) => r.serverCpuUs / r.requests
  const rate = (r: LoadResult) => r.requests / r.seconds
  const cpuRatio = (r: LoadResult) => cpuPer(r) / cpuPer(echo)
  const p99 = (r: LoadResult) => percentile(r.latenciesMs, 99)
  const cpuTarget = (r: LoadResult) => `${fmt.verdict(cpuRatio(r) <= 2)} (${cpuRatio(r).toFixed(2)}×: ${fmt.us(cpuPer(r))} vs ${fmt.us(cpuPer(echo))})`
  const p99Target = (r: LoadResult) => `${fmt.verdict(p99(r) < 5)} (${fmt.ms(p99(r))})`
  const share = rate(durable) / rate(memory)
  return [
    `### Lease → release, ${CONNS} connections × ${IN_FLIGHT} in flight`,
    '',
    `Each slot leases (its own holder) then releases, back to back; one request is a lease or a release. All servers run at once, idle but for the one measured; ` +
      `${ROUNDS} rounds alternate between them, each window ${DURATION_MS / 1000} s measured after ${WARMUP_MS / 1000} s of warm-up, and the rounds are pooled. ` +
      'Latency: from the request\'s write to its reply, in the generator. Server CPU: user + system time of the server process (/proc), per request and as a share of one core. ' +
      'Every server, and the generator, sends the frames of one event-loop turn in one write. The generator must cost less than the servers it measures, as they share 2 cores: it sends a slot\'s next request from the reply\'s callback and keeps each slot\'s lease frame.',
    '',
    '| server | requests/s | lease+release/s | p50 | p99 | max | server CPU / request | server CPU busy | generator CPU busy |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(({ server, result: r }) => loadRow(server, r, true)),
    '',
    'Targets (issue 3 set them for its request path, the engine and the protocol: the in-memory row; the durable row adds issue 4\'s synced store):',
    `- server CPU per lease/release request within 2× the echo ceiling's: in-memory ${cpuTarget(memory)}; durable on disk ${cpuTarget(durable)}`,
    `- p99 under 5 ms at ${CONNS}×${IN_FLIGHT}: in-memory ${p99Target(memory)}; durable on disk ${p99Target(durable)}`,
    `- durable at least 60% of the in-memory throughput (issue 4): ${fmt.verdict(share >= 0.6)} (${fmt.pct(share)})`,
    '',
    `With ${CONNS * IN_FLIGHT} requests always in flight, mean latency = ${CONNS * IN_FLIGHT} ÷ throughput (Little's law): a p99 under 5 ms needs well over ` +
      `${fmt.int((CONNS * IN_FLIGHT) / 0.005)} requests/s, on 2 cores shared by the generator and the server. ` +
      'When the generator\'s CPU nears 100%, it (not the server) sets the pace: compare servers by CPU per request.',
  ].join('\n')
}

function loadRow(label: string, r: LoadResult, cycles: boolean): string {
  const cells = [
    label,
    fmt.int(r.requests / r.seconds),
    ...(cycles ? [fmt.int(r.requests / 2 / r.seconds)] : []),
    fmt.ms(percentile(r.latenciesMs, 50)),
    fmt.ms(percentile(r.latenciesMs, 99)),
    fmt.ms(percentile(r.latenciesMs, 100)),
    fmt.us(r.serverCpuUs / r.requests),
    fmt.pct(r.serverCpuUs / 1e6 / r.seconds),
    fmt.pct(r.clientCpuUs / 1e6 / r.seconds),
  ]
  return `| ${cells.join(' | ')} |`
}

// ---- 2. renew with 10,000 held leases ----

async function benchRenew(pid: number, port: number, echo: LoadResult): Promise<string> {
  const conns = await openConnections(port, CONNS)
  const started = performance.now()
  const ids = await grantHeld(conns).finally(() => closeAll(conns))
  const grantSeconds = (performance.now() - started) / 1000
  log('renew: load')
  let next = 0
  const r = await runLoad({
    ...loadShape(pid, port),
    // [LEASE-4] a lease belongs to no connection: these renew leases granted over others
    next: (_slot, reply, frame) => {
      if (reply !== undefined) expectOk(reply, 'renew')
      return frame({ op: 'renew', lease: ids[next++ % ids.length] })
    },
  })
  const ratio = r.serverCpuUs / r.requests / (echo.serverCpuUs / echo.requests)
  return [
    `### Renew, ${fmt.int(HELD)} held leases, ${CONNS} connections × ${IN_FLIGHT} in flight`,
    '',
    `The durable \`flr serve\` above (disk state dir) holds ${fmt.int(HELD)} leases (granted in ${grantSeconds.toFixed(1)} s with ${CONNS}×${IN_FLIGHT} in flight, ` +
      `${fmt.int(HELD / grantSeconds)} grants/s); each renew picks the next lease round-robin, so every lease is renewed. Renewals are not written to the store ([LEASE-7]).`,
    '',
    '| server | renews/s | p50 | p99 | max | server CPU / request | server CPU busy | generator CPU busy |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    loadRow('flr serve, durable', r, false),
    '',
    `Server CPU per renew is ${ratio.toFixed(2)}× the echo ceiling's per request.`,
  ].join('\n')
}

/** HELD leases, distinct holders, granted by conns × IN_FLIGHT workers. */
async function grantHeld(conns: RawConnection[]): Promise<string[]> {
  const ids: string[] = []
  let next = 0
  const worker = async (conn: RawConnection) => {
    while (next < HELD) {
      const holder = `held-${next++}`
      ids.push(String(expectOk(await conn.request('lease', { pack: HELD_PACK.name, holder }), 'lease').lease))
    }
  }
  await Promise.all(conns.flatMap((c) => Array.from({ length: IN_FLIGHT }, () => worker(c))))
  return ids
}

// ---- 3. memory: many connections, many leases ----

async function benchMemory(): Promise<string> {
  const title = `### Memory: ${fmt.int(MANY_CONNS)} connections holding ${fmt.int(MANY_CONNS * LEASES_PER_CONN)} leases`
  const limit = openFilesLimit()
  const needed = MANY_CONNS + 200
  if (limit.soft < needed || limit.hard < needed) {
    return `${title}\n\nNot run: this process may open ${limit.soft} files (hard limit ${limit.hard}); it needs ${needed}. Raise \`ulimit -n\` and run again.`
  }
  const dirs = serveDirs(tempDir('memory'))
  const port = await freePort()
  writeLpf(dirs.licenseDir, port, [MANY_PACK])
  const server = await startServe(dirs, port, {
    // all from 127.0.0.1: past the default per-address cap of 1,000 ([WIRE-10])
    args: ['--max-connections', String(MANY_CONNS * 2), '--max-connections-per-address', String(MANY_CONNS * 2), '--lease-ttl', LONG_TTL],
    openFiles: Math.min(limit.hard, MANY_CONNS * 2 + 1_000),
  })
  let conns: RawConnection[] = []
  try {
    await sleep(500)
    const idle = processMemory(server.pid)
    const started = performance.now()
    conns = await openConnections(port, MANY_CONNS, 200)
    const connected = performance.now()
    log(`memory: ${fmt.int(MANY_CONNS)} connected in ${((connected - started) / 1000).toFixed(1)} s; leasing`)
    const connOnly = processMemory(server.pid)
    await leaseFromEvery(conns)
    const leased = performance.now()
    const status = expectOk(await conns[0]!.request('status'), 'status')
    const inUse = (status.packs as { name: string; inUse: number }[]).find((p) => p.name === MANY_PACK.name)?.inUse
    if (inUse !== MANY_PACK.limit) throw new Error(`the server reports ${inUse} leases in use, expected ${MANY_PACK.limit}`)
    await sleep(1_000)
    const holding = processMemory(server.pid)
    const met = holding.rss < 300e6
    const perConn = (connOnly.rss - idle.rss) / MANY_CONNS
    const perLease = (holding.rss - connOnly.rss) / (MANY_CONNS * LEASES_PER_CONN)
    const mem = (m: ProcessMemory) => `${fmt.mb(m.rss)} (${fmt.mb(m.anon)} + ${fmt.mb(m.file)})`
    return [
      title,
      '',
      `A real \`flr serve\` (durable store on disk, \`--max-connections ${MANY_CONNS * 2}\`): ${fmt.int(MANY_CONNS)} connections opened (200 at a time), ` +
        `then each leases ${LEASES_PER_CONN} seats of one pack with ${LEASES_PER_CONN} holders of its own (500 connections at a time); \`status\` confirms ${fmt.int(inUse)} in use. ` +
        'RSS from /proc/<pid>/status, 1 s after the last grant, split as anonymous (heap, buffers) + file-backed (code, the memory-mapped LMDB store). MB = 10⁶ bytes.',
      '',
      '| server RSS: idle | with 10,000 connections | holding 100,000 leases | peak (VmHWM) | per connection | per lease | connect time | lease time (all 100,000) |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|',
      `| ${mem(idle)} | ${mem(connOnly)} | ${mem(holding)} | ${fmt.mb(holding.peak)} | ${fmt.int(perConn / 1024)} KiB | ${fmt.int(perLease)} B | ` +
        `${((connected - started) / 1000).toFixed(1)} s | ${((leased - connected) / 1000).toFixed(1)} s (${fmt.int((MANY_CONNS * LEASES_PER_CONN * 1000) / (leased - connected))} grants/s) |`,
      '',
      `Target: 100,000 held leases in under 300 MB RSS: ${fmt.verdict(met)} (${fmt.mb(holding.rss)}, peak ${fmt.mb(holding.peak)}).`,
    ].join('\n')
  } finally {
    closeAll(conns)
    await server.stop()
  }
}

/** Every connection leases LEASES_PER_CONN seats at once; at most 500 connections at a time. */
async function leaseFromEvery(conns: RawConnection[]): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < conns.length) {
      const c = next++
      const conn = conns[c]!
      await Promise.all(
        Array.from({ length: LEASES_PER_CONN }, async (_, k) =>
          expectOk(await conn.request('lease', { pack: MANY_PACK.name, holder: `c${c}-h${k}` }), 'lease'),
        ),
      )
    }
  }
  await Promise.all(Array.from({ length: 500 }, worker))
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const watchdog = setTimeout(() => {
    process.stderr.write('bench/lease: over its time budget (180 s); giving up\n')
    process.exit(1)
  }, 180_000)
  watchdog.unref()
  benchLease().then(
    (markdown) => {
      process.stdout.write(markdown + '\n')
      process.exit(0)
    },
    (err) => {
      process.stderr.write(`bench/lease failed: ${(err as Error).stack ?? err}\n`)
      process.exit(1)
    },
  )
}
