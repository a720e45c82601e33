// Benchmark ([LPF-6]): the cost of judging a hostile file of up to 4 MiB, next to a normal
// 1,000-pack LPF. Each hostile shape is one that made xmldom or a recursive walk stall before
// the screen bounded it (issue 11), in two forms: past the bounds (refused by the screen) and
// just within them (admitted by the screen, so xmldom, c14n and parse run on it, signed).
// Run: npx tsc -p . && node dist/bench/hostile-lpf.js   (prints a markdown table)
import { createPublicKey } from 'node:crypto'
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { isFlrError } from '../lib/errors.js'
import { loadLpf } from '../lib/lpf/load.js'
import { MAX_LPF_BYTES } from '../lib/lpf/screen.js'
import { buildLpfXml, generateVendorKeys, signLpf } from '../lib/lpf/vendor.js'
import { hostileLpfShapes } from './hostile-shapes.js'
import { RawConnection, fmt, freePort, percentile, removeTempDir, serveDirs, sleep, sortedCopy, startServe, tempDir, writeLpf } from './common.js'
import { HOST_ID, lpfText, manyPacksSpec } from './harness.js'


export function benchHostileLpf(): string {
  const keys = generateVendorKeys()
  const opts = { vendorKeys: [createPublicKey(keys.publicKeyPem)], hostId: HOST_ID }
  const normal = signLpf(buildLpfXml(manyPacksSpec(1_000)), keys.privateKeyPem)
  const rows: [string, Buffer][] = [['normal LPF, 1,000 packs (signed)', Buffer.from(normal)]]
  for (const shape of hostileLpfShapes(MAX_LPF_BYTES - 4096)) {
    process.stderr.write(`hostile-lpf: ${shape.name}…\n`)
    // an admitted shape is signed, so that verify, c14n and parse all run on it
    const xml = buildLpfXml(manyPacksSpec(1, shape.licenses))
    rows.push([shape.name, Buffer.from(shape.admitted ? signLpf(xml, keys.privateKeyPem) : xml)])
  }
  const lines = ['| file | bytes | verdict | median ms | max ms |', '|---|---:|---|---:|---:|']
  for (const [name, bytes] of rows) {
    const times: number[] = []
    let verdict = ''
    // three runs of a file that takes seconds keep the script inside the runner's timeout
    const runs = bytes.length > 1_000_000 ? 3 : 7
    for (let run = 0; run < runs; run++) {
      const started = process.hrtime.bigint()
      try {
        verdict = `loaded, ${loadLpf(bytes, opts).packs.length} packs`
      } catch (e) {
        if (!isFlrError(e)) throw e
        verdict = `${e.code}: ${e.message.replace(/^.*?\(/, '').replace(/\).*$/, '')}`
      }
      times.push(Number(process.hrtime.bigint() - started) / 1e6)
    }
    times.sort((a, b) => a - b)
    lines.push(`| ${name} | ${bytes.length.toLocaleString('en')} | ${verdict.slice(0, 90)} | ${times[runs >> 1]!.toFixed(1)} | ${times[runs - 1]!.toFixed(1)} |`)
  }
  return lines.join('\n') + '\n'
}


/**
 * [LPF-6] What a client sees while a real `flr serve` judges the worst admitted 4 MiB file (the
 * slowest row above), now that the judging runs on a worker thread: a bystander pings every
 * 10 ms; its latencies while the file is judged (between the daemon's "judging" and verdict lines).
 */
export async function benchJudgingLatency(): Promise<string> {
  const root = tempDir('judge')
  const dirs = serveDirs(root)
  const port = await freePort()
  writeLpf(dirs.licenseDir, port, [{ name: 'station', limit: 3 }])
  const server = await startServe(dirs, port)
  try {
    const bystander = await RawConnection.open(port, 'bystander')
    const worst = hostileLpfShapes(MAX_LPF_BYTES - 8192).find((s) => s.admitted && /^nested elements/.test(s.name))!
    const heavy = lpfText({ port, packs: [{ name: 'heavy', limit: 5, licenses: worst.licenses }] })
    const path = join(dirs.licenseDir, `${HOST_ID}.lp`)
    writeFileSync(`${path}.tmp`, heavy)
    const dropped = Date.now()
    renameSync(`${path}.tmp`, path)
    const verdictLine = () => server.logs.find((l) => l.time >= dropped - 1000 && /new LPF applied|LPF rejected/.test(l.msg))
    const pings: { sent: number; ms: number; ok: boolean }[] = []
    while (!verdictLine() && Date.now() - dropped < 180_000) {
      const sent = Date.now()
      const t0 = performance.now()
      const reply = await bystander.request('ping')
      pings.push({ sent, ms: performance.now() - t0, ok: reply.ok })
      await sleep(10)
    }
    const verdict = verdictLine()
    const started = server.logs.find((l) => l.time >= dropped - 1000 && /judging the LPF off the event loop/.test(l.msg))
    bystander.destroy()
    if (!verdict || !started) return `judging did not finish within 180 s (or was not logged)\n`
    const during = pings.filter((p) => p.sent >= started.time && p.sent + p.ms <= verdict.time)
    const ms = sortedCopy(during.map((p) => p.ms))
    const lines = [
      '| file judged by a live `flr serve` | bytes | judged in | verdict | pings during the judging (all answered) | p50 | p99 | max |',
      '|---|---:|---:|---|---:|---:|---:|---:|',
      `| ${worst.name} (signed) | ${heavy.length.toLocaleString('en')} | ${fmt.int(verdict.time - started.time)} ms | ${verdict.msg.slice(0, 60)} | ${during.length}${pings.every((p) => p.ok) ? '' : ' (some refused!)'} | ${fmt.ms(percentile(ms, 50))} | ${fmt.ms(percentile(ms, 99))} | ${fmt.ms(percentile(ms, 100))} |`,
    ]
    return lines.join('\n') + '\n'
  } finally {
    await server.stop()
    removeTempDir(root)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // FLR_BENCH_JUDGING_ONLY=1 runs only the live-server figure
  if (process.env.FLR_BENCH_JUDGING_ONLY !== '1') process.stdout.write(benchHostileLpf() + '\n')
  process.stdout.write(await benchJudgingLatency())
}
