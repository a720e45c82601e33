// [HA-6] The CLI's side of a cluster: --server and FLR_SERVER take a list tried in order, a
// peer that accepts and never answers fails a command in seconds (not the 40 s of TCP), and
// an admin command that reaches a standby follows NOT_LEADER and authenticates on the leader.
import t from 'tap'
import { run } from '../../lib/cli/main.js'
import { serverAddress } from '../../lib/cli/server-address.js'
import { freePort } from '../helpers/server.js'
import { PASSWORD, RawClient, startAdminServer, terminal } from '../helpers/admin.js'
import { helloAnswer, scriptedNode, silentListener, standbyScript } from '../client/scripted-node.js'

t.test('[HA-6] --server and FLR_SERVER take a comma-separated list', async (t) => {
  t.same(serverAddress('a:1,b.example:19110, [::1]:7', {}), { servers: ['a:1', 'b.example:19110', '[::1]:7'] }, 'in order, spaces around commas allowed, IPv6 in brackets')
  t.same(serverAddress(undefined, { FLR_SERVER: 'x:1,y:2' }), { servers: ['x:1', 'y:2'] }, 'FLR_SERVER when --server is absent')
  t.same(serverAddress('z:3', { FLR_SERVER: 'x:1,y:2' }), { servers: ['z:3'] }, '--server wins')
  t.same(serverAddress(undefined, {}), { servers: ['127.0.0.1:19110'] }, 'the default')
  for (const bad of ['a:1,', ',a:1', 'a:1,,b:2', 'a:1,b', 'a:1;b:2', 'a:1,b:0']) {
    t.throws(() => serverAddress(bad, {}), { name: 'Error', message: /HOST:PORT/ }, `"${bad}" is refused`)
  }
  const term = terminal()
  t.equal(await run(['status', '--server', '127.0.0.1:1,nohost'], term.io), 2, 'a bad entry is a usage error')
  t.match(term.stderr(), /HOST:PORT/)
})

t.test('[HA-6] flr status against a peer that accepts and never answers fails in seconds, naming it', async (t) => {
  const silent = await silentListener(t)
  const term = terminal()
  const started = Date.now()
  t.equal(await run(['status', '--server', silent.address], term.io), 1)
  t.match(term.stderr(), new RegExp(`CONNECTION_LOST.*no answer to hello from 127\\.0\\.0\\.1:${silent.port} within 5000 ms`), 'says which server did not answer, and how long it was given')
  t.equal(silent.accepted(), 1, 'it did connect: the deadline is what ended it')
  t.same(term.out, [])
  t.comment(`gave up after ${Date.now() - started} ms`)
})

t.test('[HA-6] flr status tries the list in order: a silent peer and a dead port, then a server that answers', async (t) => {
  const silent = await silentListener(t)
  const s = await startAdminServer(t)
  const dead = `127.0.0.1:${await freePort()}`
  const term = terminal({ FLR_SERVER: `${silent.address},${dead},${s.address}` })
  t.equal(await run(['status', '--json'], term.io), 0, 'the third one answers')
  t.match(JSON.parse(term.stdout()), { serving: true, lpf: { port: s.lpfPort } })
})

t.test('[HA-6] nothing in the list answers: exit 1, each server and why', async (t) => {
  const silent = await silentListener(t)
  const dead = await freePort()
  const term = terminal()
  t.equal(await run(['status', '--server', `127.0.0.1:${dead},${silent.address}`], term.io), 1)
  const err = term.stderr()
  t.match(err, /CONNECTION_LOST: no flr server answered/)
  t.match(err, new RegExp(`127\\.0\\.0\\.1:${dead}: cannot reach flr`), 'the dead one: cannot reach')
  t.match(err, new RegExp(`${silent.address}: no answer to hello`), 'the silent one: no answer')
})

t.test('[HA-6] flr leases on a standby follows NOT_LEADER and authenticates on the leader', async (t) => {
  const s = await startAdminServer(t, { password: PASSWORD })
  const holder = await RawClient.open(t, s.port, 'ws-1')
  const held = await holder.request('lease', { pack: 'station', holder: 'alice' })
  // a standby that knew no leader at hello, and names it in NOT_LEADER
  const standby = await scriptedNode(t, (req, socket) => (req.op === 'hello' ? helloAnswer({ role: 'standby' }) : standbyScript(s.address)(req, socket)))
  const term = terminal({ FLR_ADMIN_PASSWORD: PASSWORD })
  t.equal(await run(['leases', '--json', '--server', standby.address], term.io), 0, term.stderr())
  t.match(JSON.parse(term.stdout()).leases, [{ lease: held.lease, holder: 'alice' }], "the leader's leases")
  t.same(standby.requests.filter((r) => r.request.op !== 'ping').map((r) => r.request.op), ['hello', 'auth'], 'the standby said NOT_LEADER to auth; nothing else went there')
})

t.test('[HA-6] flr revoke on a standby whose hello names the leader goes straight to the leader', async (t) => {
  const s = await startAdminServer(t, { password: PASSWORD })
  const holder = await RawClient.open(t, s.port, 'ws-1')
  const held = await holder.request('lease', { pack: 'station' })
  const standby = await scriptedNode(t, standbyScript(s.address))
  const term = terminal({ FLR_ADMIN_PASSWORD: PASSWORD })
  t.equal(await run(['revoke', String(held.lease), '--server', standby.address], term.io), 0, term.stderr())
  t.same(standby.requests.map((r) => r.request.op), ['hello'], 'only hello went to the standby')
  const check = await RawClient.open(t, s.port, 'check')
  t.match(await check.request('renew', { lease: held.lease }), { ok: false, error: { code: 'LEASE_UNKNOWN' } }, 'revoked on the leader')
})
