// Benchmark: the HTTP shim's /request grant + release (POST, then DELETE /request/<lease>) with
// keep-alive from 32 concurrent clients (issue 6), against, in the same run:
//  - the ceiling: a bare node:http server that reads the JSON body and answers the shim's JSON,
//    with nothing behind it (what any Node HTTP server costs);
//  - flr: a real Daemon (LPF verified, seat engine, lmdb store with durable grants and releases
//    [LEASE-7], the daily access log [HTTP-5]) serving its HTTP shim, with its state and log
//    directories on the disk, and again on tmpfs (/dev/shm) to show what the disk's syncs cost.
// The target is judged on the disk figure: that is how a server runs.
// Each server runs in a child process of its own (this script, forked with --serve); its CPU
// comes from /proc, so the load generator's is not counted. Measured windows alternate between
// the two servers so a busy machine's drift hits both alike. Loopback only.
// Prints markdown on stdout, progress on stderr.
// Run: npm run build && node dist/bench/http.js
// Target: flr's server CPU per request within 2× the ceiling's.
import { fork, type ChildProcess } from 'node:child_process'
import { createPublicKey, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import pino from 'pino'
import { Daemon } from '../lib/server/daemon.js'
import {
  HOST_ID, ROOT, fmt, freePort, log, mergeLoads, percentile, processCpuUs, serveDirs, sleep, sortedCopy, tempDir, writeLpf, type LoadResult,
} from './common.js'

const CLIENTS = 32
const WARMUP_MS = 1_000
/** measured windows per server, alternating: ROUNDS × WINDOW_MS = 5 s per server */
const ROUNDS = 2
const WINDOW_MS = 2_500
const PACK = { name: 'Agent-Session', limit: 1_000 }
/** what bench/common.ts writeLpf puts in the pack, so both servers answer the same JSON */
const LICENSES = `<licenses><license product="${PACK.name}"/></licenses>`
const TTL_MS = 30_000

type Side = 'ceiling' | 'flr' | 'flr-tmpfs'
const TMPFS = '/dev/shm'

// ---- the servers (this script, forked with --serve <side>) ----

async function serve(side: Side): Promise<void> {
  const server = side === 'ceiling' ? await serveCeiling() : await serveFlr(side === 'flr-tmpfs' ? TMPFS : undefined)
  const stop = () => void server.stop().then(() => process.exit(0))
  process.on('message', (msg) => msg === 'stop' && stop())
  // the bench ended without asking (Ctrl-C, a crash): do not outlive it
  process.on('disconnect', stop)
  process.send!({ port: server.port })
}

async function serveFlr(base?: string): Promise<{ port: number; stop(): Promise<void> }> {
  const dirs = serveDirs(tempDir('http', base))
  writeLpf(dirs.licenseDir, await freePort(), [PACK])
  const daemon = await Daemon.start({
    licenseDir: dirs.licenseDir,
    stateDir: dirs.stateDir,
    logDir: dirs.logDir,
    vendorKeys: [createPublicKey(readFileSync(join(ROOT, 'fixtures/keys/vendor.pub.pem')))],
    hostId: HOST_ID,
    // `flr serve` logs nothing per request at info either; the access log is the per-request write
    log: pino({ level: 'silent' }),
    bind: '127.0.0.1',
    httpPort: 0,
    httpPack: PACK.name,
    leaseTtlMs: TTL_MS,
  })
  return { port: daemon.httpPort!, stop: () => daemon.stop() }
}

async function serveCeiling(): Promise<{ port: number; stop(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/request') {
        const { client, pack = PACK.name } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { client?: unknown; pack?: string }
        if (typeof client !== 'string') return void res.writeHead(400).end()
        const lease = randomBytes(16).toString('base64url')
        const body = JSON.stringify({ authorized: true, lease, pack, expiresAt: Date.now() + TTL_MS, ttlMs: TTL_MS, licenses: LICENSES })
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body)
      } else if (req.method === 'DELETE' && req.url?.startsWith('/request/')) {
        res.writeHead(204).end()
      } else {
        res.writeHead(404).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    stop: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}

// ---- the load (this process) ----

interface ServerUnderTest {
  side: Side
  child: ChildProcess
  port: number
}

function startServer(side: Side): Promise<ServerUnderTest> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', side], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the ${side} server exited (${code}) before it listened`)))
    child.once('message', (msg) => resolve({ side, child, port: (msg as { port: number }).port }))
  })
}

function stopServer(s: ServerUnderTest): Promise<void> {
  return new Promise((resolve) => {
    s.child.once('exit', () => resolve())
    s.child.send('stop')
  })
}

function call(port: number, agent: Agent, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode!, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** CLIENTS keep-alive clients, each on its own connection, granting and releasing back to back. */
async function runHttpLoad(s: ServerUnderTest, durationMs: number): Promise<LoadResult> {
  let phase: 'warmup' | 'measure' | 'done' = 'warmup'
  let requests = 0
  const latencies: number[] = []
  let failed: unknown
  const timed = async (agent: Agent, method: string, path: string, body: string | undefined, want: number) => {
    const start = performance.now()
    const res = await call(s.port, agent, method, path, body)
    if (res.status !== want) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`)
    if (phase === 'measure') {
      latencies.push(performance.now() - start)
      requests++
    }
    return res
  }
  const client = async (i: number) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const body = JSON.stringify({ client: `bench-${i}` })
    try {
      while (phase !== 'done') {
        const grant = await timed(agent, 'POST', '/request', body, 200)
        await timed(agent, 'DELETE', `/request/${(JSON.parse(grant.text) as { lease: string }).lease}`, undefined, 204)
      }
    } finally {
      agent.destroy()
    }
  }
  const clients = Array.from({ length: CLIENTS }, (_, i) =>
    client(i).catch((e) => {
      failed ??= e
      phase = 'done'
    }),
  )
  await sleep(WARMUP_MS)
  phase = 'measure'
  const cpu0 = processCpuUs(s.child.pid!)
  const client0 = process.cpuUsage()
  const t0 = performance.now()
  await sleep(durationMs)
  const seconds = (performance.now() - t0) / 1000
  const cpu1 = processCpuUs(s.child.pid!)
  const client1 = process.cpuUsage(client0)
  const counted = requests
  const sample = latencies.slice()
  phase = 'done'
  await Promise.all(clients)
  if (failed) throw failed
  return { requests: counted, seconds, latenciesMs: sortedCopy(sample), serverCpuUs: cpu1 - cpu0, clientCpuUs: client1.user + client1.system }
}

export async function benchHttp(): Promise<string> {
  const sides: Side[] = existsSync(TMPFS) ? ['ceiling', 'flr', 'flr-tmpfs'] : ['ceiling', 'flr']
  log(`starting ${sides.join(', ')}`)
  const servers = await Promise.all(sides.map(startServer))
  const windows = new Map<Side, LoadResult[]>(sides.map((side) => [side, []]))
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of round % 2 ? [...servers].reverse() : servers) {
        log(`round ${round + 1}/${ROUNDS}: ${s.side}`)
        windows.get(s.side)!.push(await runHttpLoad(s, WINDOW_MS))
      }
    }
  } finally {
    await Promise.all(servers.map(stopServer))
  }
  const tmpfs = windows.get('flr-tmpfs')
  return render(mergeLoads(windows.get('flr')!), tmpfs && mergeLoads(tmpfs), mergeLoads(windows.get('ceiling')!))
}

function render(flr: LoadResult, tmpfs: LoadResult | undefined, ceiling: LoadResult): string {
  const cpuPer = (r: LoadResult) => r.serverCpuUs / r.requests
  const ratio = cpuPer(flr) / cpuPer(ceiling)
  const row = (label: string, r: LoadResult) =>
    `| ${label} | ${fmt.int(r.requests / r.seconds)} | ${fmt.int(r.requests / 2 / r.seconds)} | ${fmt.ms(percentile(r.latenciesMs, 50))} | ${fmt.ms(percentile(r.latenciesMs, 99))} | ${fmt.us(cpuPer(r))} | ${fmt.pct(r.clientCpuUs / 1e6 / r.seconds)} |`
  return [
    `POST /request then DELETE /request/<lease>, back to back, from ${CLIENTS} keep-alive clients (one connection each); ${ROUNDS} alternating windows of ${WINDOW_MS / 1000} s per server.`,
    '',
    '| server | requests/s | grant+release pairs/s | p50 | p99 | server CPU per request | load generator CPU |',
    '|---|---:|---:|---:|---:|---:|---:|',
    row('flr: HTTP shim → seat engine → lmdb (durable grant and release), access log; on the disk', flr),
    ...(tmpfs ? [row('flr, the same, state and logs on tmpfs', tmpfs)] : []),
    row('ceiling: bare node:http, same JSON', ceiling),
    '',
    `Target: server CPU per request within 2× the ceiling's: ${fmt.verdict(ratio <= 2)} (${ratio.toFixed(2)}×: ${fmt.us(cpuPer(flr))} vs ${fmt.us(cpuPer(ceiling))}).`,
    'A request is one HTTP call. Server CPU is the server process\'s user + system time (all its threads, lmdb\'s included) over the measured windows, per request completed in them. ' +
      'A load generator near 100% means the generator, not the server, set the pace (one core; the machine is shared with the server).',
  ].join('\n')
}

const serveAt = process.argv.indexOf('--serve')
if (serveAt >= 0) {
  await serve(process.argv[serveAt + 1] as Side)
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write((await benchHttp()) + '\n')
}
