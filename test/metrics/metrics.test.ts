// [OBS-1] /metrics of a real daemon on real sockets, read with a strict exposition parser
// (exposition.ts), after real leases, denials, releases, expiries and requests over TCP and HTTP.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { VERSION } from '../../lib/version.js'
import { dropLpf, servePacks } from '../helpers/server.js'
import { RawPeer } from '../helpers/wire.js'
import { valueOf, type Family } from './exposition.js'
import { hasPromtool, NEEDS_PROMTOOL, promtool, scrape } from './scrape.js'

const PACKS = [
  { name: 'station', limit: 2 },
  { name: 'wb', limit: 1 },
]
/** Names of people, machines and addresses the test uses: none may appear in a label. */
const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin', 'metrics-client', '127.0.0.1']

function typeOf(families: Map<string, Family>, name: string): string | undefined {
  return families.get(name)?.type
}

/** Polls the scrape until `check` holds (the daemon acts on its own timers); fails after 15 s. */
async function until(httpPort: number, check: (f: Map<string, Family>) => boolean, what: string): Promise<Map<string, Family>> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const { families } = await scrape(httpPort)
    if (check(families)) return families
    if (Date.now() > deadline) throw new Error(`the scrape never showed ${what}`)
    await sleep(50)
  }
}

t.test('[OBS-1] a scrape after leases, denials and a release: every metric of the spec, with its type and values, and no holder, client or address in a label', async (t) => {
  const { port, daemon } = await servePacks(t, PACKS, { httpPort: 0 })
  const peer = await RawPeer.hello(t, port, 'metrics-client')
  const alice = await peer.call('lease', { pack: 'station', holder: 'alice' })
  await peer.call('lease', { pack: 'station', holder: 'bob' })
  t.match(await peer.call('lease', { pack: 'station', holder: 'carol' }), { ok: false, error: { code: 'PACK_EXHAUSTED' } })
  await peer.call('lease', { pack: 'wb', holder: 'dave' })
  t.match(await peer.call('lease', { pack: 'wb', holder: 'erin', wait: 200 }), { ok: false, error: { code: 'WAIT_TIMEOUT' } })
  t.match(await peer.call('release', { lease: alice.lease }), { ok: true })

  const { families, contentType, text } = await scrape(daemon.httpPort!)
  t.match(contentType, /^text\/plain; version=0\.0\.4/, 'the text format')
  t.equal(valueOf(families, 'flr_build_info', { version: VERSION, node: process.version }), 1)
  t.equal(valueOf(families, 'flr_serving'), 1)
  const expiry = valueOf(families, 'flr_lpf_expiry_timestamp_seconds')!
  t.ok(expiry >= Date.UTC(2099, 11, 31) / 1000 && expiry <= Date.UTC(2100, 0, 1) / 1000, `the LPF's expiration, 2099-12-31 (${expiry})`)
  t.same(
    ['station', 'wb'].map((pack) => ['flr_pack_limit', 'flr_pack_in_use', 'flr_pack_waiting'].map((m) => valueOf(families, m, { pack }))),
    [
      [2, 1, 0],
      [1, 1, 0],
    ],
    'limit, in use and waiting of each pack',
  )
  t.equal(valueOf(families, 'flr_grants_total', { pack: 'station' }), 2)
  t.equal(valueOf(families, 'flr_grants_total', { pack: 'wb' }), 1)
  t.equal(valueOf(families, 'flr_denials_total', { pack: 'station', code: 'PACK_EXHAUSTED' }), 1)
  t.equal(valueOf(families, 'flr_denials_total', { pack: 'station', code: 'WAIT_TIMEOUT' }), 0, 'a code not seen yet is there, at 0')
  t.equal(valueOf(families, 'flr_denials_total', { pack: 'wb', code: 'WAIT_TIMEOUT' }), 1)
  t.equal(valueOf(families, 'flr_lease_ends_total', { pack: 'station', how: 'released' }), 1)
  t.equal(valueOf(families, 'flr_lease_ends_total', { pack: 'station', how: 'expired' }), 0)
  t.equal(valueOf(families, 'flr_connections'), 1, 'one TCP connection open')
  t.equal(valueOf(families, 'flr_request_duration_seconds_count', { op: 'lease', transport: 'tcp' }), 5)
  t.equal(valueOf(families, 'flr_request_duration_seconds_count', { op: 'release', transport: 'tcp' }), 1)
  t.equal(valueOf(families, 'flr_request_duration_seconds_count', { op: 'hello', transport: 'tcp' }), 1)
  t.equal(valueOf(families, 'flr_store_commit_seconds_count'), 4, 'three grants and one release made durable')
  t.equal(valueOf(families, 'flr_leader'), undefined, 'no leader metric on a single node')
  for (const [name, type] of Object.entries({
    flr_build_info: 'gauge',
    flr_serving: 'gauge',
    flr_lpf_expiry_timestamp_seconds: 'gauge',
    flr_pack_limit: 'gauge',
    flr_pack_in_use: 'gauge',
    flr_pack_waiting: 'gauge',
    flr_grants_total: 'counter',
    flr_denials_total: 'counter',
    flr_lease_ends_total: 'counter',
    flr_connections: 'gauge',
    flr_request_duration_seconds: 'histogram',
    flr_store_commit_seconds: 'histogram',
    process_cpu_seconds_total: 'counter',
    process_resident_memory_bytes: 'gauge',
    nodejs_eventloop_lag_seconds: 'gauge',
    nodejs_heap_size_used_bytes: 'gauge',
  })) {
    t.equal(typeOf(families, name), type, `${name} is a ${type}`)
  }
  const labelValues = [...families.values()].flatMap((f) => f.samples.flatMap((s) => Object.values(s.labels)))
  for (const who of PEOPLE) t.notOk(labelValues.some((v) => v.includes(who)), `no label holds ${who}`)
  t.notOk(text.includes('alice'), 'nor does any other part of the scrape')
})

t.test('[OBS-1] the gauges follow the daemon between scrapes, and an expiry is counted as an end', async (t) => {
  const { port, daemon, dirs } = await servePacks(t, PACKS, { httpPort: 0, leaseTtlMs: 300 })
  const peer = await RawPeer.hello(t, port, 'metrics-client')
  await peer.call('lease', { pack: 'station', holder: 'alice' })
  t.equal(valueOf((await scrape(daemon.httpPort!)).families, 'flr_pack_in_use', { pack: 'station' }), 1)
  await until(daemon.httpPort!, (f) => valueOf(f, 'flr_lease_ends_total', { pack: 'station', how: 'expired' }) === 1, 'the expiry')
  t.equal(valueOf((await scrape(daemon.httpPort!)).families, 'flr_pack_in_use', { pack: 'station' }), 0, 'the seat is free again')
})

t.test('[OBS-1] a lease whose pack leaves the LPF is counted as ended pack-removed', async (t) => {
  // the default TTL: a short one could let the lease expire first on a loaded machine
  const { port, daemon, dirs } = await servePacks(t, PACKS, { httpPort: 0 })
  const peer = await RawPeer.hello(t, port, 'metrics-client')
  const held = await peer.call('lease', { pack: 'wb', holder: 'bob' })
  t.match(held, { ok: true })
  dropLpf(dirs.licenseDir, { port, packs: [PACKS[0]!] })
  t.match(await daemon.reload(), { applied: true })
  const families = await scrape(daemon.httpPort!).then((s) => s.families)
  t.equal(valueOf(families, 'flr_pack_limit', { pack: 'wb' }), undefined, 'a pack gone from the LPF has no gauge')
  t.equal(valueOf(families, 'flr_lease_ends_total', { pack: 'wb', how: 'pack-removed' }), 1, 'its lease ended with it')
  t.equal(valueOf(families, 'flr_grants_total', { pack: 'wb' }), 1, 'its counters stay: a counter never goes away or back')
})

t.test('[OBS-1] HTTP /request calls are timed with transport http, and counted like TCP grants', async (t) => {
  const { daemon } = await servePacks(t, PACKS, { httpPort: 0, httpPack: 'station' })
  const base = `http://127.0.0.1:${daemon.httpPort}`
  const grant = await fetch(`${base}/request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client: 'alice' }) })
  const { lease } = (await grant.json()) as { lease: string }
  t.equal((await fetch(`${base}/request/${lease}`, { method: 'DELETE' })).status, 204)
  await fetch(`${base}/api/1.0/health`).then((r) => r.text())
  const families = await until(daemon.httpPort!, (f) => valueOf(f, 'flr_request_duration_seconds_count', { op: 'health', transport: 'http' }) === 1, 'the health call')
  t.equal(valueOf(families, 'flr_request_duration_seconds_count', { op: 'lease', transport: 'http' }), 1)
  t.equal(valueOf(families, 'flr_request_duration_seconds_count', { op: 'release', transport: 'http' }), 1)
  t.equal(valueOf(families, 'flr_grants_total', { pack: 'station' }), 1)
  t.equal(valueOf(families, 'flr_lease_ends_total', { pack: 'station', how: 'released' }), 1)
  const ops = new Set([...families.get('flr_request_duration_seconds')!.samples].map((s) => s.labels.op))
  t.notOk([...ops].some((op) => op !== undefined && op.includes(lease)), 'no lease id in the op label')
})

t.test('[OBS-1] /metrics answers GET and HEAD only', async (t) => {
  const { daemon } = await servePacks(t, PACKS, { httpPort: 0 })
  const res = await fetch(`http://127.0.0.1:${daemon.httpPort}/metrics`, { method: 'POST' })
  t.equal(res.status, 405)
  t.equal(res.headers.get('allow'), 'GET, HEAD')
  t.match(await res.json(), { error: { code: 'METHOD_NOT_ALLOWED' } })
  const head = await fetch(`http://127.0.0.1:${daemon.httpPort}/metrics`, { method: 'HEAD' })
  t.equal(head.status, 200)
  t.equal(await head.text(), '')
})

t.test('[OBS-1] promtool check metrics accepts a real scrape', { skip: hasPromtool() ? false : NEEDS_PROMTOOL }, async (t) => {
  const { port, daemon } = await servePacks(t, PACKS, { httpPort: 0 })
  const peer = await RawPeer.hello(t, port, 'metrics-client')
  await peer.call('lease', { pack: 'station', holder: 'alice' })
  const { text } = await scrape(daemon.httpPort!)
  const { code, output } = await promtool(['check', 'metrics'], text)
  // 0: clean; 3: lint complaints only (1 would be a text that does not parse)
  t.ok(code === 0 || code === 3, `promtool parses the scrape (exit ${code}): ${output.trim() || 'no complaint'}`)
  const complaints = output.trim().split('\n').filter(Boolean)
  // prom-client's own Node gauges are named *_total (prom-client 15): its naming, not flr's
  const ours = complaints.filter((line) => !PROM_CLIENT_NAMES.some((name) => line.startsWith(`${name} `)))
  t.same(ours, [], 'no complaint about any metric flr names')
})

/** Default metrics of prom-client that promtool's lint objects to (gauges ending in _total). */
const PROM_CLIENT_NAMES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']
