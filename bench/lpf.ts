// Benchmark: loadLpf (screen → verify → parse → checks) on LPFs of 10, 1,000 and 10,000 packs.
// Run: npx tsc -p . && node dist/bench/lpf.js   (prints a markdown table)
// Target (issue 2): 1,000 packs verified and parsed in under 50 ms.
// For comparison it also times xml-crypto's SignedXml.checkSignature() on the same files,
// which verify.ts does not use (see the comment there).
import { createPublicKey } from 'node:crypto'
import { cpus, loadavg } from 'node:os'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { pathToFileURL } from 'node:url'
import { DOMParser } from '@xmldom/xmldom'
import { SignedXml } from 'xml-crypto'
import { loadLpf } from '../lib/lpf/load.js'
import { buildLpfXml, generateVendorKeys, signLpf } from '../lib/lpf/vendor.js'
import { DSIG_NS } from '../lib/lpf/dsig.js'
import { HOST_ID, manyPacksSpec } from './harness.js'

const SIZES = [
  { packs: 10, runs: 200, baselineRuns: 20 },
  { packs: 1_000, runs: 50, baselineRuns: 5 },
  { packs: 10_000, runs: 10, baselineRuns: 1 },
]

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

interface Row {
  packs: number
  bytes: number
  runs: number
  min: number
  median: number
  p95: number
  cpuMedian: number
  heapDelta: number
  retained: number
  rssDelta: number
  checkSignature: number
}

export function benchLpf(): string {
  const keys = generateVendorKeys()
  const vendorKey = createPublicKey(keys.publicKeyPem)
  const rows = SIZES.map(({ packs, runs, baselineRuns }) => {
    process.stderr.write(`lpf: ${packs} packs…\n`)
    const xml = signLpf(buildLpfXml(manyPacksSpec(packs)), keys.privateKeyPem)
    return measure(packs, Buffer.from(xml), vendorKey, runs, () => checkSignatureMs(xml, keys.publicKeyPem, baselineRuns))
  })
  return render(rows)
}


function measure(packs: number, bytes: Buffer, vendorKey: ReturnType<typeof createPublicKey>, runs: number, baseline: () => number): Row {
  const opts = { vendorKeys: [vendorKey], hostId: HOST_ID, fileName: `${HOST_ID}.lp` }
  for (let i = 0; i < 3; i++) loadLpf(bytes, opts)

  gc()
  const before = process.memoryUsage()
  let plan = loadLpf(bytes, opts)
  const during = process.memoryUsage()
  gc()
  const after = process.memoryUsage()
  if (plan.packs.length !== packs) throw new Error(`expected ${packs} packs, got ${plan.packs.length}`)

  const times: number[] = []
  const cpu: number[] = []
  let rssPeak = during.rss
  for (let i = 0; i < runs; i++) {
    const cpuStart = process.cpuUsage()
    const start = process.hrtime.bigint()
    plan = loadLpf(bytes, opts)
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
    const used = process.cpuUsage(cpuStart)
    cpu.push((used.user + used.system) / 1000)
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
  }
  times.sort((a, b) => a - b)
  cpu.sort((a, b) => a - b)
  return {
    packs,
    bytes: bytes.length,
    runs,
    min: times[0]!,
    median: percentile(times, 50),
    p95: percentile(times, 95),
    cpuMedian: percentile(cpu, 50),
    heapDelta: during.heapUsed - before.heapUsed,
    retained: after.heapUsed - before.heapUsed,
    rssDelta: rssPeak - before.rss,
    checkSignature: baseline(),
  }
}

function checkSignatureMs(xml: string, publicKeyPem: string, runs: number): number {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint()
    const sig = new SignedXml({ publicCert: publicKeyPem })
    sig.loadSignature(new DOMParser().parseFromString(xml, 'text/xml').getElementsByTagNameNS(DSIG_NS, 'Signature').item(0)!)
    if (!sig.checkSignature(xml)) throw new Error('xml-crypto does not verify the benchmark file')
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  return percentile(times.sort((a, b) => a - b), 50)
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

function render(rows: Row[]): string {
  const ms = (n: number) => `${n.toFixed(1)} ms`
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`
  const lines = [
    '| packs | file | loadLpf min | loadLpf median | loadLpf p95 | CPU time median | runs | heap during one load | retained by the plan | RSS growth | xml-crypto checkSignature (median) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) =>
      `| ${r.packs.toLocaleString('en')} | ${r.bytes >= 1 << 20 ? mib(r.bytes) : `${(r.bytes / 1024).toFixed(1)} KiB`} | ${ms(r.min)} | ${ms(r.median)} | ${ms(r.p95)} | ${ms(r.cpuMedian)} | ${r.runs} | ${mib(r.heapDelta)} | ${mib(r.retained)} | ${mib(r.rssDelta)} | ${ms(r.checkSignature)} |`,
    ),
  ]
  const target = rows.find((r) => r.packs === 1_000)!
  lines.push(
    '',
    `Target: 1,000 packs verified and parsed in under 50 ms — ${target.median < 50 ? 'met' : 'NOT met'} (median ${ms(target.median)}, p95 ${ms(target.p95)}).`,
    `Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)} at the end; RSA 3072, SHA-256; each pack has a one-element <licenses>.`,
    'Times are wall clock per loadLpf call (screen, verify, parse, host and expiry checks); CPU time is user + system of the process over the same call.',
    'Heap during one load is heapUsed just after a load minus just before it: it counts garbage the collector has not yet reclaimed, so it depends on when the collector ran as much as on what the load allocated.',
  )
  return lines.join('\n')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(benchLpf())
}
