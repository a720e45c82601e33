// Benchmark: TLS on the lease port ([TLS-1]), issue 16.
//  1. lease→release over established connections, TLS against plaintext in the same run
//     (two `flr serve`, rounds alternating): throughput and p99. Target: TLS costs ≤ 25%.
//  2. full TLS handshakes per second (connect, verify by fingerprint, close).
//  3. 1,000 library clients holding a lease each over TLS, the server restarted: time from
//     the new server listening until every client has resumed its lease. Target: ≤ 5 s.
// Both sides use the client library (lib/client), so the comparison is TLS against no TLS.
// Run: npm run build && node dist/bench/tls.js
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { FlrClient, type TlsClientOptions } from '../lib/client/client.js'
import { openTransport } from '../lib/client/transport.js'
import { certificateFacts } from '../lib/server/tls-cert.js'
import { fmt, freePort, log, percentile, serveDirs, sortedCopy, startServe, tempDir, writeLpf, type ServerChild } from './common.js'

const CONNS = 16
const IN_FLIGHT = 4
const ROUND_MS = 2_000
const ROUNDS = 3
const HANDSHAKE_MS = 3_000
const HANDSHAKE_PARALLEL = 8
const RECONNECTING = 1_000
const PACKS = [{ name: 'station', limit: 100_000 }]
const ARGS = ['--max-connections-per-address', '10000', '--lease-ttl', '10m']

interface Load {
  ops: number
  ms: number
  latencies: number[]
}

export async function benchTls(): Promise<string> {
  const plain = await start([])
  const tls = await start(['--tls-cert', 'auto'])
  const fingerprint = certificateFacts(readFileSync(join(tls.stateDir, 'tls-cert.pem'), 'utf8')).fingerprint
  const tlsOpts: TlsClientOptions = { fingerprint }
  const loads: Record<'plain' | 'tls', Load[]> = { plain: [], tls: [] }
  for (let round = 1; round <= ROUNDS; round++) {
    log(`lease→release round ${round}/${ROUNDS}: plaintext`)
    loads.plain.push(await leaseRelease(plain.server.port, undefined))
    log(`lease→release round ${round}/${ROUNDS}: TLS`)
    loads.tls.push(await leaseRelease(tls.server.port, tlsOpts))
  }
  await plain.server.stop()
  log('full handshakes')
  const handshakes = await handshakeRate(tls.server.port, tlsOpts)
  log(`${RECONNECTING} clients reconnecting over TLS`)
  const resume = await reconnectAll(tls, tlsOpts)
  const p = merge(loads.plain)
  const t = merge(loads.tls)
  const rate = (l: Load) => (l.ops / l.ms) * 1000
  const cost = 1 - rate(t) / rate(p)
  return [
    `lease→release over established connections (${CONNS} connections × ${IN_FLIGHT} in flight, ${ROUNDS} alternating rounds of ${ROUND_MS / 1000} s; both \`flr serve\` with durable acks, client library on both sides):`,
    '',
    '| lease port | ops/s | p50 ms | p99 ms |',
    '|---|---:|---:|---:|',
    row('plaintext', p),
    row('TLS 1.3 (auto certificate, ECDSA P-256)', t),
    '',
    `TLS costs ${(cost * 100).toFixed(1)}% of plaintext throughput on established connections (target ≤ 25%: ${cost <= 0.25 ? 'met' : 'NOT met'}).`,
    '',
    `Full handshakes (connect, verify by fingerprint, close; ${HANDSHAKE_PARALLEL} in parallel for ${HANDSHAKE_MS / 1000} s): ${fmt.int(handshakes)} per second.`,
    '',
    `${fmt.int(RECONNECTING)} clients over TLS, each holding a lease, server restarted (SIGTERM, start on the same state directory): ` +
      `all resumed ${(resume.allMs / 1000).toFixed(2)} s after the new server listened (target ≤ 5 s: ${resume.allMs <= 5_000 ? 'met' : 'NOT met'}); ` +
      `half of them within ${(resume.medianMs / 1000).toFixed(2)} s. The library's backoff between attempts (100 ms doubling to 5 s, jittered) is most of it.`,
  ].join('\n')

  function row(label: string, l: Load): string {
    const sorted = sortedCopy(l.latencies)
    return `| ${label} | ${fmt.int(rate(l))} | ${percentile(sorted, 50).toFixed(2)} | ${percentile(sorted, 99).toFixed(2)} |`
  }
}

async function start(args: string[]): Promise<{ server: ServerChild; stateDir: string; dirs: ReturnType<typeof serveDirs> }> {
  const dirs = serveDirs(tempDir('tls-bench'))
  const port = await freePort()
  writeLpf(dirs.licenseDir, port, PACKS)
  const server = await startServe(dirs, port, { args: [...ARGS, ...args], openFiles: 8192 })
  return { server, stateDir: dirs.stateDir, dirs }
}

async function leaseRelease(port: number, tls: TlsClientOptions | undefined): Promise<Load> {
  const clients = await Promise.all(Array.from({ length: CONNS }, (_, i) => FlrClient.connect({ host: '127.0.0.1', port, client: `bench-${i}`, tls, reconnect: false })))
  const latencies: number[] = []
  let ops = 0
  // warm-up: a few cycles each, not measured
  const until = performance.now() + ROUND_MS
  const started = performance.now()
  await Promise.all(clients.flatMap((c, i) => Array.from({ length: IN_FLIGHT }, async (_, j) => {
    let n = 0
    while (performance.now() < until) {
      const t0 = performance.now()
      const grant = await c.request('lease', { pack: 'station', holder: `h-${i}-${j}-${n++}` })
      await c.request('release', { lease: grant.lease })
      latencies.push(performance.now() - t0)
      ops++
    }
  })))
  const ms = performance.now() - started
  for (const c of clients) c.close()
  return { ops, ms, latencies }
}

function merge(loads: Load[]): Load {
  return { ops: loads.reduce((a, l) => a + l.ops, 0), ms: loads.reduce((a, l) => a + l.ms, 0), latencies: loads.flatMap((l) => l.latencies) }
}

async function handshakeRate(port: number, tls: TlsClientOptions): Promise<number> {
  let done = 0
  const until = performance.now() + HANDSHAKE_MS
  const started = performance.now()
  await Promise.all(Array.from({ length: HANDSHAKE_PARALLEL }, async () => {
    while (performance.now() < until) {
      const socket = await openTransport({ host: '127.0.0.1', port, timeoutMs: 10_000, tls })
      socket.destroy()
      done++
    }
  }))
  return (done / (performance.now() - started)) * 1000
}

async function reconnectAll(tls: { server: ServerChild; dirs: ReturnType<typeof serveDirs> }, opts: TlsClientOptions): Promise<{ allMs: number; medianMs: number }> {
  const port = tls.server.port
  const clients: FlrClient[] = []
  for (let i = 0; i < RECONNECTING; i += 50) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(50, RECONNECTING - i) }, (_, k) => FlrClient.connect({ host: '127.0.0.1', port, client: `r-${i + k}`, tls: opts })))))
  }
  await Promise.all(clients.map((c) => c.lease('station')))
  const resumedAt: number[] = []
  let listening = 0
  const all = new Promise<void>((resolve) => {
    for (const c of clients) {
      c.once('disconnected', () => {
        // resumed: connected again, and its lease renewed by id on the new connection ([LEASE-4])
        c.once('connected', () => {
          void c.status().then(() => {
            resumedAt.push(performance.now())
            if (resumedAt.length === clients.length) resolve()
          })
        })
      })
    }
  })
  await tls.server.stop()
  const again = await startServe(tls.dirs, port, { args: [...ARGS, '--tls-cert', 'auto'], openFiles: 8192, readyPattern: /^listening for leases/ })
  listening = performance.now()
  await all
  for (const c of clients) c.close()
  await again.stop()
  const sorted = sortedCopy(resumedAt.map((t) => Math.max(0, t - listening)))
  return { allMs: sorted[sorted.length - 1]!, medianMs: percentile(sorted, 50) }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  benchTls().then(
    (md) => {
      process.stdout.write(md + '\n')
      process.exit(0)
    },
    (e) => {
      process.stderr.write(`${(e as Error).stack}\n`)
      process.exit(1)
    },
  )
}
