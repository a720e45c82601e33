// [HA-6] A server that stops answering without closing its connection: a real `flr serve`
// frozen with SIGSTOP (its kernel keeps the socket open and even accepts new connections).
// Every request has a deadline, and a silent connection is probed with ping, so the client
// notices and tries the next server instead of hanging for as long as TCP would.
import t, { type Test } from 'tap'
import { once } from 'node:events'
import { FlrClient } from '../../lib/client/client.js'
import { isFlrError } from '../../lib/errors.js'
import { servePacks, type ServeProcess } from '../helpers/server.js'
import { nodeDirs, serveNode, type Node } from './serve-node.js'
import { RawPeer } from '../helpers/wire.js'
import { eventually } from '../helpers/admin.js'
import { helloAnswer, scriptedNode } from './scripted-node.js'

const PACKS = [{ name: 'station', limit: 1 }]
const WAIT = () => ({ signal: AbortSignal.timeout(60_000) })

/** Real `flr serve` children serving PACKS, one per name, each on a free port in its own directories. */
function serve(t: Test, ...names: string[]): Promise<Node[]> {
  const dirs = nodeDirs(t, names)
  return Promise.all(names.map((name) => serveNode(t, dirs[name]!, PACKS)))
}

/** SIGSTOP now; SIGCONT at teardown, before the kill, so that the child can exit. */
function freeze(t: Test, proc: ServeProcess): void {
  t.teardown(() => void proc.child.kill('SIGCONT'))
  proc.child.kill('SIGSTOP')
}

t.test('[HA-6] a frozen server misses its ping: disconnected, and the client moves to the next server', async (t) => {
  const [a, b] = await serve(t, 'a', 'b')
  const client = await FlrClient.connect({ servers: [a.address, b.address], client: 'app', pingIntervalMs: 200, requestTimeoutMs: 1_000, backoffMinMs: 20, backoffMaxMs: 200 })
  t.teardown(() => client.close())
  t.equal(client.server, a.address, 'the first server of the list while it answers')
  const disconnected = once(client, 'disconnected', WAIT())
  const connected = once(client, 'connected', WAIT())
  freeze(t, a.proc)
  const [err] = (await disconnected) as [Error]
  t.ok(isFlrError(err, 'CONNECTION_LOST'), 'CONNECTION_LOST')
  t.match(err.message, new RegExp(`no answer to ping from ${a.address} within 1000 ms`), 'the missed probe is named')
  await connected
  t.equal(client.server, b.address, 'now on the next server')
  t.match(await client.status(), { serving: true }, 'and it answers there')
})

t.test('[HA-6] a request to a frozen server rejects at its deadline instead of hanging', async (t) => {
  const [a] = await serve(t, 'a')
  // no probe in the way: the request's own deadline is what ends it
  const client = await FlrClient.connect({ servers: [a.address], client: 'app', reconnect: false, pingIntervalMs: 600_000, requestTimeoutMs: 1_000 })
  t.teardown(() => client.close())
  const disconnected = once(client, 'disconnected', WAIT())
  freeze(t, a.proc)
  const err = await client.status().then(() => undefined, (e: unknown) => e)
  t.ok(isFlrError(err, 'CONNECTION_LOST'), `CONNECTION_LOST (${String(err)})`)
  t.match((err as Error).message, new RegExp(`no answer to status from ${a.address} within 1000 ms`))
  await disconnected
  t.pass('the connection that missed the deadline counts as lost')
  const again = await client.status().then(() => undefined, (e: unknown) => e)
  t.ok(isFlrError(again, 'CONNECTION_LOST'), 'and is not used again')
})

t.test('[HA-6] connect() to a frozen first server gives up on its hello and takes the next one', async (t) => {
  const [a, b] = await serve(t, 'a', 'b')
  freeze(t, a.proc)
  // the default connectTimeoutMs (5 s): a loaded machine may be slow to answer, a frozen server never does
  const client = await FlrClient.connect({ servers: [a.address, b.address], client: 'app' })
  t.teardown(() => client.close())
  t.equal(client.server, b.address)
})

t.test('[HA-6] a lease with wait gets wait + the deadline: a long wait is not cut short', async (t) => {
  const { port } = await servePacks(t, PACKS)
  const holder = await RawPeer.hello(t, port, 'holder')
  await holder.call('lease', { pack: 'station' })
  const client = await FlrClient.connect({ port, client: 'app', requestTimeoutMs: 300, pingIntervalMs: 600_000 })
  t.teardown(() => client.close())
  const err = await client.lease('station', { wait: 1_500 }).then(() => undefined, (e: unknown) => e)
  t.ok(isFlrError(err, 'WAIT_TIMEOUT'), `the server's WAIT_TIMEOUT, not a deadline of 300 ms (${String(err)})`)
  t.match(await client.status(), { serving: true }, 'the connection is still up')
})

t.test('[HA-6] a silent connection is probed with ping; a peer that answers hello but no ping is left', async (t) => {
  let answerPings = true
  const node = await scriptedNode(t, (req) => {
    if (req.op === 'hello') return helloAnswer()
    return req.op === 'ping' && !answerPings ? undefined : { ok: true }
  })
  const client = await FlrClient.connect({ servers: [node.address], client: 'app', reconnect: false, pingIntervalMs: 100, requestTimeoutMs: 500 })
  t.teardown(() => client.close())
  let lost: Error | undefined
  client.on('disconnected', (e: Error) => (lost = e))
  const pings = () => node.requests.filter((r) => r.request.op === 'ping').length
  await eventually(() => pings() >= 3, 'three pings on the silent connection', 30_000)
  t.equal(lost, undefined, 'kept while they are answered')
  answerPings = false
  const [err] = (await once(client, 'disconnected', WAIT())) as [Error]
  t.match(err.message, new RegExp(`no answer to ping from ${node.address} within 500 ms`))
  await eventually(() => node.sockets.size === 0, 'the connection to be closed', 30_000)
})
