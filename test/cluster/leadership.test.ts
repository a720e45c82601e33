// The leadership state machine on a fake clock, against an in-memory row that judges expiry by
// the same clock (the database's, in production). The SQL is tested in pg-leadership.test.ts.
import t from 'tap'
import { FakeClock } from '../engine/fake-clock.js'
import { Leadership, checkLeaderTimes, type AcquireResult, type LeadershipDb, type LeadershipState } from '../../lib/cluster/leadership.js'

/** One leader row shared by several nodes; `hold` makes every call of one node hang until released. */
class FakeRow {
  term = 0
  node: string | null = null
  expiresAt = 0
  /** the row says when the holder's term runs out (pg-leadership does) */
  withExpiry = false
  constructor(readonly clock: FakeClock) {}

  port(node: string, ctl: { hang?: boolean; fail?: boolean; pending: Array<() => void> } = { pending: [] }): LeadershipDb & { ctl: typeof ctl } {
    const later = <T>(fn: () => T): Promise<T> => {
      if (ctl.fail) return Promise.reject(new Error('connection refused'))
      if (!ctl.hang) return Promise.resolve(fn())
      return new Promise<T>((resolve) => ctl.pending.push(() => resolve(fn())))
    }
    return {
      ctl,
      acquire: (ttlMs) =>
        later((): AcquireResult => {
          const now = this.clock.now()
          if (this.node === null || this.node === node || this.expiresAt <= now) {
            this.term++
            this.node = node
            this.expiresAt = now + ttlMs
            return { term: String(this.term) }
          }
          return { leader: { node: this.node, address: `${this.node}:1` }, ...(this.withExpiry ? { expiresInMs: this.expiresAt - now } : {}) }
        }),
      renew: (term, ttlMs) =>
        later(() => {
          if (String(this.term) !== term || this.node !== node) return false
          this.expiresAt = this.clock.now() + ttlMs
          return true
        }),
      resign: (term) =>
        later(() => {
          if (String(this.term) !== term || this.node !== node) return
          this.node = null
          this.expiresAt = this.clock.now()
        }),
    }
  }
}

/** Lets resolved promises run: the fake db answers in microtasks. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}

async function run(clock: FakeClock, ms: number, step = 50): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    clock.advance(step)
    await settle()
  }
}

function node(clock: FakeClock, db: LeadershipDb, changes: LeadershipState[] = []): Leadership {
  return new Leadership({ db, clock, ttlMs: 2_000, renewMs: 500, onChange: (s) => changes.push(s) })
}

t.test('[HA-3] one node takes the row, renews it, and a second node stays follower, knowing who leads', async (t) => {
  const clock = new FakeClock()
  const row = new FakeRow(clock)
  const a = node(clock, row.port('a'))
  const b = node(clock, row.port('b'))
  a.start()
  await run(clock, 100)
  b.start()
  await run(clock, 10_000)
  t.equal(a.state.kind, 'leader')
  t.equal(a.term(), '1', 'the term stays while renewals succeed')
  t.ok(a.leading())
  t.same(b.state, { kind: 'follower', leader: { node: 'a', address: 'a:1' } })
  t.equal(b.term(), undefined)
})

t.test('[HA-3] [HA-5] a leader that dies is replaced after the TTL, with a higher term', async (t) => {
  const clock = new FakeClock()
  const row = new FakeRow(clock)
  const a = node(clock, row.port('a'))
  const b = node(clock, row.port('b'))
  a.start()
  await run(clock, 100)
  b.start()
  await run(clock, 1_000)
  a.close() // kill -9: no resign
  const killedAt = clock.now()
  while (b.state.kind !== 'leader') await run(clock, 50)
  t.ok(clock.now() - killedAt <= 2_000 + 500 + 50, `b leads within TTL + one renew period (${clock.now() - killedAt} ms)`)
  t.equal(b.term(), '2')
})

t.test('[HA-5] a standby told when the term runs out tries right then, not at its next tick', async (t) => {
  const clock = new FakeClock()
  const row = new FakeRow(clock)
  row.withExpiry = true
  const a = node(clock, row.port('a'))
  const b = node(clock, row.port('b'))
  a.start()
  await run(clock, 100)
  b.start()
  await run(clock, 1_000, 10)
  a.close()
  const expiry = row.expiresAt
  while (b.state.kind !== 'leader') await run(clock, 5, 5)
  t.ok(clock.now() - expiry <= 30, `b leads ${clock.now() - expiry} ms after the term ran out (a tick is 500 ms)`)
})

t.test('[HA-3] a leader whose renewals stop answering fences itself before the row expires', async (t) => {
  const clock = new FakeClock()
  const row = new FakeRow(clock)
  const port = row.port('a')
  const changes: LeadershipState[] = []
  const a = node(clock, port, changes)
  a.start()
  await run(clock, 100)
  t.equal(a.state.kind, 'leader')
  const lastGood = clock.now() // a renewal just succeeded at most 500 ms ago; none will from now
  port.ctl.hang = true
  await run(clock, 600)
  // the row expires 2,000 ms after the start of the last renewal that went through
  while (a.state.kind === 'leader') await run(clock, 10, 10)
  t.ok(clock.now() < row.expiresAt, `fenced at ${clock.now() - lastGood} ms, before the row expired (${row.expiresAt - lastGood} ms)`)
  t.equal(a.term(), undefined)
  t.notOk(a.leading())
  t.same(changes.map((c) => c.kind), ['leader', 'follower'])
})

t.test('[HA-3] a leader paused past its fence says no at once on waking, before any timer runs', async (t) => {
  const clock = new FakeClock()
  const row = new FakeRow(clock)
  const a = node(clock, row.port('a'))
  a.start()
  await run(clock, 1_000)
  t.ok(a.leading())
  clock.jump(5_000) // SIGSTOP then SIGCONT: time passed, no timer fired
  t.notOk(a.leading(), 'the synchronous check fences')
  t.equal(a.state.kind, 'follower')
})

t.test('[HA-3] the fence counts from when the renewal STARTED, not when its answer came', async (t) => {
  const clock = new FakeClock()
  const row = new FakeRow(clock)
  const port = row.port('a')
  const a = node(clock, port)
  a.start()
  await run(clock, 100)
  port.ctl.hang = true
  while (port.ctl.pending.length === 0) await run(clock, 10, 10) // the next renewal starts and hangs
  const startedAt = clock.now()
  await run(clock, 400, 10)
  port.ctl.pending.shift()!() // its answer comes 400 ms late; every later call hangs
  await settle()
  t.ok(a.leading(), 'the late answer is a success')
  // margin 500 ms: it fences 1,500 ms after the START of the renewal that succeeded
  await run(clock, 1_500 - 400 - 20, 10)
  t.ok(a.leading(), `still leading ${clock.now() - startedAt} ms after the start`)
  await run(clock, 40, 10)
  t.notOk(a.leading(), `fenced ${clock.now() - startedAt} ms after the start, not 1,500 ms after the answer`)
})

t.test('[HA-5] resign gives the row up at once: a standby takes it on its next attempt', async (t) => {
  const clock = new FakeClock()
  const row = new FakeRow(clock)
  const a = node(clock, row.port('a'))
  const b = node(clock, row.port('b'))
  a.start()
  await run(clock, 100)
  b.start()
  await run(clock, 1_000)
  await a.resign()
  t.equal(a.state.kind, 'resigned')
  t.equal(row.node, null)
  b.tick()
  await settle()
  t.equal(b.state.kind, 'leader', 'no need to wait for the TTL')
})

t.test('[HA-7] a database that does not answer: a follower stays follower, a leader fences', async (t) => {
  const clock = new FakeClock()
  const row = new FakeRow(clock)
  const port = row.port('a')
  const errors: string[] = []
  const a = new Leadership({ db: port, clock, ttlMs: 2_000, renewMs: 500, onChange: () => {}, onError: (_e, at) => errors.push(at) })
  port.ctl.fail = true
  a.start()
  await run(clock, 1_000)
  t.equal(a.state.kind, 'follower')
  port.ctl.fail = false
  await run(clock, 600)
  t.equal(a.state.kind, 'leader')
  port.ctl.fail = true
  await run(clock, 2_000)
  t.equal(a.state.kind, 'follower')
  t.ok(errors.includes('acquire') && errors.includes('renew'), 'failures are reported, not thrown')
  port.ctl.fail = false
  await run(clock, 3_000)
  t.equal(a.state.kind, 'leader', 'it comes back by itself when the database does')
  t.equal(a.term(), '2')
})

t.test('[HA-3] --leader-renew must be under half of --leader-ttl', async (t) => {
  t.equal(checkLeaderTimes(5_000, 1_000), undefined)
  t.match(checkLeaderTimes(2_000, 1_000), /--leader-renew/)
  t.match(checkLeaderTimes(0, 1), /positive/)
  t.throws(() => node(new FakeClock(), new FakeRow(new FakeClock()).port('a')) && new Leadership({ db: {} as LeadershipDb, clock: new FakeClock(), ttlMs: 1_000, renewMs: 600, onChange: () => {} }), RangeError)
})
