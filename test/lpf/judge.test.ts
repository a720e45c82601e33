// [LPF-6] judgeLpf: the whole load on a worker thread, with a deadline. Same verdicts as loadLpf.
import t from 'tap'
import { loadLpf } from '../../lib/lpf/load.js'
import { judgeLpf } from '../../lib/lpf/judge.js'
import { buildLpfXml, signLpf } from '../../lib/lpf/vendor.js'
import { niagaraSpec } from '../../fixtures/make-fixtures.js'
import { NOW, TEST_HOST, VENDOR_KEY_PEM, hostile, hostileCases, valid, validCases, vendorPub } from './helpers.js'

// every worker re-reads the TypeScript sources under tap's loader (~10 s each at load average 20)
t.setTimeout(400_000)

const opts = { vendorKeys: [vendorPub], hostId: TEST_HOST, now: NOW }
// the fixtures are small: inlineBelow 0 sends them to the worker all the same
const worker = { inlineBelow: 0 }

t.test('[LPF-6] off the event loop, a valid fixture gives the plan loadLpf gives, frozen', async (t) => {
  for (const c of validCases.slice(0, 1)) {
    const o = { ...opts, fileName: `/var/lib/flr/licenses/${TEST_HOST}.lp` }
    const plan = await judgeLpf(valid(c.file), o, worker)
    t.same(plan, loadLpf(valid(c.file), o), c.file)
    t.ok(Object.isFrozen(plan) && Object.isFrozen(plan.packs) && plan.packs.every(Object.isFrozen), `${c.file}: frozen`)
  }
})

// one fixture per code: every worker re-reads the TypeScript source under tap (seconds on a loaded machine)
const onePerCode = [...new Map(hostileCases.map((c) => [c.code, c])).values()]

t.test('[LPF-6] off the event loop, a hostile fixture of every code is refused with the same code, message and details', async (t) => {
  t.ok(onePerCode.length >= 5)
  for (const c of onePerCode) {
    let expected: unknown
    try {
      loadLpf(hostile(c.file), opts)
    } catch (e) {
      expected = e
    }
    const err = expected as { code: string; message: string; details: unknown }
    await t.rejects(judgeLpf(hostile(c.file), opts, worker), { name: 'FlrError', code: c.code, message: err.message, details: err.details }, c.file)
  }
})

t.test('[LPF-6] a file that takes longer than the deadline to judge is refused with an LPF code', async (t) => {
  // a large valid file and a 1 ms deadline: the worker cannot even start in time
  const big = Buffer.from(signLpf(buildLpfXml(niagaraSpec({ packs: Array.from({ length: 2000 }, (_, k) => ({ name: `p${k}`, limit: 1, licenses: `<license product="p${k}"/>` })) })), VENDOR_KEY_PEM))
  await t.rejects(judgeLpf(big, opts, { deadlineMs: 1 }), {
    code: 'LPF_MALFORMED',
    message: /took longer than .* to judge .*ask the vendor/,
    details: { deadlineMs: 1, size: big.length },
  })
  // the file itself is good: the deadline refused it, not its content
  t.equal(loadLpf(big, opts).hostId, TEST_HOST)
})

t.test('[LPF-6] an abort (the daemon stops) ends the judging with the abort reason', async (t) => {
  const ac = new AbortController()
  const judging = judgeLpf(valid(validCases[0]!.file), opts, { ...worker, signal: ac.signal })
  ac.abort(new Error('stopping'))
  await t.rejects(judging, { message: 'stopping' })
  await t.rejects(judgeLpf(valid(validCases[0]!.file), opts, { ...worker, signal: ac.signal }), { message: 'stopping' })
})

t.test('[LPF-6] a small file is judged on the calling thread, with the same verdicts', async (t) => {
  const file = valid(validCases[0]!.file)
  t.ok(file.length < 32 * 1024)
  t.same(await judgeLpf(file, opts, { deadlineMs: 1 }), loadLpf(file, opts), 'no worker, so no deadline to miss')
  const c = hostileCases[0]!
  await t.rejects(judgeLpf(hostile(c.file), opts), { code: c.code })
})
