// Two real `flr serve` nodes on one PostgreSQL: what a standby answers ([HA-4]), hello's
// cluster fields ([WIRE-4]), health and /request for a load balancer, and the node list ([HA-8]).
import t from 'tap'
import { freshDatabase } from '../helpers/postgres.js'
import { Cluster, openWithin } from './cluster-harness.js'
import { runFlr } from '../helpers/crash.js'

async function http(port: number, path: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, init)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

t.test('[HA-4] [WIRE-4] [HA-8] a standby redirects; the leader serves; both say who leads', async (t) => {
  const url = await freshDatabase(t)
  const cluster = await Cluster.create(t, { url, nodes: 2, packs: [{ name: 'cad', limit: 2 }, { name: 'Agent-Session', limit: 2 }] })
  const [a, b] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0]]
  await cluster.start(a)
  t.equal(await cluster.waitForLeader(), a, 'the first node takes the lead')
  await cluster.start(b)
  await b.log!.waitForLog(/^standing by/, 30_000)

  const onB = (await openWithin(b.port, 'ann', 5_000))!
  t.teardown(() => onB.conn.destroy())
  t.equal(onB.hello.role, 'standby')
  t.equal(onB.hello.leader, a.address, 'hello names the leader')
  t.same([...(onB.hello.servers as string[])].sort(), [a.address, b.address].sort(), 'and every node')

  const refused = await onB.conn.request('lease', { pack: 'cad' })
  t.match(refused, { ok: false, error: { code: 'NOT_LEADER', leader: a.address } }, 'a standby refuses a lease, naming the leader')
  t.match(await onB.conn.request('release', { lease: 'AAAAAAAAAAAAAAAAAAAAAA' }), { ok: false, error: { code: 'NOT_LEADER' } })
  t.match(await onB.conn.request('auth', { password: 'x' }), { ok: false, error: { code: 'NOT_LEADER' } }, 'every op but hello, ping and status')
  t.match(await onB.conn.request('ping'), { ok: true })
  const status = await onB.conn.request('status')
  t.match(status, { ok: true, serving: false, reason: { code: 'NOT_LEADER' }, cluster: { role: 'standby', node: b.hostId, leader: a.address } })

  const onA = (await openWithin(a.port, 'ann', 5_000))!
  t.teardown(() => onA.conn.destroy())
  t.equal(onA.hello.role, 'leader')
  t.match(await onA.conn.request('lease', { pack: 'cad' }), { ok: true }, 'the leader grants')

  // [HA-4] [HTTP-1] the load balancer's view
  const healthA = await http(a.httpPort, '/api/1.0/health')
  const healthB = await http(b.httpPort, '/api/1.0/health')
  t.match(healthA, { status: 200, body: { serving: true, role: 'leader' } })
  t.match(healthB, { status: 503, body: { serving: false, role: 'standby', reason: { code: 'NOT_LEADER' } } })
  const request = await http(b.httpPort, '/request', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client: 'agent-1' }) })
  t.match(request, { status: 503, body: { authorized: false, error: { code: 'NOT_LEADER', leader: a.address, leaderHttp: `127.0.0.1:${a.httpPort}` } } }, '/request names the leader\'s shim')

  // [HA-8] status lists the nodes with their roles and digests; these two serve different files
  let cl: Record<string, unknown> = {}
  for (let i = 0; i < 100; i++) {
    cl = (await onA.conn.request('status')).cluster as Record<string, unknown>
    if ((cl.nodes as unknown[]).length === 2) break
    await new Promise((r) => setTimeout(r, 100))
  }
  const nodes = cl.nodes as Array<Record<string, unknown>>
  t.same(nodes.map((n) => [n.hostId, n.role, n.address]), [[a.hostId, 'leader', a.address], [b.hostId, 'standby', b.address]])
  for (const n of nodes) t.match(n, { lastSeen: String, lastSeenAgoMs: Number, lpfDigest: /^[0-9a-f]{64}$/ })
  t.match(cl.warning, /different LPFs/, 'a warning when the nodes serve different files')

  // flr status prints the cluster
  const printed = await runFlr(['status', '--server', `127.0.0.1:${a.port}`])
  t.match(printed.stdout, /leader/)
  t.match(printed.stdout, new RegExp(b.hostId))
})

t.test('[HA-2] [HA-8] nodes serving one cluster LPF: the same digest everywhere, no warning', async (t) => {
  const url = await freshDatabase(t)
  const cluster = await Cluster.create(t, { url, nodes: 2, clusterLpf: true, packs: [{ name: 'cad', limit: 2 }] })
  await cluster.startAll()
  const leader = await cluster.waitForLeader()
  const got = (await openWithin(leader.port, 'probe', 5_000))!
  t.teardown(() => got.conn.destroy())
  let cl: Record<string, unknown> = {}
  for (let i = 0; i < 100; i++) {
    cl = (await got.conn.request('status')).cluster as Record<string, unknown>
    if ((cl.nodes as unknown[]).length === 2) break
    await new Promise((r) => setTimeout(r, 100))
  }
  const digests = new Set((cl.nodes as Array<{ lpfDigest?: string }>).map((n) => n.lpfDigest))
  t.equal(digests.size, 1, 'one digest')
  t.equal(cl.warning, undefined, 'no warning')
  t.match(await got.conn.request('lease', { pack: 'cad' }), { ok: true }, 'the cluster LPF is served on the shared store')
})
