import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { Agent as HttpAgent, request as httpRequest } from 'node:http'
import { SeatEngine } from '../../lib/engine/engine.js'
import { memoryStore } from '../../lib/engine/types.js'
import { systemClock } from '../../lib/util/clock.js'
import { createHttpShim, startHttp } from '../../lib/server/http.js'

// A self-signed certificate for 127.0.0.1, made for this run (openssl is on every Debian host).
const dir = t.testdir()
const keyPath = join(dir, 'key.pem')
const certPath = join(dir, 'cert.pem')
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
  '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=localhost',
  '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
], { stdio: 'ignore' })
const key = readFileSync(keyPath)
const cert = readFileSync(certPath)

const PACK = { name: 'Agent-Session', limit: 5, licenses: '<licenses><license product="agent"/></licenses>' }

interface Answer {
  status: number
  body: any
}

type Send = (method: string, path: string, body?: unknown) => Promise<Answer>

function sender(request: typeof httpRequest, port: number, agent: HttpAgent, extra: object = {}): Send {
  return (method, path, body) =>
    new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body)
      const headers: Record<string, string | number> = text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }
      const req = request({ host: '127.0.0.1', port, method, path, agent, headers, ...extra }, (res) => {
        let data = ''
        res.on('data', (d) => (data += d))
        res.on('end', () => resolve({ status: res.statusCode!, body: data ? JSON.parse(data) : undefined }))
      })
      req.on('error', reject)
      req.end(text)
    })
}

async function startBoth(t: Test) {
  const engine = new SeatEngine({ clock: systemClock(), store: memoryStore, ttlMs: 30_000 })
  engine.applyPlan([PACK])
  // one handler, mounted on both listeners, as the daemon does
  const handler = createHttpShim({ engine, httpPack: 'Agent-Session', version: { version: '1.0.0' }, log: { error() {}, debug() {} } })
  const https = await startHttp({ port: 0, host: '127.0.0.1', tls: { cert, key } }, handler)
  const http = await startHttp({ port: 0, host: '127.0.0.1' }, handler)
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 32, ca: cert })
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 32 })
  t.teardown(async () => {
    httpsAgent.destroy()
    httpAgent.destroy()
    for (const { server } of [https, http]) {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    }
    engine.close()
  })
  return {
    engine,
    httpsPort: https.port,
    overHttps: sender(httpsRequest as unknown as typeof httpRequest, https.port, httpsAgent as unknown as HttpAgent),
    overHttp: sender(httpRequest, http.port, httpAgent),
  }
}

t.test('[HTTP-1] [HTTP-2] [HTTP-3] [HTTP-4] the shim over HTTPS with a self-signed certificate', async (t) => {
  const { overHttps } = await startBoth(t)
  const health = await overHttps('GET', '/api/1.0/health')
  t.equal(health.status, 200)
  t.equal(health.body.GLS.database.connectionCheck, 'success')
  const grant = await overHttps('POST', '/request', { client: 'tls-agent' })
  t.match(grant, { status: 200, body: { authorized: true, pack: 'Agent-Session', licenses: PACK.licenses } })
  t.same((await overHttps('GET', '/api/1.0/packs')).body, { packs: [{ name: 'Agent-Session', limit: 5, inUse: 1, waiting: 0 }] })
  t.equal((await overHttps('DELETE', `/request/${grant.body.lease}`)).status, 204)
  t.match(await overHttps('DELETE', `/request/${grant.body.lease}`), { status: 404, body: { error: { code: 'LEASE_UNKNOWN' } } })
  t.match(await overHttps('GET', '/nope'), { status: 404, body: { error: { code: 'NOT_FOUND' } } })
})

t.test('HTTPS refuses a client that does not trust the certificate, and plain HTTP on the HTTPS port', async (t) => {
  const { httpsPort } = await startBoth(t)
  const untrusting = new HttpsAgent({ keepAlive: false })
  t.teardown(() => untrusting.destroy())
  await t.rejects(sender(httpsRequest as unknown as typeof httpRequest, httpsPort, untrusting as unknown as HttpAgent)('GET', '/api/1.0/health'), {
    code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
  })
  const plain = new HttpAgent({ keepAlive: false })
  t.teardown(() => plain.destroy())
  await t.rejects(sender(httpRequest, httpsPort, plain)('GET', '/api/1.0/health'))
})

t.test('[LEASE-1] HTTP and HTTPS agents racing for one pack never exceed its limit', async (t) => {
  const { overHttps, overHttp, engine } = await startBoth(t)
  const racers = Array.from({ length: 120 }, (_, i) => (i % 2 === 0 ? overHttps : overHttp)('POST', '/request', { client: `agent-${i}` }))
  const results = await Promise.all(racers)
  const granted = results.filter((r) => r.status === 200)
  t.equal(granted.length, PACK.limit)
  t.ok(results.every((r) => r.status === 200 || (r.status === 409 && r.body.error.code === 'PACK_EXHAUSTED')))
  t.equal(engine.packs()[0]!.inUse, PACK.limit)

  // releases over one scheme free seats for the other
  const freed = granted.slice(0, 2)
  for (const g of freed) t.equal((await overHttp('DELETE', `/request/${g.body.lease}`)).status, 204)
  const second = await Promise.all(Array.from({ length: 20 }, (_, i) => overHttps('POST', '/request', { client: `second-${i}` })))
  t.equal(second.filter((r) => r.status === 200).length, 2)
  t.equal(engine.packs()[0]!.inUse, PACK.limit)
})
