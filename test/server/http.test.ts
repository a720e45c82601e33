import t, { type Test } from 'tap'
import { connect } from 'node:net'
import { Agent, request as httpRequest } from 'node:http'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SeatEngine } from '../../lib/engine/engine.js'
import { memoryStore } from '../../lib/engine/types.js'
import type { Clock } from '../../lib/util/clock.js'
import { AccessLog, accessLogName } from '../../lib/server/access-log.js'
import { createHttpShim, startHttp, HTTP_TIMEOUTS, MAX_BODY_BYTES, type HttpListenOptions } from '../../lib/server/http.js'

const AGENT = { name: 'Agent-Session', limit: 2, licenses: '<licenses><license product="agent"/></licenses>' }
const STATION = { name: 'station', limit: 1, licenses: '<licenses><license product="station"/></licenses>' }
const WB = { name: 'wb', limit: 10, licenses: '<licenses><license product="wb"/></licenses>' }
const TTL = 30_000

/** Time that moves when the test says so; the engine's expiry timer never fires on its own. */
class ManualClock implements Clock {
  constructor(public at = Date.parse('2026-03-01T12:00:00Z')) {}
  now = () => this.at
  setTimeout = () => 0
  clearTimeout = () => {}
}

interface Shim {
  base: string
  port: number
  engine: SeatEngine
  clock: ManualClock
  logDir: string
  accessLog: AccessLog
  errors: object[]
}

async function startShim(
  t: Test,
  opts: { serving?: boolean; store?: { healthy(): boolean; fault?(): { message: string } | undefined }; version?: Parameters<typeof createHttpShim>[0]['version']; listen?: Partial<HttpListenOptions> } = {},
): Promise<Shim> {
  const clock = new ManualClock()
  const engine = new SeatEngine({ clock, store: memoryStore, ttlMs: TTL })
  if (opts.serving !== false) engine.applyPlan([AGENT, STATION, WB])
  const logDir = t.testdir()
  const accessLog = new AccessLog({ dir: logDir, clock })
  const errors: object[] = []
  const handler = createHttpShim({
    engine,
    httpPack: 'Agent-Session',
    store: opts.store,
    accessLog,
    version: opts.version ?? { version: '1.2.3', buildDate: '2026-01-02', buildVersion: '1.2.3-b7', branch: 'main', patch: '3' },
    log: { error: (obj) => void errors.push(obj), debug: () => {} },
  })
  const { server, port } = await startHttp({ port: 0, host: '127.0.0.1', ...opts.listen }, handler)
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
    engine.close()
    await accessLog.close()
  })
  return { base: `http://127.0.0.1:${port}`, port, engine, clock, logDir, accessLog, errors }
}

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { ...headers } }
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
    if (!('content-type' in headers)) (init.headers as Record<string, string>)['content-type'] = 'application/json'
  }
  const res = await fetch(base + path, init)
  const text = await res.text()
  return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : undefined }
}

const authorize = (base: string, body: unknown) => call(base, 'POST', '/request', body)

/** Raw bytes in, raw bytes out until the server closes: for what fetch will not send. */
function raw(port: number, bytes: string | Buffer, opts: { endAfterWrite?: boolean } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    socket.on('data', (d) => (text += d))
    socket.on('error', () => resolve(text))
    socket.on('close', () => resolve(text))
    socket.write(bytes)
    if (opts.endAfterWrite) socket.end()
  })
}

function expectJsonError(t: Test, r: { status: number; headers: Headers; json: any }, status: number, code: string) {
  t.equal(r.status, status, `status ${status}`)
  t.match(r.headers.get('content-type'), /^application\/json/, 'JSON error')
  t.equal(r.json?.error?.code, code, code)
  t.type(r.json?.error?.message, 'string')
}

// ---- [HTTP-1] health ----

t.test('[HTTP-1] GET /api/1.0/health answers exactly the GLS shape plus serving', async (t) => {
  const { base } = await startShim(t)
  const r = await call(base, 'GET', '/api/1.0/health')
  t.equal(r.status, 200)
  t.match(r.headers.get('content-type'), /^application\/json; charset=utf-8$/)
  t.same(r.json, {
    GLS: { version: '1.2.3', buildDate: '2026-01-02', buildVersion: '1.2.3-b7', branch: 'main', patch: '3', database: { connectionCheck: 'success' } },
    serving: true,
  })
})

t.test('[HTTP-1] GLS fields not given are derived from the version', async (t) => {
  const { base } = await startShim(t, { version: { version: '0.4.7' } })
  const r = await call(base, 'GET', '/api/1.0/health')
  t.match(r.json.GLS, { version: '0.4.7', buildVersion: '0.4.7', patch: '7', branch: 'release', buildDate: /^\d{4}-\d\d-\d\d$/ })
  t.same(Object.keys(r.json.GLS), ['version', 'buildDate', 'buildVersion', 'branch', 'patch', 'database'])
})

t.test('[HTTP-1] [SRV-1] without an LPF the shim still answers health: 503, serving false, and why', async (t) => {
  const { base } = await startShim(t, { serving: false })
  const r = await call(base, 'GET', '/api/1.0/health')
  t.equal(r.status, 503, 'a load balancer needs no JSON to see it')
  t.equal(r.json.serving, false)
  t.match(r.json.reason, { code: 'NOT_SERVING', message: String })
  t.equal(r.json.GLS.database.connectionCheck, 'success', 'the store is fine')
})

t.test('[HTTP-1] an unusable store: 503 with connectionCheck other than success', async (t) => {
  let healthy = true
  const { base } = await startShim(t, { store: { healthy: () => healthy } })
  t.equal((await call(base, 'GET', '/api/1.0/health')).json.GLS.database.connectionCheck, 'success')
  healthy = false
  const r = await call(base, 'GET', '/api/1.0/health')
  t.equal(r.status, 503)
  t.match(r.json.GLS.database.connectionCheck, /^failure: /)
  t.match(r.json, { serving: false, reason: { code: 'STORE_UNAVAILABLE' } })
})

t.test('[HTTP-1] [LEASE-10] a store that cannot write: connectionCheck and reason name the problem', async (t) => {
  let fault: { message: string } | undefined = { message: 'the file system of /var/lib/flr is full: free space there; flr resumes by itself' }
  const { base } = await startShim(t, { store: { healthy: () => fault === undefined, fault: () => fault } })
  const r = await call(base, 'GET', '/api/1.0/health')
  t.equal(r.status, 503)
  t.equal(r.json.GLS.database.connectionCheck, `failure: ${fault!.message}`)
  t.same(r.json.reason, { code: 'STORE_UNAVAILABLE', message: fault!.message })
  t.equal(r.json.serving, false)
  fault = undefined
  const ok = await call(base, 'GET', '/api/1.0/health')
  t.equal(ok.status, 200, 'back to 200 once it writes again')
  t.same(ok.json.GLS.database, { connectionCheck: 'success' })
})

t.test('[HTTP-1] a store whose health check throws counts as unusable', async (t) => {
  const { base } = await startShim(t, { store: { healthy: () => { throw new Error('lmdb closed') } } })
  const r = await call(base, 'GET', '/api/1.0/health')
  t.equal(r.status, 503)
  t.not(r.json.GLS.database.connectionCheck, 'success')
})

t.test('[HTTP-1] HEAD and a query string are served like GET', async (t) => {
  const { base } = await startShim(t)
  const head = await call(base, 'HEAD', '/api/1.0/health')
  t.equal(head.status, 200)
  t.equal(head.text, '')
  t.equal((await call(base, 'GET', '/api/1.0/health?probe=1')).status, 200)
})

// ---- [HTTP-2] POST /request ----

t.test('[HTTP-2] POST /request grants a lease on the default pack', async (t) => {
  const { base, engine, clock } = await startShim(t)
  const r = await authorize(base, { client: 'agent-host-1' })
  t.equal(r.status, 200)
  t.same(Object.keys(r.json).sort(), ['authorized', 'expiresAt', 'lease', 'licenses', 'pack', 'ttlMs'])
  t.match(r.json, { authorized: true, pack: 'Agent-Session', ttlMs: TTL, licenses: AGENT.licenses, expiresAt: clock.at + TTL })
  t.match(r.json.lease, /^[A-Za-z0-9_-]{22}$/, '[LEASE-4] 128 random bits, base64url')
  t.match(engine.get(r.json.lease), { holder: 'agent-host-1', client: 'agent-host-1', address: /127\.0\.0\.1$/, pack: 'Agent-Session' })
})

t.test('[HTTP-2] a named pack is leased instead of the default; extra fields are ignored', async (t) => {
  const { base } = await startShim(t)
  const r = await authorize(base, { client: 'ws-7', pack: 'station', agentVersion: '23.12', pack_extra: [1] })
  t.equal(r.status, 200)
  t.equal(r.json.pack, 'station')
  t.equal(r.json.licenses, STATION.licenses, '[LEASE-6] the licenses of that pack')
})

t.test('[HTTP-2] [LEASE-2] repeating the request renews the same lease', async (t) => {
  const { base, engine, clock } = await startShim(t)
  const first = await authorize(base, { client: 'agent-host-1' })
  clock.at += 10_000
  const again = await authorize(base, { client: 'agent-host-1' })
  t.equal(again.status, 200)
  t.equal(again.json.lease, first.json.lease)
  t.equal(again.json.expiresAt, first.json.expiresAt + 10_000, 'expiry restarted from the renewal')
  t.equal(engine.packs().find((p) => p.name === 'Agent-Session')!.inUse, 1, 'one seat, not two')
})

t.test('[HTTP-2] refusals: 409 PACK_EXHAUSTED with limit and inUse, authorized false', async (t) => {
  const { base } = await startShim(t)
  t.equal((await authorize(base, { client: 'a', pack: 'station' })).status, 200)
  const r = await authorize(base, { client: 'b', pack: 'station' })
  expectJsonError(t, r, 409, 'PACK_EXHAUSTED')
  t.match(r.json, { authorized: false, error: { limit: 1, inUse: 1 } })
})

t.test('[HTTP-2] refusals: 404 PACK_UNKNOWN', async (t) => {
  const { base } = await startShim(t)
  const r = await authorize(base, { client: 'a', pack: 'no-such-pack' })
  expectJsonError(t, r, 404, 'PACK_UNKNOWN')
  t.equal(r.json.authorized, false)
})

t.test('[HTTP-2] [SRV-3] refusals: 503 NOT_SERVING before an LPF and after it is removed', async (t) => {
  const none = await startShim(t, { serving: false })
  const r = await authorize(none.base, { client: 'a' })
  expectJsonError(t, r, 503, 'NOT_SERVING')
  t.equal(r.json.authorized, false)

  const { base, engine } = await startShim(t)
  t.equal((await authorize(base, { client: 'a' })).status, 200)
  engine.stopServing('lpf-removed')
  expectJsonError(t, await authorize(base, { client: 'a' }), 503, 'NOT_SERVING')
})

t.test('[HTTP-2] refusals: 400 BAD_REQUEST for bad input, with a message that says what to send', async (t) => {
  const { base } = await startShim(t)
  const bad: [string, unknown][] = [
    ['no client', { pack: 'station' }],
    ['client not a string', { client: 42 }],
    ['empty client', { client: '' }],
    ['client over 128 characters', { client: 'x'.repeat(129) }],
    ['pack not a string', { client: 'a', pack: 7 }],
    ['empty pack', { client: 'a', pack: '' }],
    ['pack over 64 characters', { client: 'a', pack: 'p'.repeat(65) }],
    ['an array', [{ client: 'a' }]],
    ['null', null],
    ['a string', 'client'],
    ['invalid JSON', '{"client": '],
    ['an empty body', ''],
  ]
  for (const [name, body] of bad) {
    const r = await call(base, 'POST', '/request', typeof body === 'string' ? body : JSON.stringify(body), { 'content-type': 'application/json' })
    t.test(name, async (t) => {
      expectJsonError(t, r, 400, 'BAD_REQUEST')
      t.equal(r.json.authorized, false)
    })
  }
  t.equal((await authorize(base, { client: 'x'.repeat(128), pack: null })).status, 200, '128 characters and a null pack are fine')
})

t.test('[HTTP-2] 415 UNSUPPORTED_MEDIA_TYPE unless the body is application/json (UTF-8)', async (t) => {
  const { base } = await startShim(t)
  const body = JSON.stringify({ client: 'a' })
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=iso-8859-1', 'application/jsonx']) {
    expectJsonError(t, await call(base, 'POST', '/request', body, { 'content-type': type }), 415, 'UNSUPPORTED_MEDIA_TYPE')
  }
  const none = await raw(
    (await startShim(t)).port,
    `POST /request HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  )
  t.match(none, /^HTTP\/1\.1 415 [\s\S]*"UNSUPPORTED_MEDIA_TYPE"/, 'no Content-Type at all')
  for (const type of ['application/json; charset=utf-8', 'Application/JSON;Charset="UTF-8"']) {
    t.equal((await call(base, 'POST', '/request', body, { 'content-type': type })).status, 200, type)
  }
})

t.test('[HTTP-2] a body of exactly 16 KiB is read; one byte more is 413 BODY_TOO_LARGE', async (t) => {
  const { base } = await startShim(t)
  const json = JSON.stringify({ client: 'a' })
  const exact = json + ' '.repeat(MAX_BODY_BYTES - json.length)
  t.equal((await call(base, 'POST', '/request', exact)).status, 200)
  const r = await call(base, 'POST', '/request', exact + ' ')
  expectJsonError(t, r, 413, 'BODY_TOO_LARGE')
  t.equal(r.json.authorized, false)
})

t.test('[HTTP-2] a declared oversized body is refused at once, unread, and the connection closed', async (t) => {
  const { port } = await startShim(t)
  // 10 MiB announced, not one byte of it sent: the answer must not wait for the body
  const answer = await raw(port, 'POST /request HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n')
  t.match(answer, /^HTTP\/1\.1 413 /)
  t.match(answer, /\r\nconnection: close\r\n/i)
  t.match(answer, /"BODY_TOO_LARGE"/)
})

t.test('[HTTP-2] a chunked body that grows past 16 KiB is cut off mid-stream', async (t) => {
  const { port } = await startShim(t)
  const chunk = Buffer.alloc(20_000, 0x20)
  // the final chunk never comes: the server answers on what it has seen and closes
  const answer = await raw(
    port,
    Buffer.concat([
      Buffer.from('POST /request HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'),
      Buffer.from(chunk.length.toString(16) + '\r\n'),
      chunk,
      Buffer.from('\r\n'),
    ]),
  )
  t.match(answer, /^HTTP\/1\.1 413 [\s\S]*"BODY_TOO_LARGE"/)
})

t.test('[HTTP-2] a client that goes away mid-body costs nothing: no seat, no hang, the shim serves on', async (t) => {
  const { port, base, engine, accessLog, logDir, errors } = await startShim(t)
  await new Promise<void>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('POST /request HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"client":')
      setImmediate(() => socket.destroy())
    })
    socket.on('close', () => resolve())
  })
  t.equal((await call(base, 'GET', '/api/1.0/health')).status, 200)
  t.equal(engine.packs().find((p) => p.name === 'Agent-Session')!.inUse, 0)
  // the abandoned call is still written to the access log, as a bad request
  for (let i = 0; i < 100 && !(await readdir(logDir)).length; i++) await new Promise((r) => setImmediate(r))
  await accessLog.close()
  t.match(await accessLines(logDir, '2026-03-01'), [{ method: 'POST', path: '/request', status: 400, code: 'BAD_REQUEST' }])
  t.same(errors, [], 'not a server fault')
})

// ---- [HTTP-3] DELETE /request/<lease> ----

t.test('[HTTP-3] DELETE /request/<lease> releases: 204, the seat is free, a second DELETE is 404 LEASE_UNKNOWN', async (t) => {
  const { base, engine } = await startShim(t)
  const { json } = await authorize(base, { client: 'a', pack: 'station' })
  const del = await call(base, 'DELETE', `/request/${json.lease}`)
  t.equal(del.status, 204)
  t.equal(del.text, '')
  t.equal(engine.packs().find((p) => p.name === 'station')!.inUse, 0)
  t.equal((await authorize(base, { client: 'b', pack: 'station' })).status, 200, 'the freed seat serves another client')
  const again = await call(base, 'DELETE', `/request/${json.lease}`)
  expectJsonError(t, again, 404, 'LEASE_UNKNOWN')
})

t.test('[HTTP-3] [LEASE-4] unknown and malformed lease ids are 404 LEASE_UNKNOWN', async (t) => {
  const { base } = await startShim(t)
  for (const id of ['AAAAAAAAAAAAAAAAAAAAAA', 'not-a-lease', '%E0%A4%A', '..%2F..%2Fetc']) {
    expectJsonError(t, await call(base, 'DELETE', `/request/${id}`), 404, 'LEASE_UNKNOWN')
  }
})

t.test('[HTTP-3] [LEASE-4] a lease granted elsewhere (TCP) is released over HTTP by its id', async (t) => {
  const { base, engine } = await startShim(t)
  const grant = await engine.lease({ pack: 'station', holder: 'tcp-holder', client: 'tcp-client', address: '10.0.0.9' })
  t.equal((await call(base, 'DELETE', `/request/${grant.lease}`)).status, 204)
  t.equal(engine.get(grant.lease), undefined)
})

// ---- [HTTP-4] packs ----

t.test('[HTTP-4] GET /api/1.0/packs lists every pack with limit, inUse and waiting', async (t) => {
  const { base } = await startShim(t)
  await authorize(base, { client: 'a' })
  await authorize(base, { client: 'b', pack: 'wb' })
  await authorize(base, { client: 'c', pack: 'wb' })
  const r = await call(base, 'GET', '/api/1.0/packs')
  t.equal(r.status, 200)
  t.same(
    [...r.json.packs].sort((x: { name: string }, y: { name: string }) => x.name.localeCompare(y.name)),
    [
      { name: 'Agent-Session', limit: 2, inUse: 1, waiting: 0 },
      { name: 'station', limit: 1, inUse: 0, waiting: 0 },
      { name: 'wb', limit: 10, inUse: 2, waiting: 0 },
    ],
  )
  const none = await startShim(t, { serving: false })
  t.same((await call(none.base, 'GET', '/api/1.0/packs')).json, { packs: [] })
})

// ---- routing errors ----

t.test('unknown paths: 404 NOT_FOUND as JSON', async (t) => {
  const { base, port } = await startShim(t)
  for (const path of ['/', '/api/1.0/healthz', '/api/1.0/health/', '/request/', '/request/a/b', '/API/1.0/health']) {
    expectJsonError(t, await call(base, 'GET', path), 404, 'NOT_FOUND')
  }
  const sneaky = await raw(port, 'GET //evil.example/api/1.0/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  t.match(sneaky, /^HTTP\/1\.1 404 [\s\S]*"NOT_FOUND"/, 'a path starting with // is a path, not a host')
})

t.test('wrong methods: 405 METHOD_NOT_ALLOWED with an Allow header', async (t) => {
  const { base } = await startShim(t)
  const cases: [string, string, string][] = [
    ['POST', '/api/1.0/health', 'GET, HEAD'],
    ['DELETE', '/api/1.0/packs', 'GET, HEAD'],
    ['GET', '/request', 'POST'],
    ['PUT', '/request', 'POST'],
    ['GET', '/request/AAAAAAAAAAAAAAAAAAAAAA', 'DELETE'],
    ['POST', '/request/AAAAAAAAAAAAAAAAAAAAAA', 'DELETE'],
  ]
  for (const [method, path, allow] of cases) {
    const r = await call(base, method, path, method === 'GET' ? undefined : {})
    expectJsonError(t, r, 405, 'METHOD_NOT_ALLOWED')
    t.equal(r.headers.get('allow'), allow, `${method} ${path}`)
  }
})

t.test('requests Node cannot parse get a JSON 400, over-long headers a JSON 431', async (t) => {
  const { port } = await startShim(t)
  t.match(await raw(port, 'NONSENSE\r\n\r\n'), /^HTTP\/1\.1 400 [\s\S]*"code":"BAD_REQUEST"/)
  const huge = await raw(port, `GET /api/1.0/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`)
  t.match(huge, /^HTTP\/1\.1 431 [\s\S]*"code":"BAD_REQUEST"/)
})

t.test('header and request timeouts are set on the server', async (t) => {
  // the defaults, as the daemon gets them
  const clock = new ManualClock()
  const engine = new SeatEngine({ clock, store: memoryStore, ttlMs: TTL })
  const { server } = await startHttp({ port: 0, host: '127.0.0.1' }, createHttpShim({ engine, httpPack: 'x', version: { version: '1' }, log: { error() {}, debug() {} } }))
  t.teardown(() => {
    server.close()
    engine.close()
  })
  t.equal(server.headersTimeout, HTTP_TIMEOUTS.headersTimeout)
  t.equal(server.requestTimeout, HTTP_TIMEOUTS.requestTimeout)
  t.equal(server.keepAliveTimeout, HTTP_TIMEOUTS.keepAliveTimeout)
  t.ok(HTTP_TIMEOUTS.headersTimeout <= 10_000 && HTTP_TIMEOUTS.requestTimeout <= 30_000)
})

t.test('a client that never finishes its headers is answered 408 and cut off (slowloris)', async (t) => {
  const { port } = await startShim(t, { listen: { timeouts: { headersTimeout: 300, requestTimeout: 300, connectionsCheckingInterval: 50 } } })
  const answer = await raw(port, 'GET /api/1.0/health HTTP/1.1\r\nHost: x\r\nX-Slow: ')
  t.match(answer, /^HTTP\/1\.1 408 [\s\S]*"BAD_REQUEST"/)
})

t.test('startHttp on a port in use fails with PORT_IN_USE naming the option', async (t) => {
  const { port } = await startShim(t)
  const engine = new SeatEngine({ clock: new ManualClock(), store: memoryStore, ttlMs: TTL })
  t.teardown(() => engine.close())
  const handler = createHttpShim({ engine, httpPack: 'x', version: { version: '1' }, log: { error() {}, debug() {} } })
  await t.rejects(startHttp({ port, host: '127.0.0.1' }, handler), { code: 'PORT_IN_USE', message: /--http-port/ })
})

// ---- [LEASE-1] concurrency ----

t.test('[LEASE-1] 200 concurrent agents on a pack of 10: exactly 10 granted, the rest 409', async (t) => {
  const { port, engine } = await startShim(t)
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  t.teardown(() => agent.destroy())
  const post = (client: string) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const body = JSON.stringify({ client, pack: 'wb' })
      const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/request', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
        let text = ''
        res.on('data', (d) => (text += d))
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }))
      })
      req.on('error', reject)
      req.end(body)
    })
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => post(`agent-${i}`)))
  const granted = results.filter((r) => r.status === 200)
  t.equal(granted.length, 10)
  t.equal(new Set(granted.map((r) => r.body.lease)).size, 10, '10 distinct leases')
  t.ok(results.filter((r) => r.status !== 200).every((r) => r.status === 409 && r.body.error.code === 'PACK_EXHAUSTED'))
  t.equal(engine.packs().find((p) => p.name === 'wb')!.inUse, 10)

  // the holders renew all at once, while newcomers keep knocking: still 10
  const holders = granted.map((r) => engine.get(r.body.lease)!.holder)
  const round = await Promise.all([...holders.map(post), ...Array.from({ length: 50 }, (_, i) => post(`late-${i}`))])
  t.same(round.slice(0, 10).map((r) => r.body.lease), granted.map((r) => r.body.lease), '[LEASE-2] renewals keep their leases')
  t.ok(round.slice(10).every((r) => r.status === 409))
  t.equal(engine.packs().find((p) => p.name === 'wb')!.inUse, 10)
})

// ---- [HTTP-5] access log ----

async function accessLines(dir: string, day: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(dir, accessLogName(day)), 'utf8')
  return text.trimEnd().split('\n').map((l) => JSON.parse(l))
}

t.test('[HTTP-5] every /request call is access-logged with time, method, path, client, pack, status, code, lease, address', async (t) => {
  const { base, logDir, accessLog } = await startShim(t)
  const grant = await authorize(base, { client: 'agent-1', password: 'Hunter2-Secret!' })
  await authorize(base, { client: 'agent-2', pack: 'nope' })
  await call(base, 'POST', '/request', 'x', { 'content-type': 'text/plain' })
  await call(base, 'DELETE', `/request/${grant.json.lease}`)
  await call(base, 'GET', '/request')
  await call(base, 'GET', '/api/1.0/health')
  await call(base, 'GET', '/api/1.0/packs')
  await accessLog.close() // flushes
  const lines = await accessLines(logDir, '2026-03-01')
  t.same(
    lines.map((l) => [l.method, l.path, l.status, l.code]),
    [
      ['POST', '/request', 200, undefined],
      ['POST', '/request', 404, 'PACK_UNKNOWN'],
      ['POST', '/request', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['DELETE', `/request/${grant.json.lease}`, 204, undefined],
      ['GET', '/request', 405, 'METHOD_NOT_ALLOWED'],
    ],
    'only /request calls, each once',
  )
  t.match(lines[0], { time: '2026-03-01T12:00:00.000Z', client: 'agent-1', pack: 'Agent-Session', lease: grant.json.lease, address: /127\.0\.0\.1$/ })
  t.match(lines[1], { client: 'agent-2', pack: 'nope' })
  t.match(lines[3], { lease: grant.json.lease })
  const text = JSON.stringify(lines)
  t.notMatch(text, /Hunter2/, 'no body field other than client and pack is ever logged')
})

t.test('[HTTP-5] the access log rolls over at the UTC day boundary (injected clock)', async (t) => {
  const { base, logDir, clock, accessLog } = await startShim(t)
  clock.at = Date.parse('2026-03-01T23:59:59.999Z')
  await authorize(base, { client: 'before-midnight' })
  clock.at = Date.parse('2026-03-02T00:00:00.000Z')
  await authorize(base, { client: 'after-midnight' })
  await accessLog.close() // flushes
  const before = await accessLines(logDir, '2026-03-01')
  const after = await accessLines(logDir, '2026-03-02')
  t.same(before.map((l) => l.client), ['before-midnight'])
  t.same(after.map((l) => l.client), ['after-midnight'])
  t.same((await readdir(logDir)).sort(), [accessLogName('2026-03-01'), accessLogName('2026-03-02')])
})
