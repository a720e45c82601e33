// [LPF-7] [HA-2] Loading a cluster LPF: the plan names this host and the port of its own <flr>
// element, on the calling thread and on the judging worker alike.
import t from 'tap'
import { loadLpf } from '../../lib/lpf/load.js'
import { judgeLpf } from '../../lib/lpf/judge.js'
import { OTHER_HOST_ID, THIRD_HOST_ID } from '../../fixtures/make-fixtures.js'
import { NOW, TEST_HOST, valid, vendorPub } from './helpers.js'

// the judging worker re-reads the TypeScript sources under tap's loader (~10 s at load average 20)
t.setTimeout(400_000)

const opts = { vendorKeys: [vendorPub], now: NOW }
const cluster = valid('cluster.lp') // main OTHER_HOST_ID:19110, then TEST_HOST:19111

t.test('[LPF-7] [HA-2] each listed host gets its own port; the hosts stay in file order', async (t) => {
  const plan = loadLpf(cluster, { ...opts, hostId: TEST_HOST, fileName: `/licenses/${TEST_HOST}.lp` })
  t.equal(plan.hostId, TEST_HOST)
  t.equal(plan.port, 19111)
  t.same(plan.hosts, [{ hostId: OTHER_HOST_ID, port: 19110 }, { hostId: TEST_HOST, port: 19111 }])
  t.ok(Object.isFrozen(plan), 'the resolved plan is frozen too')
  const main = loadLpf(cluster, { ...opts, hostId: OTHER_HOST_ID, fileName: `${OTHER_HOST_ID}.lp` })
  t.equal(main.port, 19110)
  t.equal(main.digest, plan.digest, 'one file, one digest on every node')
})

t.test('[LPF-7] a cluster LPF on a host it does not list, or named after another host, is LPF_WRONG_HOST', async (t) => {
  t.throws(() => loadLpf(cluster, { ...opts, hostId: THIRD_HOST_ID }), {
    code: 'LPF_WRONG_HOST',
    message: new RegExp(`issued for hosts ${OTHER_HOST_ID}, ${TEST_HOST}, but this host is ${THIRD_HOST_ID}`),
    details: { lpfHostIds: [OTHER_HOST_ID, TEST_HOST], hostId: THIRD_HOST_ID },
  })
  t.throws(() => loadLpf(cluster, { ...opts, hostId: TEST_HOST, fileName: `${OTHER_HOST_ID}.lp` }), {
    code: 'LPF_WRONG_HOST',
    message: new RegExp(`the file is named ${OTHER_HOST_ID}\\.lp but is issued for hosts .*: an LPF must be named ${TEST_HOST}\\.lp`),
  })
  t.throws(() => loadLpf(cluster, { ...opts, fileName: 'cluster.lp' }), {
    code: 'LPF_WRONG_HOST',
    message: new RegExp(`each host's copy is named after it \\(${OTHER_HOST_ID}\\.lp, ${TEST_HOST}\\.lp\\)`),
  })
})

t.test('[LPF-7] without a host to check, the file name picks the host, else the main one', async (t) => {
  t.match(loadLpf(cluster, { ...opts, fileName: `/x/${TEST_HOST}.lp` }), { hostId: TEST_HOST, port: 19111 })
  t.match(loadLpf(cluster, opts), { hostId: OTHER_HOST_ID, port: 19110 })
})

t.test('[LPF-6] [HA-2] the judging worker returns the same cluster plan, frozen down to each host', async (t) => {
  const inline = loadLpf(cluster, { ...opts, hostId: TEST_HOST })
  const judged = await judgeLpf(cluster, { ...opts, hostId: TEST_HOST }, { inlineBelow: 0 })
  t.same(judged, inline)
  t.ok(Object.isFrozen(judged.hosts) && judged.hosts.every((h) => Object.isFrozen(h)), 'hosts frozen again after the structured clone')
  // a judging given up on ends the thread (as the daemon's stop does): under tap's loader an
  // idle worker's loader port would keep this process alive
  const giveUp = new AbortController()
  const last = judgeLpf(cluster, opts, { inlineBelow: 0, signal: giveUp.signal })
  giveUp.abort(new Error('done'))
  await t.rejects(last, { message: 'done' })
})
