// [LPF-6] "no file under 4 MiB stalls the daemon": a file within every bound of the screen still
// costs xmldom and verify seconds. Against a real `flr serve` child, a signed 4 MiB file of that
// kind is judged off the event loop: a bystander's pings are answered while it is judged (between
// the daemon's "judging" log line and its verdict line), and the file then loads.
import t from 'tap'
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { HOST_ID, dropLpf, freePort, lpfText, makeDirs, spawnServe } from '../helpers/server.js'
import { RawPeer } from '../helpers/wire.js'
import { hostileLpfShapes } from '../../bench/hostile-shapes.js'
import { MAX_LPF_BYTES } from '../../lib/lpf/screen.js'

t.test('[LPF-6] a signed 4 MiB LPF within the bounds is judged off the event loop: every bystander ping is answered during the judging, then it loads', async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: [{ name: 'station', limit: 3 }] })
  const serve = spawnServe(t, dirs)
  await serve.waitForLog(/listening for leases/, 60_000)
  const bystander = await RawPeer.hello(t, port, 'bystander')

  // 256 attributes per element, flr's bound: admitted by the screen, ~11 s of xmldom + verify on a loaded machine
  const shape = hostileLpfShapes(MAX_LPF_BYTES - 8192).find((s) => s.admitted && /attributes/.test(s.name))!
  const heavy = lpfText({ port, packs: [{ name: 'heavy', limit: 5, licenses: shape.licenses }] })
  t.ok(heavy.length > 4_000_000 && heavy.length <= MAX_LPF_BYTES, `${heavy.length} bytes`)

  const path = join(dirs.licenseDir, `${HOST_ID}.lp`)
  writeFileSync(`${path}.tmp`, heavy)
  const dropped = Date.now()
  renameSync(`${path}.tmp`, path)
  const verdictLine = () => serve.logs.find((l) => l.time >= dropped - 1000 && /new LPF applied|LPF rejected/.test(l.msg))
  const pings: { sent: number; answered: number }[] = []
  while (!verdictLine()) {
    if (Date.now() - dropped > 240_000) throw new Error('no verdict four minutes after the drop')
    const sent = Date.now()
    await bystander.call('ping', {}, 120_000) // throws if unanswered
    pings.push({ sent, answered: Date.now() })
    await sleep(20)
  }
  const started = serve.logs.find((l) => l.time >= dropped - 1000 && /judging the LPF off the event loop/.test(l.msg))
  const verdict = verdictLine()!
  t.ok(started, 'the daemon said when it started judging')
  const during = pings.filter((p) => p.sent > started!.time && p.answered < verdict.time)
  const latencies = pings.map((p) => p.answered - p.sent).sort((a, b) => a - b)
  t.comment(`judged in ${verdict.time - started!.time} ms; ${pings.length} pings, all answered, ${during.length} of them sent and answered while the file was being judged; bystander latency p50 ${latencies[latencies.length >> 1]} ms, max ${latencies[latencies.length - 1]} ms`)
  // with the load on the event loop no ping can be both sent and answered inside the judging
  t.ok(during.length >= 3, `pings were answered while the file was being judged (${during.length})`)

  const status = await bystander.call('status', {}, 120_000)
  if (/LPF rejected/.test(verdict.msg)) {
    // only if the machine is so loaded that judging passed the deadline: refused with the LPF code, never stalled
    t.match(status, { serving: true, pendingError: { code: 'LPF_MALFORMED', message: /took longer than .* to judge/ } })
  } else {
    t.match(status, { serving: true, packs: [{ name: 'heavy', limit: 5 }] })
    t.notOk('pendingError' in status, 'no pending error')
  }
})
