import t, { type Test } from 'tap'
import { AdminGate, LOCKOUT_MS } from '../../lib/admin/lockout.js'
import { randomBytes, scryptSync } from 'node:crypto'
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PASSWORD_FILE, setPassword } from '../../lib/admin/password.js'
import { FlrError } from '../../lib/errors.js'

const RIGHT = 'Corr3ct-Horse'
const WRONG = 'Wr0ng-Horse'
/** a peer on the network (TEST-NET-1): loopback is never locked out */
const PEER = '192.0.2.7'

function fakeClock(start = Date.UTC(2026, 2, 1, 12)) {
  let now = start
  return { now: () => now, advance: (ms: number) => void (now += ms) }
}

async function outcome(p: Promise<void>): Promise<string> {
  try {
    await p
    return 'ok'
  } catch (e) {
    if (e instanceof FlrError) return e.code
    throw e
  }
}

/**
 * The password file as setPassword writes it, at a low scrypt cost: the file carries its own
 * parameters, and these tests are about counting, not hashing (dozens of checks at the real
 * cost take minutes on a loaded machine).
 */
function cheapPassword(stateDir: string, password: string): void {
  const salt = randomBytes(16)
  const hash = scryptSync(password.normalize('NFC'), salt, 32, { N: 1024, r: 8, p: 1 })
  writeFileSync(join(stateDir, PASSWORD_FILE), JSON.stringify({ algo: 'scrypt', N: 1024, r: 8, p: 1, salt: salt.toString('base64'), hash: hash.toString('base64') }))
}

async function gateWithPassword(t: Test) {
  const stateDir = t.testdir()
  cheapPassword(stateDir, RIGHT)
  const clock = fakeClock()
  const warnings: object[] = []
  const gate = new AdminGate({ stateDir, clock, log: { warn: (obj) => void warnings.push(obj) } })
  return { gate, clock, warnings, stateDir }
}

t.test('[WIRE-8] no password set: ADMIN_PASSWORD_NOT_SET, and it never counts toward a lock-out', async (t) => {
  const stateDir = t.testdir()
  const gate = new AdminGate({ stateDir, clock: fakeClock() })
  for (let i = 0; i < 4; i++) t.equal(await outcome(gate.auth(RIGHT, PEER)), 'ADMIN_PASSWORD_NOT_SET')
  cheapPassword(stateDir, RIGHT)
  t.equal(await outcome(gate.auth(RIGHT, PEER)), 'ok', 'a password set later works at once, without a new gate')
})

t.test('[WIRE-8] wrong, wrong, then LOCKED_OUT for 10 minutes, even for the right password', async (t) => {
  const { gate, clock, warnings } = await gateWithPassword(t)
  t.equal(await outcome(gate.auth(WRONG, PEER)), 'AUTH_FAILED')
  t.equal(await outcome(gate.auth(WRONG, PEER)), 'AUTH_FAILED')
  await t.rejects(gate.auth(WRONG, PEER), { code: 'LOCKED_OUT', details: { retryAfterMs: LOCKOUT_MS } }, 'the third wrong one starts the lock-out')
  t.equal(warnings.length, 3, 'each failure and the lock-out are logged')
  t.notMatch(JSON.stringify(warnings), /Horse/, 'without any password')

  clock.advance(4 * 60_000)
  await t.rejects(gate.auth(RIGHT, PEER), { code: 'LOCKED_OUT', details: { retryAfterMs: 6 * 60_000 }, message: /6 more minute/ })
  clock.advance(6 * 60_000 - 1)
  await t.rejects(gate.auth(RIGHT, PEER), { code: 'LOCKED_OUT', details: { retryAfterMs: 1 } })
  t.equal(gate.retryAfterMs(PEER), 1)
  clock.advance(1)
  t.equal(gate.retryAfterMs(PEER), 0)
  t.equal(await outcome(gate.auth(RIGHT, PEER)), 'ok', 'the lock-out ends after 10 minutes')
})

t.test('[WIRE-8] attempts during a lock-out do not extend it', async (t) => {
  const { gate, clock } = await gateWithPassword(t)
  for (let i = 0; i < 3; i++) await outcome(gate.auth(WRONG, PEER))
  clock.advance(9 * 60_000)
  t.equal(await outcome(gate.auth(WRONG, PEER)), 'LOCKED_OUT')
  clock.advance(60_000)
  t.equal(await outcome(gate.auth(RIGHT, PEER)), 'ok')
})

t.test('[WIRE-8] after a lock-out ends, the count starts again from zero', async (t) => {
  const { gate, clock } = await gateWithPassword(t)
  for (let i = 0; i < 3; i++) await outcome(gate.auth(WRONG, PEER))
  clock.advance(LOCKOUT_MS)
  t.equal(await outcome(gate.auth(WRONG, PEER)), 'AUTH_FAILED')
  t.equal(await outcome(gate.auth(WRONG, PEER)), 'AUTH_FAILED')
  t.equal(await outcome(gate.auth(WRONG, PEER)), 'LOCKED_OUT')
})

t.test('[WIRE-8] a right password resets the count: only 3 wrong *in a row* lock', async (t) => {
  const { gate } = await gateWithPassword(t)
  const seq = [WRONG, WRONG, RIGHT, WRONG, WRONG, RIGHT]
  const got: string[] = []
  for (const pw of seq) got.push(await outcome(gate.auth(pw, PEER)))
  t.same(got, ['AUTH_FAILED', 'AUTH_FAILED', 'ok', 'AUTH_FAILED', 'AUTH_FAILED', 'ok'])
})

t.test('[WIRE-8] parallel guesses are counted one by one: no more than 3 are ever checked', async (t) => {
  const { gate } = await gateWithPassword(t)
  const got = await Promise.all(Array.from({ length: 6 }, () => outcome(gate.auth(WRONG, PEER))))
  t.same(got, ['AUTH_FAILED', 'AUTH_FAILED', 'LOCKED_OUT', 'LOCKED_OUT', 'LOCKED_OUT', 'LOCKED_OUT'])
  t.equal(await outcome(gate.auth(RIGHT, PEER)), 'LOCKED_OUT')
})

t.test('[ADM-2] a new password takes effect in a running gate without a restart', async (t) => {
  const { gate, stateDir } = await gateWithPassword(t)
  t.equal(await outcome(gate.auth(RIGHT, PEER)), 'ok')
  await setPassword(stateDir, 'N3w+Secret')
  t.equal(await outcome(gate.auth('N3w+Secret', PEER)), 'ok')
  t.equal(await outcome(gate.auth(RIGHT, PEER)), 'AUTH_FAILED')
})

t.test('[WIRE-8] the lock-out is per address: another address is not locked, and its right login resets nothing of the first', async (t) => {
  const { gate, warnings } = await gateWithPassword(t)
  const other = '198.51.100.9'
  t.equal(await outcome(gate.auth(WRONG, PEER)), 'AUTH_FAILED')
  t.equal(await outcome(gate.auth(WRONG, PEER)), 'AUTH_FAILED')
  t.equal(await outcome(gate.auth(RIGHT, other)), 'ok', 'another address logs in')
  t.equal(await outcome(gate.auth(WRONG, PEER)), 'LOCKED_OUT', "the other address's login did not reset this one's count")
  t.equal(await outcome(gate.auth(RIGHT, other)), 'ok', 'the other address is not locked out')
  t.equal(await outcome(gate.auth(RIGHT, `::ffff:${PEER}`)), 'LOCKED_OUT', 'the same address over IPv6-mapped IPv4 is the same peer')
  t.match(warnings, [{ address: PEER, wrongInARow: 1 }, { address: PEER, wrongInARow: 2 }, { address: PEER, lockoutMs: LOCKOUT_MS }], 'every failure and the lock-out logged with the address')
})

t.test('[WIRE-8] loopback is never locked out; its failures are logged', async (t) => {
  const { gate, warnings } = await gateWithPassword(t)
  for (let i = 0; i < 5; i++) t.equal(await outcome(gate.auth(WRONG, '127.0.0.1')), 'AUTH_FAILED')
  t.equal(await outcome(gate.auth(RIGHT, '::1')), 'ok')
  t.equal(warnings.length, 5)
  t.match(warnings[0], { address: '127.0.0.1' })
})

t.test('[WIRE-8] the lock-out survives a restart (a new gate on the same state directory), in a 0600 file', async (t) => {
  const { gate, clock, stateDir } = await gateWithPassword(t)
  for (let i = 0; i < 3; i++) await outcome(gate.auth(WRONG, PEER))
  t.equal(statSync(join(stateDir, 'admin-lockout.json')).mode & 0o777, 0o600)
  clock.advance(60_000)
  const again = new AdminGate({ stateDir, clock })
  await t.rejects(again.auth(RIGHT, PEER), { code: 'LOCKED_OUT', details: { retryAfterMs: LOCKOUT_MS - 60_000 }, message: /locked for 9 more minute.*server host/ })
  t.equal(await outcome(again.auth(RIGHT, '198.51.100.9')), 'ok')
  clock.advance(LOCKOUT_MS)
  t.equal(await outcome(again.auth(RIGHT, PEER)), 'ok', 'and ends with time')
})

t.test('[WIRE-8] two wrong, restart, one wrong: still three in a row', async (t) => {
  const { gate, clock, stateDir } = await gateWithPassword(t)
  for (let i = 0; i < 2; i++) await outcome(gate.auth(WRONG, PEER))
  const again = new AdminGate({ stateDir, clock })
  t.equal(await outcome(again.auth(WRONG, PEER)), 'LOCKED_OUT')
})
