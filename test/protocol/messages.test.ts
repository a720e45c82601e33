import t, { type Test } from 'tap'
import { FlrError, isFlrError } from '../../lib/errors.js'
import { encodeFrame } from '../../lib/protocol/frame.js'
import { fail, ok, OPS, parseRequest, push, requestId, type Op } from '../../lib/protocol/messages.js'
import { feedings, run } from './fixtures/feeding.js'

const LEASE_ID = 'q1w2e3r4t5y6u7i8o9p0AB'

/** A valid request of each op with every field it takes. */
const FULL: Record<Op, Record<string, unknown>> = {
  hello: { id: 1, op: 'hello', protocol: 1, client: 'cad-ws-7', app: 'Station 2026' },
  lease: { id: 2, op: 'lease', pack: 'station', holder: 'alice@ws-7', wait: 30_000 },
  renew: { id: 3, op: 'renew', lease: LEASE_ID },
  release: { id: 4, op: 'release', lease: LEASE_ID },
  status: { id: 5, op: 'status' },
  ping: { id: 6, op: 'ping' },
  auth: { id: 7, op: 'auth', password: 'S3cret!pw' },
  leases: { id: 8, op: 'leases', pack: 'station' },
  revoke: { id: 9, op: 'revoke', lease: LEASE_ID },
  reload: { id: 10, op: 'reload' },
  report: { id: 11, op: 'report', from: '2026-01-01', to: '2026-01-31', by: 'day', pack: 'station' },
}

const REQUIRED: Record<Op, string[]> = {
  hello: ['protocol', 'client'], lease: ['pack'], renew: ['lease'], release: ['lease'], status: [], ping: [],
  auth: ['password'], leases: [], revoke: ['lease'], reload: [], report: [],
}

const OPTIONAL: Partial<Record<Op, string[]>> = { hello: ['app'], lease: ['holder', 'wait'], leases: ['pack'], report: ['from', 'to', 'by', 'pack'] }

const x = (n: number): string => 'x'.repeat(n)
const smile = (n: number): string => '😀'.repeat(n)

/** Values each field refuses ([WIRE-3] BAD_REQUEST: missing or wrongly typed). */
const WRONG: Record<string, unknown[]> = {
  id: [-1, 1.5, '1', null, true, [], {}, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY],
  'hello.protocol': ['1', 1.5, -1, null, true, [1]],
  'hello.client': ['', x(129), smile(129), 5, null, ['a'], true],
  'hello.app': [x(129), 5, true, {}],
  'lease.pack': ['', x(65), 7, null, ['station']],
  'lease.holder': ['', x(129), 3, false, {}],
  'lease.wait': [-1, 600_001, 1.5, '30s', true, Number.NaN, Number.POSITIVE_INFINITY, [1]],
  'renew.lease': ['', x(129), 7, null, {}],
  'release.lease': ['', x(129), 7, null, {}],
  'auth.password': [x(257), 12_345_678, null, ['pw']],
  'leases.pack': ['', x(65), 1, false],
  'revoke.lease': ['', x(129), 7, null, {}],
}

function badRequest(t: Test, msg: Record<string, unknown>, field: string, label: string): void {
  try {
    parseRequest(msg)
    t.fail(`${label}: accepted`)
  } catch (err) {
    if (!isFlrError(err, 'BAD_REQUEST')) return void t.fail(`${label}: ${String(err)}`)
    t.equal(err.details.field, field, label)
    t.match(err.message, `"${field}"`, `${label}: the message names the field`)
  }
}

t.test('[WIRE-2] every op parses into its typed request', async (t) => {
  for (const op of OPS) {
    t.same(parseRequest(FULL[op]), FULL[op], `${op} with every field`)
    const minimal = Object.fromEntries(Object.entries(FULL[op]).filter(([k]) => !(OPTIONAL[op] ?? []).includes(k)))
    t.same(parseRequest(minimal), minimal, `${op} with only the required fields`)
  }
  t.same([...OPS].sort(), ['auth', 'hello', 'lease', 'leases', 'ping', 'release', 'reload', 'renew', 'report', 'revoke', 'status'])
})

t.test('[WIRE-2] requests travel through real frames and parse the same in every feeding', async (t) => {
  const stream = Buffer.concat(OPS.map((op) => encodeFrame(FULL[op])))
  for (const [how, chunks] of feedings(stream, 11)) {
    const { sink } = run(chunks)
    t.same(sink.frames.map(parseRequest), OPS.map((op) => FULL[op]), how)
  }
})

t.test('[WIRE-3] a missing required field is BAD_REQUEST naming it', async (t) => {
  for (const op of OPS) {
    for (const field of ['id', ...REQUIRED[op]]) {
      const msg = { ...FULL[op] }
      delete msg[field]
      badRequest(t, msg, field, `${op} without ${field}`)
    }
  }
})

t.test('[WIRE-3] a wrongly typed or out-of-range field is BAD_REQUEST naming it', async (t) => {
  for (const op of OPS) {
    for (const value of WRONG.id!) badRequest(t, { ...FULL[op], id: value }, 'id', `${op} id=${String(value)}`)
  }
  for (const [key, values] of Object.entries(WRONG)) {
    if (key === 'id') continue
    const [op, field] = key.split('.') as [Op, string]
    for (const value of values) {
      badRequest(t, { ...FULL[op], [field]: value }, field, `${op}.${field}=${JSON.stringify(value)?.slice(0, 20)}`)
    }
  }
})

t.test('[WIRE-4] [WIRE-5] [WIRE-8] boundaries that are accepted', async (t) => {
  const accepts = (msg: Record<string, unknown>, label: string): void => {
    t.doesNotThrow(() => parseRequest(msg), label)
  }
  accepts({ ...FULL.hello, client: x(128) }, 'client of 128 characters')
  accepts({ ...FULL.hello, client: smile(128) }, 'client of 128 characters outside the BMP (256 UTF-16 units)')
  accepts({ ...FULL.hello, client: 'c' }, 'client of 1 character')
  accepts({ ...FULL.hello, app: '' }, 'empty app')
  accepts({ ...FULL.hello, app: x(128) }, 'app of 128 characters')
  accepts({ ...FULL.hello, protocol: 2 }, 'another protocol parses: the server answers PROTOCOL_UNSUPPORTED')
  accepts({ ...FULL.lease, wait: 0 }, 'wait 0')
  accepts({ ...FULL.lease, wait: 600_000 }, 'wait 600,000 ms')
  accepts({ ...FULL.lease, pack: x(64), holder: x(128) }, 'pack of 64, holder of 128')
  accepts({ ...FULL.auth, password: '' }, 'empty password: the server answers AUTH_FAILED')
  accepts({ ...FULL.auth, password: x(256) }, 'password of 256')
  accepts({ ...FULL.renew, lease: x(128) }, 'lease id of 128')
  accepts({ ...FULL.ping, id: 0 }, 'id 0')
  accepts({ ...FULL.ping, id: Number.MAX_SAFE_INTEGER }, 'the largest safe id')
})

t.test('[WIRE-2] nil optional fields count as absent; unknown fields are dropped', async (t) => {
  t.same(parseRequest({ ...FULL.lease, holder: null, wait: null }), { id: 2, op: 'lease', pack: 'station' })
  t.same(parseRequest({ ...FULL.hello, app: null }), { id: 1, op: 'hello', protocol: 1, client: 'cad-ws-7' })
  t.same(parseRequest({ ...FULL.leases, pack: null }), { id: 8, op: 'leases' })
  t.same(parseRequest({ id: 6, op: 'ping', extra: { deep: 1 }, another: 'x' }), { id: 6, op: 'ping' })
})

t.test('[WIRE-3] an unknown op is UNKNOWN_OP; a missing or non-string op is BAD_REQUEST', async (t) => {
  for (const op of ['lease2', '', 'LEASE', 'toString', '__proto__', 'constructor', 'hasOwnProperty', x(10_000)]) {
    try {
      parseRequest({ id: 1, op })
      t.fail(`accepted ${op.slice(0, 20)}`)
    } catch (err) {
      t.ok(isFlrError(err, 'UNKNOWN_OP'), `${op.slice(0, 20)} is UNKNOWN_OP`)
      t.ok((err as Error).message.length < 300, 'the message does not echo a long op')
    }
  }
  badRequest(t, { id: 1 }, 'op', 'no op')
  badRequest(t, { id: 1, op: 3 }, 'op', 'numeric op')
  badRequest(t, { id: 1, op: null }, 'op', 'nil op')
  badRequest(t, { op: 'nope' }, 'id', 'no id is reported before the unknown op')
})

t.test('[WIRE-3] errors name the field but never echo its value', async (t) => {
  const secret = 'Sup3r$ecretPassw0rd'.repeat(20)
  try {
    parseRequest({ id: 1, op: 'auth', password: secret })
    t.fail('accepted')
  } catch (err) {
    t.notMatch((err as Error).message, 'Sup3r')
    t.notMatch(JSON.stringify((err as FlrError).toWire()), 'Sup3r')
  }
})

t.test('[WIRE-3] requestId gives the id to answer with, 0 when there is none', async (t) => {
  t.equal(requestId({ id: 5, op: 'bogus' }), 5)
  t.equal(requestId({ id: 0 }), 0)
  t.equal(requestId({ id: Number.MAX_SAFE_INTEGER }), Number.MAX_SAFE_INTEGER)
  for (const msg of [{}, { id: -1 }, { id: 1.5 }, { id: '7' }, { id: 2 ** 53 }, { id: null }, null, 'x', 7, []]) {
    t.equal(requestId(msg), 0, JSON.stringify(msg))
  }
})

t.test('[WIRE-2] replies and pushes have the documented shapes', async (t) => {
  t.same(ok(3, { lease: LEASE_ID, ttlMs: 30_000 }), { id: 3, ok: true, lease: LEASE_ID, ttlMs: 30_000 })
  t.same(ok(4), { id: 4, ok: true })
  t.same(Object.keys(ok(5, { a: 1 })).slice(0, 2), ['id', 'ok'], 'id and ok lead')
  t.same(ok(6, { id: 99, ok: false }), { id: 6, ok: true }, 'a body cannot override id or ok')
  const exhausted = new FlrError('PACK_EXHAUSTED', undefined, { limit: 10, inUse: 10 })
  t.same(fail(7, exhausted), {
    id: 7, ok: false, error: { code: 'PACK_EXHAUSTED', message: 'every seat of the pack is leased', limit: 10, inUse: 10 },
  })
  t.same(push('revoked', { lease: LEASE_ID, pack: 'station', reason: 'admin' }),
    { push: 'revoked', lease: LEASE_ID, pack: 'station', reason: 'admin' })
  t.same(push('moving', { port: 19111 }), { push: 'moving', port: 19111 })
  t.same(push('shutdown'), { push: 'shutdown' })
  t.same(push('shutdown', { push: 'other' }), { push: 'shutdown' }, 'a body cannot override the push name')
  t.notOk('id' in push('shutdown'), 'a push has no id')
})
