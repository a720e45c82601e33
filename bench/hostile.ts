// Benchmark: one hostile peer on the lease port ([WIRE-10], issue 11), against a real
// `flr serve` child process.
//  1. waiter flood: the only seat taken, one connection sends 100,000 `lease {wait: 600000}`
//     in one write (and reads its answers); a bystander pings back to back meanwhile. Its
//     latency, the time the server takes over the flood, and the server's CPU for it.
//  2. amplification: a 1,000-pack LPF (a status answer is ~40 KB for a 19-byte request), ten
//     peers each send one 64 KiB chunk of status requests and never read. Server RSS before,
//     while they hold it, and once they are cut off (10 s without reading).
// Prints markdown on stdout, progress on stderr. Run: npm run build && node dist/bench/hostile.js
import { connect, type Socket } from 'node:net'
import { pathToFileURL } from 'node:url'
import { FrameDecoder, encodeFrame } from '../lib/protocol/frame.js'
import {
  RawConnection, expectOk, fmt, freePort, log, percentile, processCpuUs, processMemory, serveDirs, sleep, sortedCopy, startServe, tempDir, writeLpf,
  type ServerChild,
} from './common.js'

const WAITS = 100_000
const CAP = 1_000
const PEERS = 10
const PACKS = 1_000
const MB = 1e6

export async function benchHostile(): Promise<string> {
  return [await benchFlood(), await benchAmplification()].join('\n\n')
}

async function serve(packs: { name: string; limit: number }[]): Promise<{ server: ServerChild; port: number }> {
  const dirs = serveDirs(tempDir('hostile'))
  const port = await freePort()
  writeLpf(dirs.licenseDir, port, packs)
  return { server: await startServe(dirs, port, { args: ['--lease-ttl', '10m'] }), port }
}

/** A peer that says hello, then is driven byte by byte; counts the frames it is sent. */
async function rawPeer(port: number): Promise<{ socket: Socket; frames: () => number; last: () => Record<string, unknown> | undefined }> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s))
    s.once('error', reject)
  })
  socket.on('error', () => {})
  let count = 0
  let last: Record<string, unknown> | undefined
  const decoder = new FrameDecoder({ frame: (m) => ((count++), (last = m)), fault: () => {} }, 64 * 1024 * 1024)
  socket.on('data', (chunk) => decoder.push(chunk))
  socket.write(encodeFrame({ id: 1, op: 'hello', protocol: 1, client: 'hostile' }))
  while (count < 1) await sleep(5)
  return { socket, frames: () => count, last: () => last }
}

// ---- 1. the waiter flood ----

async function benchFlood(): Promise<string> {
  log(`flood: ${fmt.int(WAITS)} waits on one connection`)
  const { server, port } = await serve([{ name: 'station', limit: 1 }])
  try {
    const owner = await RawConnection.open(port, 'owner')
    expectOk(await owner.request('lease', { pack: 'station' }), 'lease')
    const bystander = await RawConnection.open(port, 'bystander')
    // the bystander's latency with nothing else going on
    const quiet = await pingFor(bystander, () => false, 1_000)
    const attacker = await rawPeer(port)
    const flood = Buffer.concat(Array.from({ length: WAITS }, (_, i) => encodeFrame({ id: 10 + i, op: 'lease', pack: 'station', holder: `h${i}`, wait: 600_000 })))
    const expected = 1 + WAITS - CAP
    const cpuBefore = processCpuUs(server.pid)
    const started = performance.now()
    attacker.socket.write(flood)
    const during = await pingFor(bystander, () => attacker.frames() >= expected, 120_000)
    const handled = performance.now() - started
    const cpu = (processCpuUs(server.pid) - cpuBefore) / 1000
    const last = attacker.last() as { error?: { code?: string } } | undefined
    if (attacker.frames() < expected || last?.error?.code !== 'TOO_MANY_WAITING') throw new Error(`flood: ${attacker.frames()} answers, the last ${JSON.stringify(last)}`)
    const status = expectOk(await bystander.request('status'), 'status')
    const waiting = (status.packs as { waiting: number }[])[0]!.waiting
    const closeStarted = performance.now()
    attacker.socket.destroy()
    // [LEASE-4] closing cancels its 1,000 waits
    let after = waiting
    while (after !== 0) after = (expectOk(await bystander.request('status'), 'status').packs as { waiting: number }[])[0]!.waiting
    const cancelMs = performance.now() - closeStarted
    void owner.destroy()
    void bystander.destroy()
    const row = (label: string, l: Float64Array) =>
      `| ${label} | ${fmt.int(l.length)} | ${fmt.ms(percentile(l, 50))} | ${fmt.ms(percentile(l, 99))} | ${fmt.ms(l[l.length - 1] ?? NaN)} |`
    const worst = during[during.length - 1] ?? NaN
    return [
      `### Waiter flood: ${fmt.int(WAITS)} \`lease {wait: 600000}\` in one write on one connection`,
      '',
      `A real \`flr serve\`, the only seat of its pack taken. One connection sends ${fmt.int(WAITS)} waiting lease requests (distinct holders, ${fmt.mb(flood.length)} in one write) and reads its answers; ` +
        `${fmt.int(CAP)} wait, the other ${fmt.int(WAITS - CAP)} are answered \`TOO_MANY_WAITING\` ([WIRE-10]). A bystander on its own connection pings back to back throughout.`,
      '',
      '| bystander ping | pings | p50 | p99 | max |',
      '|---|---:|---:|---:|---:|',
      row('alone', quiet),
      row(`during the flood`, during),
      '',
      `The flood took ${fmt.ms(handled)} from the write to the last refusal, and ${fmt.ms(cpu)} of server CPU (${fmt.us((cpu * 1000) / WAITS)} a request); ` +
        `${fmt.int(waiting)} requests waited; closing the connection cancelled them all within ${fmt.ms(cancelMs)}. ` +
        `Target (issue 11): a bystander answered within 100 ms throughout — ${fmt.verdict(worst < 100)} (worst ${fmt.ms(worst)}).`,
    ].join('\n')
  } finally {
    await server.stop()
  }
}

/** Pings back to back until `done()` (or `ms` have passed); the latencies, ascending. */
async function pingFor(conn: RawConnection, done: () => boolean, ms: number): Promise<Float64Array> {
  const latencies: number[] = []
  const end = performance.now() + ms
  while (!done() && performance.now() < end) {
    const sent = performance.now()
    expectOk(await conn.request('ping'), 'ping')
    latencies.push(performance.now() - sent)
  }
  return sortedCopy(latencies)
}

// ---- 2. amplification ----

async function benchAmplification(): Promise<string> {
  log(`amplification: ${PEERS} peers × 64 KiB of status requests, ${fmt.int(PACKS)} packs`)
  const { server, port } = await serve(Array.from({ length: PACKS }, (_, i) => ({ name: `pack-${String(i).padStart(4, '0')}`, limit: 5 })))
  try {
    const bystander = await RawConnection.open(port, 'bystander')
    const answer = expectOk(await bystander.request('status'), 'status')
    const answerBytes = encodeFrame(answer).length
    const peers = await Promise.all(Array.from({ length: PEERS }, () => rawPeer(port)))
    for (let i = 0; i < 5; i++) expectOk(await bystander.request('status'), 'status')
    await sleep(500)
    const idle = processMemory(server.pid).rss
    const count = Math.floor(65_536 / encodeFrame({ id: 1, op: 'status' }).length)
    const burst = Buffer.concat(Array.from({ length: count }, (_, i) => encodeFrame({ id: 1 + (i % 100), op: 'status' })))
    const cpuBefore = processCpuUs(server.pid)
    for (const peer of peers) {
      peer.socket.pause()
      peer.socket.write(burst)
    }
    expectOk(await bystander.request('status'), 'status')
    await sleep(1_000)
    const held = processMemory(server.pid).rss
    const cpu = (processCpuUs(server.pid) - cpuBefore) / 1000
    const cutStarted = performance.now()
    while (server.logs.filter((l) => /peer stopped reading/.test(l.msg)).length < PEERS && performance.now() - cutStarted < 60_000) await sleep(200)
    const cutMs = performance.now() - cutStarted
    for (const peer of peers) peer.socket.destroy()
    // what they held is garbage now; a monitor's status every 100 ms gives the collector a reason to run
    let after = processMemory(server.pid).rss
    const backStarted = performance.now()
    while (after - idle > PEERS * 2e6 && performance.now() - backStarted < 60_000) {
      expectOk(await bystander.request('status'), 'status')
      await sleep(100)
      after = processMemory(server.pid).rss
    }
    const backMs = performance.now() - backStarted
    void bystander.destroy()
    const perPeer = (held - idle) / PEERS
    return [
      `### Amplification: ${PEERS} peers, each one 64 KiB chunk of \`status\` and never reading`,
      '',
      `A real \`flr serve\` with a ${fmt.int(PACKS)}-pack LPF: each \`status\` answer is ${fmt.int(answerBytes)} bytes, so one chunk of ${fmt.int(count)} requests asks for ${fmt.mb(count * answerBytes)}. ` +
        'Past 1 MiB of replies waiting for a peer, the server takes no further request from it, not even from the chunk in hand, and cuts it off after 10 s without reading ([WIRE-10]). ' +
        'RSS from /proc/<pid>/status; MB = 10⁶ bytes.',
      '',
      '| server RSS: before | with the stalled peers | per stalled peer | server CPU for the bursts | peers cut after | RSS after the cut | back within |',
      '|---:|---:|---:|---:|---:|---:|---:|',
      `| ${fmt.mb(idle)} | ${fmt.mb(held)} | ${(perPeer / MB).toFixed(1)} MB | ${fmt.ms(cpu)} | ${(cutMs / 1000 + 1).toFixed(1)} s | ${fmt.mb(after)} | ${(backMs / 1000).toFixed(1)} s |`,
      '',
      `Target (issue 11): a few MB per stalled peer, given back after the cut — ${fmt.verdict(perPeer < 8 * MB && after - idle <= PEERS * 2e6)} (back within 2 MB a peer). ` +
        'Before this change: about 200 MB a peer, kept after the cut.',
    ].join('\n')
  } finally {
    await server.stop()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const watchdog = setTimeout(() => {
    process.stderr.write('bench/hostile: over its time budget (180 s); giving up\n')
    process.exit(1)
  }, 180_000)
  watchdog.unref()
  benchHostile().then(
    (markdown) => {
      process.stdout.write(markdown + '\n')
      process.exit(0)
    },
    (err) => {
      process.stderr.write(`bench/hostile failed: ${(err as Error).stack ?? err}\n`)
      process.exit(1)
    },
  )
}
