// Benchmark ([LPF-6]): the cost of judging a hostile file of up to 4 MiB, next to a normal
// 1,000-pack LPF. Each hostile shape is one that made xmldom or a recursive walk stall before
// the screen bounded it (issue 11), in two forms: past the bounds (refused by the screen) and
// just within them (admitted by the screen, so xmldom, c14n and parse run on it, signed).
// Run: npx tsc -p . && node dist/bench/hostile-lpf.js   (prints a markdown table)
import { createPublicKey } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { isFlrError } from '../lib/errors.js'
import { loadLpf } from '../lib/lpf/load.js'
import { MAX_LPF_BYTES } from '../lib/lpf/screen.js'
import { buildLpfXml, generateVendorKeys, signLpf } from '../lib/lpf/vendor.js'
import { hostileLpfShapes } from './hostile-shapes.js'

const HOST_ID = 'Lnx-TEST-TEST-TEST-TEST'

export function benchHostileLpf(): string {
  const keys = generateVendorKeys()
  const opts = { vendorKeys: [createPublicKey(keys.publicKeyPem)], hostId: HOST_ID }
  const normal = signLpf(buildLpfXml(spec(1_000, '')), keys.privateKeyPem)
  const rows: [string, Buffer][] = [['normal LPF, 1,000 packs (signed)', Buffer.from(normal)]]
  for (const shape of hostileLpfShapes(MAX_LPF_BYTES - 4096)) {
    process.stderr.write(`hostile-lpf: ${shape.name}…\n`)
    // an admitted shape is signed, so that verify, c14n and parse all run on it
    const xml = buildLpfXml(spec(1, shape.licenses))
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

function spec(packs: number, licenses: string) {
  return {
    vendor: 'Acme',
    generated: '2026-11-01',
    expiration: '2099-12-31',
    hostId: HOST_ID,
    port: 19110,
    packs: Array.from({ length: packs }, (_, i) => ({
      name: `pack-${i}`,
      limit: i % 1000,
      licenses: licenses || `<license product="pack-${i}" edition="pro" features="a,b,c" expires="2099-12-31"/>`,
    })),
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.stdout.write(benchHostileLpf())
